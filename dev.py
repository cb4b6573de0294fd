#!/usr/bin/env python3
"""One-command setup for GemTune Desktop development.

    python3 dev.py run        set up .venv (first time or after pyproject.toml changes) and open the app
    python3 dev.py test       set up .venv and run the whole test suite (offscreen)
    python3 dev.py lint       ruff + mypy + the layer contracts (import-linter)
    python3 dev.py bench      run every benchmark and print the table of ratios
    python3 dev.py build      build the packaged app for this platform (PyInstaller)
    python3 dev.py screenshots  regenerate the README screenshots

Needs only Python 3.11+; everything else is installed into ./.venv from PyPI.
Extra arguments after the command go to the tool (e.g. ``python3 dev.py test -k dataset``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".gemtune-setup"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def setup(extras: str = "test") -> Path:
    if sys.version_info < (3, 11):
        sys.exit(f"GemTune Desktop needs Python 3.11 or newer (this is {sys.version.split()[0]}).")
    if not venv_python().exists():
        print("Creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + (ROOT / "setup.py").read_bytes()
                          + extras.encode()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != want:
        print("Installing dependencies into .venv (first run takes a minute) …", flush=True)
        py = str(venv_python())
        _quiet([py, "-m", "pip", "install", "--upgrade", "pip"])
        _quiet([py, "-m", "pip", "install", "-e", f".[{extras}]"])
        STAMP.write_text(want)
        print("Dependencies installed.", flush=True)
    return venv_python()


def _quiet(cmd: list[str]) -> None:
    """Run a setup step; its output (pip's build chatter) goes to .venv/setup.log and is shown only on failure."""
    log = VENV / "setup.log"
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        code = subprocess.call(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1"))
    if code:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        sys.exit(f"Setting up .venv failed (exit {code}); the full output is in {log}.")


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    rest = sys.argv[2:]
    if command == "run":
        py = setup()
        # Missing system libraries for Qt's X11 plugin: name them and the install command, before Qt aborts.
        if subprocess.call([str(py), "-m", "gemtune_desktop.platform_check"], cwd=ROOT):
            return 1
        return subprocess.call([str(py), "-m", "gemtune_desktop", *rest], cwd=ROOT)
    if command == "test":
        py = setup()
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        # Two pytest workers per core (pytest-xdist; many tests wait on a subprocess, a socket or a timer), unless
        # the caller chose (-n …, -p no:xdist). On two cores: 149 s, against 207 s with one worker per core.
        chose = any(a.startswith(("-n", "--numprocesses")) or "xdist" in a for a in rest)
        workers = [] if chose else ["-n", str(max(1, min(2 * (os.cpu_count() or 1), 8)))]
        return subprocess.call([str(py), "-m", "pytest", *workers, *rest], cwd=ROOT, env=env)
    if command == "lint":
        py = setup()
        code = subprocess.call([str(py), "-m", "ruff", "check", "gemtune_desktop", "tests", "benchmarks", "scripts"],
                               cwd=ROOT)
        code = code or subprocess.call([str(py), "-m", "mypy"], cwd=ROOT)
        return code or subprocess.call([str(py), "-c", "import sys; from importlinter.cli import "
                                        "lint_imports_command; sys.exit(lint_imports_command())"], cwd=ROOT)
    if command == "bench":
        py = setup()
        return subprocess.call([str(py), str(ROOT / "benchmarks" / "run_all.py"), *rest], cwd=ROOT)
    if command == "build":
        py = setup("test,build")
        return subprocess.call([str(py), str(ROOT / "packaging" / "build.py"), *rest], cwd=ROOT)
    if command == "screenshots":
        py = setup()
        return subprocess.call([str(py), str(ROOT / "scripts" / "screenshots.py"), *rest], cwd=ROOT)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
