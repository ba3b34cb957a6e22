"""Every curl a boot script runs is bounded, and one that follows redirects stays on https (TLS 1.2 or later).

curl has no timeout of its own: a server that accepts the connection and then sends nothing holds a try forever, so
``mmb_retry``'s count bounds nothing. Read from the scripts as shipped, so a call site added later is held to it too."""

from __future__ import annotations

import re
import shlex
from importlib import resources
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import script_path

SCRIPTS = sorted(p.name for p in resources.files("mmbatch_cdk.user_data").iterdir() if p.name.endswith(".sh"))


def curl_calls(text: str) -> list[list[str]]:
    """The words of each curl command in a script (continuation lines joined, comments left out)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    calls = []
    for line in joined.splitlines():
        code = line.split(" #", 1)[0]
        if code.lstrip().startswith("#"):
            continue
        for match in re.finditer(r"(?:^|[\s;(|&])curl\s", code):
            words = shlex.split(code[match.end():].split(";")[0].split(")")[0], posix=True)
            calls.append(words)
    return calls


def problems(words: list[str]) -> list[str]:
    found = [f"no {option}" for option in ("--connect-timeout", "--max-time") if option not in words]
    follows_redirects = any(w.startswith("-") and not w.startswith("--") and "L" in w for w in words)
    if follows_redirects and ("--proto" not in words or words[words.index("--proto") + 1] != "=https"):
        found.append("follows redirects without --proto =https")
    if follows_redirects and "--tlsv1.2" not in words:
        found.append("follows redirects without --tlsv1.2")
    return found


@pytest.mark.parametrize("name", [n for n in SCRIPTS if curl_calls(Path(script_path(n)).read_text())])
def test_every_curl_is_bounded_and_https_only_where_it_follows_redirects(name: str) -> None:
    for words in curl_calls(Path(script_path(name)).read_text()):
        assert problems(words) == [], f"{name}: curl {' '.join(words)}"


def test_the_rule_finds_an_unbounded_download_and_a_redirect_to_http() -> None:
    [unbounded] = curl_calls("mmb_retry 5 30 curl -fsSL --proto '=https' --tlsv1.2 -o \"$pkg\" \"$url\"\n")
    assert problems(unbounded) == ["no --connect-timeout", "no --max-time"]
    [plain] = curl_calls('code="$(curl -fsSL --connect-timeout 5 --max-time 30 -o x "$u")"\n# curl -s in a comment\n')
    assert problems(plain) == ["follows redirects without --proto =https", "follows redirects without --tlsv1.2"]


def test_the_reader_finds_all_six_curl_calls_of_the_scripts() -> None:
    """Guards the reader: a rewrite that hid curl from it (say, behind a variable) would pass the rule above vacuously."""
    assert sum(len(curl_calls(Path(script_path(n)).read_text())) for n in SCRIPTS) == 6
