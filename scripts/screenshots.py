"""Regenerate the README screenshots and the guide's pictures from the real app.

    python3 dev.py screenshots                      # under Xvfb when it is installed, else offscreen
    .venv/bin/python scripts/screenshots.py --platform offscreen
    .venv/bin/python scripts/screenshots.py --display :96     # a fixed Xvfb display number

Opens the main window on the shipped sample (``resources/samples/number-sequence.csv``) with the
Sandbox connection and app folders in a temporary directory (the user's own settings and projects
are never touched), starts a Sandbox tuning job when the Tune tab can, waits for the Monitor and
Test tabs to have content, evaluates the tuned model against its base (scores, then a judge with a
rubric), sweeps temperature × top-p, reviews the answers blind (each vote a preference example), sets the
Tune tab for preference tuning from the job's checkpoint, and saves one PNG per tab and page plus the
welcome dialog into ``docs/screenshots/``. The tab pictures are also copied, scaled, into ``resources/guide/images/``
for the offline guide.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
GUIDE_IMAGES: Path | None = ROOT / "resources" / "guide" / "images"
SAMPLE = ROOT / "resources" / "samples" / "number-sequence.csv"
WINDOW_SIZE = (1280, 800)
GUIDE_WIDTH = 960
CHILD_FLAG = "GEMTUNE_SCREENSHOTS_CHILD"


# -- running under Xvfb -------------------------------------------------------------------------
def run_under_xvfb(display: str | None, argv: list[str]) -> int:
    """Start Xvfb (on ``display`` or a free one), rerun this script inside it, stop Xvfb."""
    with tempfile.TemporaryDirectory() as tmp:
        display_file = Path(tmp) / "display"
        command = ["Xvfb", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"]
        with display_file.open("w") as handle:
            if display:
                proc = subprocess.Popen([*command[:1], display, *command[1:]], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                number = display.lstrip(":")
            else:
                proc = subprocess.Popen([*command, "-displayfd", str(handle.fileno())], pass_fds=(handle.fileno(),),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                number = ""
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if not display:
                    number = display_file.read_text().strip()
                if number and Path(f"/tmp/.X11-unix/X{number}").exists():
                    break
                if proc.poll() is not None:
                    print(f"Xvfb could not start on {display or 'a free display'}.", file=sys.stderr)
                    return 1
                time.sleep(0.05)
            env = dict(os.environ, DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb", **{CHILD_FLAG: "1"})
            env.pop("WAYLAND_DISPLAY", None)
            return subprocess.call([sys.executable, str(Path(__file__).resolve()), *argv], env=env)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


# -- waiting without freezing the event loop ----------------------------------------------------
def pump(app: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def wait_for(app: Any, condition: Callable[[], Any], timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        try:
            if condition():
                return True
        except Exception:  # the widget being polled is still being built
            pass
        time.sleep(0.05)
    print(f"  note: gave up waiting for {what} after {timeout:.0f} s", file=sys.stderr)
    return False


def save(widget: Any, name: str, guide: bool = False) -> Path:
    from PySide6.QtCore import Qt

    OUT.mkdir(parents=True, exist_ok=True)
    pixmap = widget.grab()
    path = OUT / f"{name}.png"
    if not pixmap.save(str(path), "PNG"):
        raise RuntimeError(f"could not write {path}")
    if guide and GUIDE_IMAGES is not None:
        GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
        scaled = pixmap.scaledToWidth(min(GUIDE_WIDTH, pixmap.width()), Qt.TransformationMode.SmoothTransformation)
        scaled.save(str(GUIDE_IMAGES / f"{name}.png"), "PNG")
    print(f"  saved {path} ({pixmap.width()}×{pixmap.height()})")
    return path


# -- driving the tabs ----------------------------------------------------------------------------
def find_button(widget: Any, *needles: str) -> Any:
    """The first enabled, visible push button whose object name or text contains one of ``needles``."""
    from PySide6.QtWidgets import QAbstractButton

    for button in widget.findChildren(QAbstractButton):
        label = f"{button.objectName()} {button.text()}".lower().replace("&", "")
        if any(n in label for n in needles) and button.isEnabled() and button.isVisibleTo(widget):
            return button
    return None


def accept_questions(app: Any) -> Any:
    """A timer that answers "yes" to any question box (e.g. "start despite warnings?") while it runs."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def answer() -> None:
        for top in QApplication.topLevelWidgets():
            if isinstance(top, QMessageBox) and top.isVisible():
                for button in top.buttons():
                    if top.buttonRole(button) in (QMessageBox.ButtonRole.AcceptRole, QMessageBox.ButtonRole.YesRole):
                        print(f"  answered “{button.text()}” to “{top.text().splitlines()[0][:70]}”")
                        button.click()
                        return

    timer = QTimer()
    timer.setInterval(200)
    timer.timeout.connect(answer)
    timer.start()
    return timer


