"""Run boot scripts for real in a temporary root, with recorded stand-ins for system commands."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

# Each stand-in logs "name args..." to $STANDIN_LOG, then does what its body says.
_RECORD = 'printf \'%s\\n\' "$(basename "$0") $*" >>"$STANDIN_LOG"\n'

CLOCK_START = 1_800_000_000
"""Where the stand-in clock starts (seconds since the epoch): `date +%s` reads it, `sleep N` moves it on by N."""

# Stand-ins that answer without being recorded: they are called for every log line or lookup.
SILENT: dict[str, str] = {
    # date: "+%s" reads the stand-in clock; anything else is the real date.
    "date": 'if [ "$*" = "+%s" ]; then cat "$STANDIN_CLOCK"; else PATH=/usr/bin:/bin exec date "$@"; fi\n',
    # uname: "-m" reports $STANDIN_ARCH (default x86_64).
    "uname": 'if [ "$*" = "-m" ]; then echo "${STANDIN_ARCH:-x86_64}"; else PATH=/usr/bin:/bin exec uname "$@"; fi\n',
}

STANDINS: dict[str, str] = {
    # sleep: returns at once, moving the stand-in clock on.
    "sleep": 'echo $(($(cat "$STANDIN_CLOCK") + $1)) >"$STANDIN_CLOCK"\n',
    "dnf": "",
    # timeout: recorded (so tests see each bound), then the real one.
    "timeout": 'PATH="$(dirname "$0"):$PATH" exec /usr/bin/timeout "$@"\n',
    # mount: fails $STANDIN_MOUNT_FAILS times, then succeeds.
    "mount": (
        'c="$STANDIN_LOG.mount"; n=$(cat "$c" 2>/dev/null || echo 0); echo $((n + 1)) >"$c"\n'
        '[ "$n" -ge "${STANDIN_MOUNT_FAILS:-0}" ]\n'
    ),
    "snap": "",
    "apt-get": "",
    # systemctl: "enable" fails when $STANDIN_SYSTEMCTL_ENABLE_FAILS is set (a unit that does not start).
    "systemctl": '[ "$1" != enable ] || [ -z "${STANDIN_SYSTEMCTL_ENABLE_FAILS:-}" ]\n',
    "shutdown": "",
    "mount.efs": "",
    "dpkg": "",
    # amazon-cloudwatch-agent-ctl: fails while $STANDIN_CWA_FAILS is set.
    "amazon-cloudwatch-agent-ctl": '[ -z "${STANDIN_CWA_FAILS:-}" ]\n',
    # rpm: reports $STANDIN_RPM_VERSION (default 2.1.0) as the version of any package queried.
    "rpm": 'printf \'%s\' "${STANDIN_RPM_VERSION-2.1.0}"\n',
    # mountpoint: "not mounted" unless $STANDIN_MOUNTED names the path, or the stand-in clock has moved on by
    # $STANDIN_MOUNTED_AFTER seconds.
    "mountpoint": (
        'if [ -n "${STANDIN_MOUNTED_AFTER:-}" ]; then\n'
        '  [ $(($(cat "$STANDIN_CLOCK") - 1800000000)) -ge "$STANDIN_MOUNTED_AFTER" ]; exit; fi\n'
        '[ "${STANDIN_MOUNTED:-}" = "${@: -1}" ]\n'
    ),
    # curl: fails $STANDIN_CURL_FAILS times, then serves the URL's file name from $STANDIN_CURL_DIR when
    # there is one, else writes $STANDIN_CURL_BODY, to the -o file. With -w (the status), the Nth such call
    # prints the Nth word of $STANDIN_HTTP_CODES (the last word repeats; default 200), or 000 when failing.
    "curl": (
        'count_file="$STANDIN_LOG.curl"; n=$(cat "$count_file" 2>/dev/null || echo 0); echo $((n + 1)) >"$count_file"\n'
        'status=""; case " $* " in *" -w "*) c="$STANDIN_LOG.http"; k=$(cat "$c" 2>/dev/null || echo 0); echo $((k + 1)) >"$c"\n'
        '  read -r -a codes <<<"${STANDIN_HTTP_CODES:-200}"; status=${codes[k]:-${codes[-1]}} ;; esac\n'
        'if [ "$n" -lt "${STANDIN_CURL_FAILS:-0}" ]; then [ -z "$status" ] || printf 000; exit 7; fi\n'
        'url="${@: -1}"; out=""; while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out=$2; shift; fi; shift; done\n'
        'served="${STANDIN_CURL_DIR:-/nonexistent}/${url##*/}"\n'
        'if [ -f "$served" ]; then cp "$served" "$out"; elif [ -n "$out" ]; then printf \'%s\' "${STANDIN_CURL_BODY:-}" >"$out"; fi\n'
        'printf \'%s\' "$status"\n'
    ),
    # aws: memorydb answers "available <endpoint>" after $STANDIN_MEMORYDB_PENDING "creating" answers;
    # secretsmanager prints $STANDIN_SECRET; s3 cp copies the source's file name from $STANDIN_CURL_DIR when there
    # is one, else writes $STANDIN_CURL_BODY, to its destination.
    "aws": (
        'case "$1" in\n'
        '  memorydb) c="$STANDIN_LOG.memorydb"; n=$(cat "$c" 2>/dev/null || echo 0); echo $((n + 1)) >"$c"\n'
        '    if [ "$n" -lt "${STANDIN_MEMORYDB_PENDING:-0}" ]; then printf \'creating\\tNone\\n\'; exit 0; fi\n'
        '    while [ $# -gt 0 ]; do [ "$1" = "--cluster-name" ] && name=$2; shift; done\n'
        '    printf \'available\\tclustercfg.%s.abc123.memorydb.eu-west-1.amazonaws.com\\n\' "$name" ;;\n'
        '  secretsmanager) printf \'%s\\n\' "${STANDIN_SECRET:-}" ;;\n'
        '  s3) src="${@: -2:1}"; served="${STANDIN_CURL_DIR:-/nonexistent}/${src##*/}"\n'
        '    if [ -f "$served" ]; then cp "$served" "${@: -1}"\n'
        '    else printf \'%s\' "${STANDIN_CURL_BODY:-}" >"${@: -1}"; fi ;;\n'
        'esac\n'
    ),
    # unzip -q ZIP -d DIR: extracts with Python's zipfile, keeping the members' permission bits.
    "unzip": (
        'python3 - "$2" "$4" <<\'PY\'\n'
        'import os, sys, zipfile\n'
        'with zipfile.ZipFile(sys.argv[1]) as z:\n'
        '    for info in z.infolist():\n'
        '        path = z.extract(info, sys.argv[2])\n'
        '        mode = info.external_attr >> 16\n'
        '        if mode:\n'
        '            os.chmod(path, mode & 0o7777)\n'
        'PY\n'
    ),
    # iptables: -I fails while $STANDIN_NO_DOCKER_USER is set (no such chain); -C finds a rule once one was inserted
    # (remembered beside $STANDIN_LOG).
    "iptables": (
        'case "$1" in\n'
        '  -C) [ -e "$STANDIN_LOG.iptables" ] ;;\n'
        '  -I) [ -z "${STANDIN_NO_DOCKER_USER:-}" ] && touch "$STANDIN_LOG.iptables" ;;\n'
        'esac\n'
    ),
    # juicefs: "status" fails $STANDIN_JUICEFS_UNFORMATTED times; records META_PASSWORD's presence;
    # "--version" prints $STANDIN_JUICEFS_VERSION.
    "juicefs": (
        'if [ "$1" = "--version" ]; then echo "${STANDIN_JUICEFS_VERSION:-}"; exit 0; fi\n'
        'printf \'%s META_PASSWORD=%s\\n\' "$1" "${META_PASSWORD:+set}" >>"$STANDIN_LOG.env"\n'
        'if [ "$1" = "status" ]; then c="$STANDIN_LOG.status"; n=$(cat "$c" 2>/dev/null || echo 0); echo $((n + 1)) >"$c"\n'
        '  [ "$n" -ge "${STANDIN_JUICEFS_UNFORMATTED:-0}" ] || exit 1; fi\n'
        'if [ "$1" = "format" ] && [ -n "${STANDIN_FORMAT_FAILS:-}" ]; then exit 1; fi\n'
    ),
}


@dataclass
class Run:
    """The outcome of one script run."""

    returncode: int
    stdout: str
    stderr: str
    root: Path
    calls: list[str]
    waited: int
    """Seconds the stand-in clock moved on (the script's sleeps)."""

    def file(self, path: str) -> str:
        """A file's text inside the temporary root."""
        return (self.root / path.lstrip("/")).read_text()


def make_root(tmp: Path, omit: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A temporary root and a bin directory of stand-ins (minus ``omit``)."""
    root, bin_dir = tmp / "root", tmp / "bin"
    root.mkdir(parents=True, exist_ok=True)
    bin_dir.mkdir(parents=True, exist_ok=True)
    scripts = {**{name: _RECORD + body for name, body in STANDINS.items()}, **SILENT}
    for name, body in scripts.items():
        if name in omit:
            continue
        path = bin_dir / name
        path.write_text("#!/bin/bash\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return root, bin_dir


def run_script(
    script: str,
    tmp: Path,
    env: Optional[Mapping[str, str]] = None,
    omit: tuple[str, ...] = (),
    root: Optional[Path] = None,
    args: tuple[str, ...] = (),
    path: Optional[Path] = None,
) -> Run:
    """Write ``script`` to a file and run it with bash inside a temporary root (re-used if ``root`` is given).

    ``path`` runs an existing file (for example one a script installed in the root) instead of ``script``.
    The root gets a ``dev/`` directory, so ``/dev/console`` writes land in ``root/dev/console``.
    """
    new_root, bin_dir = make_root(tmp, omit)
    root = root or new_root
    (root / "dev").mkdir(exist_ok=True)
    log = tmp / "calls.log"
    clock = tmp / "clock"
    clock.write_text(f"{CLOCK_START}\n")
    if path is None:
        path = tmp / "script.sh"
        path.write_text(script)
    full_env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp),
        "MMB_ROOT": str(root),
        "STANDIN_LOG": str(log),
        "STANDIN_CLOCK": str(clock),
        **(env or {}),
    }
    proc = subprocess.run(["bash", str(path), *args], env=full_env, capture_output=True, text=True, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    waited = int(clock.read_text()) - CLOCK_START
    return Run(proc.returncode, proc.stdout, proc.stderr, root, calls, waited)
