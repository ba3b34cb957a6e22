"""Every curl a boot script runs is bounded, and one that follows redirects stays on https (TLS 1.2 or later).

curl has no timeout of its own: a server that accepts the connection and then sends nothing holds a try forever, so
``mmb_retry``'s count bounds nothing. Read from the scripts as shipped, so a call site added later is held to it too
(the reader's own test checks that every mention of curl outside a comment is a call it reads)."""

from __future__ import annotations

import re
import shlex
from importlib import resources
from pathlib import Path

import pytest

from mmbatch_cdk.user_data import script_path

SCRIPTS = sorted(p.name for p in resources.files("mmbatch_cdk.user_data").iterdir() if p.name.endswith(".sh"))


def _code_lines(text: str) -> list[str]:
    """The script's lines with continuations joined and comments left out."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.split(" #", 1)[0] for line in joined.splitlines() if not line.lstrip().startswith("#")]


def curl_calls(text: str) -> list[list[str]]:
    """The words of each curl command in a script: from ``curl`` (by any path) to the end of that command (a ``;``,
    ``&&``, ``||``, ``|``, ``)`` or the line's end)."""
    calls = []
    for code in _code_lines(text):
        code = re.sub(r'"\$\((.*)\)"', r" ( \1 ) ", code)  # a quoted command substitution: read the command inside
        lexer = shlex.shlex(code, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        for n, word in enumerate(words):
            if word.rsplit("/", 1)[-1] == "curl" or word.endswith("=curl"):
                call = []
                for following in words[n + 1:]:
                    if following in (";", "&&", "||", "|", ")", "&"):
                        break
                    call.append(following)
                calls.append(call)
    return calls


def problems(words: list[str]) -> list[str]:
    found = [f"no {option}" for option in ("--connect-timeout", "--max-time") if option not in words]
    follows_redirects = "--location" in words or any(w.startswith("-") and not w.startswith("--") and "L" in w for w in words)
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
    first, second = curl_calls('/usr/bin/curl -fsS -o a "$u" && curl --location --connect-timeout 1 --max-time 2 -o b "$v"\n')
    assert problems(first) == ["no --connect-timeout", "no --max-time"]  # the second call's options are not the first's
    assert "follows redirects without --tlsv1.2" in problems(second)
    [unit] = curl_calls("ExecStart=curl -fsS -o /x https://h/y\n")
    assert problems(unit) == ["no --connect-timeout", "no --max-time"]


def test_the_reader_finds_every_curl_in_the_scripts() -> None:
    """Each non-comment mention of curl is a call the rule reads: none hides from it (behind a variable, say)."""
    for name in SCRIPTS:
        text = Path(script_path(name)).read_text()
        mentions = sum(len(re.findall(r"\bcurl\b", code)) for code in _code_lines(text))
        assert len(curl_calls(text)) == mentions, name
    assert sum(len(curl_calls(Path(script_path(n)).read_text())) for n in SCRIPTS) == 3  # mmb_download and two more