def start_sandbox_job(app: Any, window: Any) -> bool:
    """Start a tuning job on the Sandbox through the Tune tab's own Start button, as a user would."""
    from gemtune_desktop.ui.tune.tab import TuneTab

    tune = window.ensure_tab("tune")
    assert isinstance(tune, TuneTab)
    window.show_tab("tune")
    pump(app, 1.0)
    button = tune.run.start_button
    if not wait_for(app, button.isEnabled, 20, "the Start button to be enabled"):
        print(f"  note: cannot start a job: {tune.run.start_reason.text()}", file=sys.stderr)
        return False
    keeper = accept_questions(app)
    button.click()
    started = wait_for(app, tune.run.monitor_button.isVisible, 30, "the job to be submitted")
    keeper.stop()
    return started


def select_row(app: Any, tab: Any, row: int, what: str) -> None:
    """Select ``row`` in the first table of ``tab`` (the detail panes then show that item)."""
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QAbstractItemView

    views = [v for v in tab.findChildren(QAbstractItemView) if v.isVisibleTo(tab) and v.model() is not None]
    if not views:
        return
    view = views[0]
    if not wait_for(app, lambda: view.model().rowCount() > row, 20, what):
        return
    index = view.model().index(row, 0)
    view.selectionModel().setCurrentIndex(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)


def show_the_job(app: Any, window: Any, train_seconds: float) -> None:
    """On the Monitor tab: the job selected once it has finished, with its whole curve drawn."""
    from gemtune_desktop.ui.monitor.tab import MonitorTab

    monitor = window.ensure_tab("monitor")
    assert isinstance(monitor, MonitorTab)
    pump(app, min(train_seconds, 1.0))
    jobs = monitor.jobs
    jobs.refresh_button.click()
    wait_for(app, lambda: jobs.model.rowCount() > 0, 20, "the job to appear on the Monitor tab")
    select_row(app, monitor, 0, "the job to appear on the Monitor tab")
    job = jobs.model.job_at(0)

    def curve_complete() -> bool:
        record = jobs.model.job(job.id) if job is not None else None
        plot = monitor.plot_area.plot
        return bool(record and record.state.ended and plot is not None and record.total_steps
                    and plot.curve_points(record.id) >= record.total_steps
                    and record.id not in monitor.poller.watched())

    wait_for(app, curve_complete, 60, "the job to finish with its whole curve")


def try_the_model(app: Any, window: Any, job_started: bool) -> None:
    """On the Test tab: pick the tuned model (via Monitor's "Open in Test tab") and send one prompt."""
    monitor = window.tab_widgets["monitor"]
    if job_started:
        # The tuned model exists once the job has succeeded: wait for Monitor's "Open in Test tab".
        wait_for(app, lambda: find_button(monitor, "open in test") is not None, 60, "the job to finish")
        opener = find_button(monitor, "open in test")
        if opener is not None:
            opener.click()
    from gemtune_desktop.ui.playground.tab import PlaygroundTab

    window.show_tab("test")
    playground = window.ensure_tab("test")
    assert isinstance(playground, PlaygroundTab)
    wait_for(app, lambda: bool(playground.catalog.base_models), 20, "the models to be listed")
    prompt, send = playground.console.prompt, playground.console.send_button
    prompt.setPlainText("thirteen")
    if wait_for(app, send.isEnabled, 20, "the Send button to be enabled"):
        send.click()
        wait_for(app, lambda: not send.isEnabled(), 2, "the request to start")
        wait_for(app, send.isEnabled, 30, "the answer")
    pump(app, 0.5)


def signal_flag(signal: Any) -> Callable[[], bool]:
    """A condition that becomes true once ``signal`` has been emitted."""
    seen: list[object] = []
    signal.connect(lambda *args: seen.append(args))
    return lambda: bool(seen)


