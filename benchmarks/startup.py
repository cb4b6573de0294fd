"""Start-up benchmark: process start → main window first painted, the app vs a bare PySide6 window.

The app's window is painted first with its menus, tab bar, status bar and an "Opening…" tab; the
shown tab is built and the last project opened just after. Both moments are reported: the first
paint (the goal) and "ready", the shown tab's first paint with the project in it.

Both are started as fresh processes, interleaved, several times each (after one warm-up of
each), and print the wall-clock time of their main window's first paint event; the time is
measured from just before the process is started. The floor is a bare ``QMainWindow`` with
a ``QTabWidget`` of four empty tabs, the same size as the app's window.

Runs under its own Xvfb (display :92 or the next free one) when Xvfb is installed, else with
``QT_QPA_PLATFORM=offscreen``. Prints one line per run, the medians, and::

    RESULT startup ratio=<app median / bare median> goal=1.3
    RESULT startup_cpu ratio=<the same for CPU seconds used by the first paint> goal=1.3

Usage: ``python benchmarks/startup.py [--runs 7] [--display :N | --offscreen]``
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.3
TIMEOUT_S = 60

BARE_WINDOW = """
import os, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget, QWidget

class Watch(QObject):
    done = False
    def eventFilter(self, obj, event):
        if not self.done and obj is window and event.type() == QEvent.Type.Paint:
            self.done = True
            print(f"GEMTUNE_FIRST_PAINT {time.time():.6f} {time.process_time():.6f}", flush=True)
        return False

app = QApplication(sys.argv)
window = QMainWindow()
window.setWindowTitle("bare")
tabs = QTabWidget(window)
for name in ("Dataset", "Tune", "Monitor", "Test"):
    tabs.addTab(QWidget(), name)
window.setCentralWidget(tabs)
window.resize(1200, 780)
watch = Watch()
window.installEventFilter(watch)
window.show()
QTimer.singleShot(int(os.environ.get("GEMTUNE_EXIT_AFTER_SHOW", "300")), app.quit)
sys.exit(app.exec())
"""


def start_xvfb(first: int = 92) -> tuple[subprocess.Popen[bytes] | None, str]:
    """Start our own Xvfb on a free display number; (process, ":N")."""
    if shutil.which("Xvfb") is None:
        return None, ""
    for number in range(first, first + 20):
        if Path(f"/tmp/.X{number}-lock").exists() or Path(f"/tmp/.X11-unix/X{number}").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                return proc, f":{number}"
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.terminate()
    return None, ""


def one_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds from just before the process starts to its first paint, the CPU seconds it used by
    then, and wall seconds to "ready" (the app's shown tab painted with the last project; the bare
    window has nothing more to show, so its ready time is its first paint)."""
    t0 = time.time()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S)
    marks = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()
             if line.startswith(("GEMTUNE_FIRST_PAINT ", "GEMTUNE_READY "))}
    if "GEMTUNE_FIRST_PAINT" not in marks:
        raise RuntimeError(f"{cmd[-1]} printed no first-paint line (exit {proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    first = marks["GEMTUNE_FIRST_PAINT"]
    ready = marks.get("GEMTUNE_READY", first)
    return float(first[0]) - t0, float(first[1]), float(ready[0]) - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs of each (default 7)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--display", default="", help="use this X display instead of starting Xvfb")
    where.add_argument("--offscreen", action="store_true", help="use QT_QPA_PLATFORM=offscreen")
    args = parser.parse_args(argv)

    xvfb: subprocess.Popen[bytes] | None = None
    # Python writes no .pyc files when PYTHONDONTWRITEBYTECODE is set to anything (even "0"): then
    # every edited module would be compiled from source on every run. An installed app has its
    # .pyc files (pip compiles them), so the package is compiled once here and the variable dropped.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QT_", "GEMTUNE_")) and k != "PYTHONDONTWRITEBYTECODE"}
    compileall.compile_dir(str(ROOT / "gemtune_desktop"), quiet=1)
    if args.offscreen:
        env["QT_QPA_PLATFORM"] = "offscreen"
        platform = "offscreen"
    else:
        display = args.display
        if not display:
            xvfb, display = start_xvfb()
        if display:
            env["DISPLAY"] = display
            env["QT_QPA_PLATFORM"] = "xcb"
            platform = f"Xvfb {display}"
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
            platform = "offscreen (no Xvfb)"
    home = tempfile.mkdtemp(prefix="gemtune-startup-")
    env.update({"GEMTUNE_HOME": home, "GEMTUNE_NO_WELCOME": "1", "GEMTUNE_EXIT_AFTER_SHOW": "300",
                "GEMTUNE_REPORT_FIRST_PAINT": "1"})
    app_cmd = [sys.executable, "-m", "gemtune_desktop"]
    bare_cmd = [sys.executable, "-c", BARE_WINDOW]
    app_times: list[tuple[float, float, float]] = []
    bare_times: list[tuple[float, float, float]] = []
    try:
        one_run(app_cmd, env)  # warm-up: page cache, .pyc files, the app's settings file
        one_run(bare_cmd, env)
        for i in range(args.runs):
            # Interleaved, alternating which goes first, so drift affects both alike.
            order = [(app_cmd, app_times), (bare_cmd, bare_times)]
            for cmd, times in order if i % 2 == 0 else reversed(order):
                times.append(one_run(cmd, env))
            (app_wall, app_cpu, app_ready), (bare_wall, bare_cpu, _) = app_times[-1], bare_times[-1]
            print(f"run {i + 1}: app {app_wall * 1000:7.1f} ms (CPU {app_cpu * 1000:6.1f} ms, "
                  f"ready {app_ready * 1000:7.1f} ms)   "
                  f"bare {bare_wall * 1000:7.1f} ms (CPU {bare_cpu * 1000:6.1f} ms)", flush=True)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(home, ignore_errors=True)
    app_wall = statistics.median(t[0] for t in app_times)
    bare_wall = statistics.median(t[0] for t in bare_times)
    app_cpu = statistics.median(t[1] for t in app_times)
    bare_cpu = statistics.median(t[1] for t in bare_times)
    app_ready = statistics.median(t[2] for t in app_times)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"platform: {platform}; runs: {args.runs} each, interleaved, after one warm-up; "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    print(f"median process start → first paint: app {app_wall * 1000:.1f} ms, "
          f"bare PySide6 window {bare_wall * 1000:.1f} ms")
    print(f"median CPU time used by the first paint: app {app_cpu * 1000:.1f} ms, bare {bare_cpu * 1000:.1f} ms "
          "(less sensitive to other load on the machine)")
    print(f"RESULT startup ratio={app_wall / bare_wall:.2f} goal={GOAL}")
    print(f"RESULT startup_cpu ratio={app_cpu / bare_cpu:.2f} goal={GOAL}")
    print(f"median process start → ready (Dataset tab built, last project open, painted): {app_ready * 1000:.1f} ms")
    print(f"RESULT startup_ready ratio={app_ready / bare_wall:.2f} "
          "(no goal: the window is shown first, its tab follows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
