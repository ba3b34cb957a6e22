"""Debian packages some tests run for real (redis-server, cloud-init, groovy with a JRE, Typesafe Config, systemd), and
test asks for one.

``@pytest.mark.needs_deb("redis-server")``: without the package the test is skipped with a reason naming it; with
``MMBATCH_REQUIRE_REAL=1`` (set by .ci/run, which installs them) it fails instead, so CI cannot skip it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

REQUIRE_REAL = "MMBATCH_REQUIRE_REAL"
"""Environment variable: ``1`` turns a missing package into a failure."""

SYSTEM_PYTHON = "/usr/bin/python3"
"""Debian's Python, where Debian's cloud-init lives (not the project's venv)."""

TYPESAFE_CONFIG_JAR = "/usr/share/java/typesafe-config.jar"
"""Where Debian's ``libtypesafe-config-java`` puts the Typesafe Config library (a link to the versioned jar)."""


@functools.cache
def java_home() -> str | None:
    """A JAVA_HOME for groovy: the environment's, else Debian's default-java, else any JVM under /usr/lib/jvm."""
    candidates = [os.environ.get("JAVA_HOME", ""), "/usr/lib/jvm/default-java", *sorted(map(str, Path("/usr/lib/jvm").glob("*")))]
    return next((c for c in candidates if c and (Path(c) / "bin" / "java").is_file()), None)


def _cloud_init() -> bool:
    if not Path(SYSTEM_PYTHON).is_file():
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import cloudinit.user_data"], capture_output=True, timeout=30).returncode == 0


PROBES = {
    "redis-server": lambda: shutil.which("redis-server") is not None,
    "cloud-init": _cloud_init,
    "groovy": lambda: shutil.which("groovy") is not None,
    "default-jre-headless": lambda: java_home() is not None,
    "libtypesafe-config-java": lambda: Path(TYPESAFE_CONFIG_JAR).is_file(),
    "systemd": lambda: shutil.which("systemd-analyze") is not None,
    # Not a package: the kernel's FUSE device, which juicefs mount opens itself when run as root (no fusermount).
    "fuse": lambda: os.access("/dev/fuse", os.R_OK | os.W_OK),
}
"""How to tell each package is installed."""


@functools.cache
def installed(package: str) -> bool:
    """Whether the Debian package ``package`` (a key of :data:`PROBES`) is usable here."""
    return PROBES[package]()