def evaluate_models(app: Any, window: Any, job_started: bool) -> None:
    """On the Test tab's Evaluation page: score the tuned model against its base on the sample's test rows,
    then ask a judge with a rubric written in plain words."""
    playground = window.tab_widgets["test"]
    panel = playground.evaluation
    playground.pages.setCurrentWidget(panel)
    catalog = playground.catalog
    tuned = [ref for ref in catalog.project_models if ref.kind == "tuned"]
    panel.two_models.setChecked(bool(job_started and tuned))
    if job_started and tuned:
        panel.picker_a.select_model(tuned[0].model)
        panel.picker_b.select_model(tuned[0].base_model or catalog.base_models[0].model)
    shown = signal_flag(panel.summary_shown)
    if wait_for(app, panel.start_button.isEnabled, 20, "the evaluation's Start button"):
        panel.start_button.click()
        wait_for(app, shown, 120, "the evaluation's scores")
    pump(app, 0.8)
    save(window, "evaluation")
    judge = panel.judge
    panel.views.setCurrentWidget(judge)
    judge.rubric.setPlainText("Gives the next number of the sequence\nAnswers with the number alone")
    judged = signal_flag(judge.judged)
    if wait_for(app, judge.judge_button.isEnabled, 10, "the judge's button"):
        judge.judge_button.click()
        wait_for(app, judged, 120, "the judge's verdicts")
    # The expert rates the answers (as with the rating buttons): agreeing with the judge but on two rows,
    # so the page shows the agreement and Cohen's κ.
    rows = judge.rows_model.rowCount()
    for row in range(rows):
        judge.table.selectRow(row)
        verdict = judge.rows_model.row_at(row).judgement.verdict
        judge.rate(verdict if row % 6 else ("fail" if verdict == "pass" else "pass"))
    judged = signal_flag(judge.judged)
    judge.reload()
    wait_for(app, judged, 30, "the agreement with the expert")
    pump(app, 0.8)
    save(window, "judge")


def sweep_settings(app: Any, window: Any) -> None:
    """On the Test tab's Sweep page: temperature × top-p on the base model, and the trade-off plot."""
    playground = window.tab_widgets["test"]
    sweep = playground.sweep
    playground.pages.setCurrentWidget(sweep)
    sweep.grid.set_axes({"temperature": [0.0, 0.5, 1.0], "top_p": [0.8, 0.95]})
    shown = signal_flag(sweep.results_shown)
    if wait_for(app, sweep.start_button.isEnabled, 20, "the sweep's Start button"):
        sweep.start_button.click()
        wait_for(app, shown, 180, "the sweep's plot")
    pump(app, 1.0)
    save(window, "sweep")


def review_blind(app: Any, window: Any) -> None:
    """The blind review, voting as an expert would (the answer closer to the expected output; equal is a tie),
    each vote becoming a preference example; then the Dataset tab's Preference pairs view."""
    panel = window.tab_widgets["test"].evaluation
    dialog = panel.open_review()
    if dialog is None:
        print("  note: no two-model run to review", file=sys.stderr)
        return
    dialog.auto_preference.setChecked(True)
    while dialog.current() is not None and dialog.isVisible():
        expected = set(dialog.expected.toPlainText().lower().split())
        overlap = [len(expected & set(edit.toPlainText().lower().split())) for edit in dialog.answer_edits]
        before = dialog.current()
        dialog.vote("1" if overlap[0] > overlap[1] else "2" if overlap[1] > overlap[0] else "tie")
        pump(app, 0.05)
        if dialog.current() is before:
            break
    pump(app, 0.3)
    save(dialog, "review")
    dialog.accept()
    window.show_tab("dataset")
    page = window.dataset_tab().preferences
    page.show_pairs(True)
    pump(app, 0.8)
    select_row(app, page.view, 0, "the preference pairs")
    pump(app, 0.5)
    save(window, "preference-pairs")
    page.show_pairs(False)


def tune_preference(app: Any, window: Any) -> None:
    """The Tune tab set for preference tuning, continuing from the newest starting point: the model tuned above."""
    tune = window.tab_widgets["tune"]
    window.show_tab("tune")
    method = tune.form.method
    method.set_preference(True)
    if method.points:
        method.choose_start(method.points[0])
    pump(app, 0.8)
    tune.scroll_area.ensureWidgetVisible(method, 0, 0)
    pump(app, 0.3)
    save(window, "tune-preference")


def first_day_screens(app: Any, window: Any) -> None:
    """What a new user meets: the same spreadsheet imported again (Add, Replace or Merge, with the counts),
    and the Tune tab on a Gemini API key (Google tunes no model with a key: the two ways on)."""
    from gemtune_desktop.services.connections import ConnectionKind

    dataset = window.dataset_tab()
    window.show_tab("dataset")
    dataset.transfer.choice_box = None
    dataset.open_path(SAMPLE)
    if wait_for(app, lambda: dataset.transfer.choice_box is not None, 20, "the Add / Replace / Merge question"):
        box = dataset.transfer.choice_box
        pump(app, 0.5)
        save(box, "import-choice")
        box.reject()
    ctx = window.ctx
    ctx.connections.set_active(ConnectionKind.GEMINI_API)
    window.show_tab("tune")
    pump(app, 1.0)
    save(window, "tune-api-key")
    ctx.connections.set_active(ConnectionKind.SANDBOX)
    pump(app, 1.0)


