"""What the Tune tab says after Start: the settings and rows to fix, what became of the submit, and the way to it.

:class:`StartFeedback` marks the controls the pre-flight or the service named (a red frame), lists the
problems, shows each :class:`~gemtune_desktop.services.submit_flow.SubmitReport` in its own words, says so
when a submit whose outcome was not known is found (or found never to have started), and takes
"Go to the Monitor tab" to the job just started.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QScrollArea, QWidget

from gemtune_desktop.core import job_spec as J
from gemtune_desktop.core.examples import Example
from gemtune_desktop.core.jobs import JobRecord
from gemtune_desktop.core.validation import Finding
from gemtune_desktop.core.validation.findings import VALIDATION_SIZE
from gemtune_desktop.qtcore.context import AppContext
from gemtune_desktop.services.submit_flow import SubmitReport, SubmitState
from gemtune_desktop.ui.tab_page import TabKey
from gemtune_desktop.ui.tune.estimate import EstimateBox
from gemtune_desktop.ui.tune.form import TuneForm, clear_problem, mark_problem
from gemtune_desktop.ui.tune.problems import ProblemsBox
from gemtune_desktop.ui.tune.run_row import RunRow
from gemtune_desktop.ui.widgets.status_line import Tone


class StartFeedback:
    """The tab's answers to Start (see the module docstring)."""

    def __init__(self, ctx: AppContext, form: TuneForm, estimate_box: EstimateBox, problems: ProblemsBox,
                 run: RunRow, scroll: QScrollArea) -> None:
        self.ctx = ctx
        self.form = form
        self.estimate_box = estimate_box
        self.problems = problems
        self.run = run
        self.scroll = scroll
        self.last_job_id = 0  # the job "Go to the Monitor tab" selects
        self.waiting_id = 0  # a submit of this session whose outcome is not known yet
        self._marked: list[QWidget] = []

    def clear(self, forget_jobs: bool = False) -> None:
        """What was said about another connection or project no longer holds."""
        self.run.status.clear()
        self.problems.clear()
        self.clear_marks()
        self.run.monitor_button.hide()
        if forget_jobs:
            self.last_job_id = self.waiting_id = 0

    # -- controls to fix ------------------------------------------------------------------------
    def field_widget(self, field: str) -> QWidget | None:
        """The control of a setting the service or the pre-flight named ("dataset": the examples sent)."""
        if field == "dataset":
            return self.estimate_box.estimate_label
        return self.form.field_widget(field)

    def mark_field(self, field: str) -> None:
        widget = self.field_widget(field)
        if widget is not None:
            mark_problem(widget)
            self._marked.append(widget)
            self.scroll.ensureWidgetVisible(widget)

    def clear_marks(self) -> None:
        for widget in self._marked:
            clear_problem(widget)
        self._marked = []

    def show_spec_problems(self, problems: list[J.Problem]) -> None:
        self.problems.show_spec_problems(problems)
        for p in problems:
            self.mark_field(p.field)
        self.run.status.say("Tuning was not started: fix the settings marked with ⚠.")

    def show_dataset_errors(self, errors: list[Finding], examples: list[Example], service: str) -> None:
        self.problems.show_findings(errors, examples, service)
        if any(f.rule == VALIDATION_SIZE for f in errors):
            self.mark_field("use_validation")
        # Once the list is laid out, bring it into view: it says what to fix.
        QTimer.singleShot(0, self.problems, lambda: self.scroll.ensureWidgetVisible(self.problems.list))

    # -- what became of the submit --------------------------------------------------------------
    def show_report(self, report: SubmitReport) -> None:
        """The report's own words; "not known yet" never invites a second start (the tab keeps Start off)."""
        self.last_job_id = report.job_id
        text = report.message + (f"\n{report.hint}" if report.hint else "")
        if report.state is SubmitState.STARTED:
            self.run.complete()
            self.run.status.say(text)
        elif report.state is SubmitState.NOT_KNOWN_YET:
            self.waiting_id = report.job_id
            self.run.status.say(text, Tone.WARNING)
        else:
            self.run.status.say(text)
            if report.field:
                self.mark_field(report.field)
        self.run.monitor_button.setVisible(report.state in (SubmitState.STARTED, SubmitState.NOT_KNOWN_YET))

    def notice_resolved(self, records: list[JobRecord]) -> None:
        """Say so once the background check found out what became of the submit not known yet."""
        waiting = next((r for r in records if r.id == self.waiting_id), None)
        if waiting is None or waiting.state.being_submitted:
            return
        self.waiting_id = 0
        if waiting.resource_name:
            self.run.status.say(f"The tuning job “{waiting.display_name}” has started: GemTune found it on the "
                                "service. It is recorded in this project; follow it in the Monitor tab.", Tone.OK)
            self.run.monitor_button.show()
        else:
            self.run.status.say(f"“{waiting.display_name}” did not start. {waiting.error}", Tone.ERROR)
            self.run.monitor_button.hide()

    def go_to_monitor(self) -> None:
        """Show the Monitor tab with the job just started selected."""
        self.ctx.show_tab_requested.emit(TabKey.MONITOR)
        if self.last_job_id:
            self.ctx.monitor_job_requested.emit(self.last_job_id)