def at_minimum_size(app: Any, window: Any) -> None:
    """Each tab with the window at its smallest (``minimum-<tab>.png``): what must stay readable and reachable
    there (Start tuning among it) is checked by looking at these."""
    window.resize(window.minimumSizeHint().expandedTo(window.minimumSize()))
    pump(app, 0.5)
    for key in ("dataset", "tune", "monitor", "test"):
        window.show_tab(key)
        pump(app, 0.6)
        save(window, f"minimum-{key}")
    window.resize(*WINDOW_SIZE)
    pump(app, 0.3)


def capture(args: argparse.Namespace) -> int:
    home = Path(tempfile.mkdtemp(prefix="gemtune-screenshots-"))
    os.environ["GEMTUNE_HOME"] = str(home)
    os.environ["GEMTUNE_NO_WELCOME"] = "1"
    # The pictures never need a secret: keep the user's real keyring out of it.
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from gemtune_desktop.app import create_app
        from gemtune_desktop.qtcore import settings as S
        from gemtune_desktop.qtcore.context import AppContext
        from gemtune_desktop.qtcore.settings import Settings
        from gemtune_desktop.ui.main_window import MainWindow

        app: Any = create_app()
        print(f"Capturing on Qt platform '{app.platformName()}' into {OUT}/")
        settings = Settings()
        settings.set(S.FIRST_RUN_DONE, True)
        settings.set(S.SANDBOX_STEPS_PER_SECOND, args.steps_per_second)
        settings.set(S.LAST_DIR, str(home))
        ctx = AppContext(settings)
        window = MainWindow(ctx)
        window.resize(*WINDOW_SIZE)
        window.show()
        wait_for(app, lambda: ctx.connections.reachable is not None, 20, "the Sandbox to answer")

        from gemtune_desktop.ui.dialogs.welcome_dialog import sample_project_path

        dataset = window.dataset_tab()
        window.open_sample(str(SAMPLE))  # what Welcome → "Open sample project" does
        wait_for(app, lambda: getattr(ctx.project, "path", None) == sample_project_path(SAMPLE), 20,
                 "the sample project to open")
        wait_for(app, lambda: ctx.project.store.conn.execute("SELECT COUNT(*) FROM examples").fetchone()[0],
                 20, "the sample rows")
        pump(app, 1.0)
        window.show_tab("dataset")
        select_row(app, dataset, 10, "the sample rows in the table")
        pump(app, 0.8)
        save(window, "dataset", guide=True)

        started = start_sandbox_job(app, window) if not args.no_job else False
        pump(app, 1.0)
        save(window, "tune", guide=True)

        window.show_tab("monitor")
        if started:
            show_the_job(app, window, args.train_seconds)
        pump(app, 0.8)
        save(window, "monitor", guide=True)

        try_the_model(app, window, started)
        save(window, "test", guide=True)
        evaluate_models(app, window, started)
        sweep_settings(app, window)
        review_blind(app, window)
        tune_preference(app, window)
        first_day_screens(app, window)
        at_minimum_size(app, window)

        from gemtune_desktop.ui.dialogs.welcome_dialog import WelcomeDialog

        welcome = WelcomeDialog(window)
        welcome.show()
        pump(app, 0.5)
        save(welcome, "welcome")
        welcome.close()

        from gemtune_desktop.ui.dialogs.guide_window import GuideWindow

        guide = GuideWindow()
        guide.resize(900, 700)
        guide.show()
        pump(app, 0.5)
        save(guide, "guide")
        guide.close()

        window.close()
        pump(app, 0.3)
        return 0
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description="Regenerate docs/screenshots/*.png from the running app.")
    parser.add_argument("--platform", choices=("auto", "xvfb", "offscreen"), default="auto",
                        help="where to draw: under Xvfb (auto when installed) or Qt's offscreen platform")
    parser.add_argument("--display", default=None, help="Xvfb display to use, e.g. :96 (default: a free one)")
    parser.add_argument("--steps-per-second", type=float, default=5.0,
                        help="Sandbox training pace (slow enough to catch the job while it trains)")
    parser.add_argument("--train-seconds", type=float, default=6.0,
                        help="how long to let the Sandbox job train before the Monitor picture")
    parser.add_argument("--no-job", action="store_true", help="do not start a Sandbox tuning job")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs (default: docs/screenshots)")
    parser.add_argument("--no-guide", action="store_true", help="do not update resources/guide/images")
    args = parser.parse_args(argv)
    global OUT, GUIDE_IMAGES
    if args.out is not None:
        OUT = args.out.resolve()
    if args.no_guide:
        GUIDE_IMAGES = None
    if not os.environ.get(CHILD_FLAG):
        use_xvfb = args.platform == "xvfb" or (args.platform == "auto" and shutil.which("Xvfb"))
        if use_xvfb:
            return run_under_xvfb(args.display, argv)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return capture(args)


if __name__ == "__main__":
    sys.exit(main())
