"""``gemtune-desktop eval PROJECT_OR_DATASET --model M``: the Test tab's evaluation without a window.

A ``.gemtune`` project gives the examples of ``--split`` (default ``test``) and its dataset texts
(preamble, system instruction), applied as in training; a dataset file (CSV/TSV/XLSX/JSON/JSONL)
is read whole as the test set. Each row is sent to ``--model`` on the app's active connection
(the one chosen in Settings → Connections) or, with ``--sandbox``, on the offline Sandbox, with
the same concurrency and retries as the window, at temperature 0 (repeatable runs for scripts and
CI; the other generation and safety settings are the services' defaults). Rows are scored with :mod:`core.eval_metrics`
(sentence-level per row; the summary's ``bleu`` and ``chrf`` are corpus-level, as sacreBLEU
reports them); ``--judge RUBRIC_FILE`` adds the judge's score (share of rubric points met) as ``judge``.

``--json`` prints ``{"model", "rows": [{"input", "expected", "answer", "scores"}], "summary"}``;
a row whose request failed has ``answer`` null and no scores. ``--out`` writes the rows as CSV.
Exit status: 0, or 1 when a ``--min METRIC=VALUE`` threshold fails, or 2 when the input cannot be
read or the evaluation cannot run; 1 and 2 come with one line on stderr.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemtune_desktop.commands.check import EXIT_ERRORS, EXIT_OK, EXIT_UNREADABLE, fail, load
from gemtune_desktop.core import eval_metrics as em

if TYPE_CHECKING:
    import argparse

    from gemtune_desktop.services.backend import BackendSession

JUDGE = "judge"
ALL_METRICS = (*em.ROW_METRICS, JUDGE)
SPLITS = ("train", "validation", "test")


@dataclass(slots=True)
class Options:
    path: str
    model: str
    split: str = "test"
    metrics: list[str] = field(default_factory=lambda: list(em.ROW_METRICS))
    judge_file: str | None = None
    judge_model: str = "gemini-3.5-flash"
    as_json: bool = False
    out: str | None = None
    minimums: dict[str, float] = field(default_factory=dict)
    sandbox: bool = False
    concurrency: int = 4


@dataclass(slots=True)
class Row:
    input: str
    expected: str
    answer: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    error: str = ""
    judge_explanation: str = ""


@dataclass(slots=True)
class Report:
    model: str
    rows: list[Row]
    summary: dict[str, float]
    notes: list[str] = field(default_factory=list)


class EvalFailure(Exception):
    """Stops the command with exit status 2 and one line on stderr."""


def parse_metrics(text: str | None) -> list[str]:
    if not text:
        return list(em.ROW_METRICS)
    names = [n.strip() for n in text.replace(",", " ").split() if n.strip()]
    unknown = [n for n in names if n not in em.ROW_METRICS]
    if unknown:
        raise EvalFailure(f"unknown metric “{unknown[0]}”; choose from {', '.join(em.ROW_METRICS)}.")
    return list(dict.fromkeys(names))


def parse_minimums(items: Sequence[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in ALL_METRICS:
            raise EvalFailure(f"--min takes METRIC=VALUE with a metric from {', '.join(ALL_METRICS)}; "
                              f"got “{item}”.")
        try:
            out[name] = float(value)
        except ValueError:
            raise EvalFailure(f"--min {name}: “{value}” is not a number.") from None
    return out


def load_rows(path: str, split: str) -> tuple[list[tuple[str, str]], str, str]:
    """(input, expected) rows and the preamble and system instruction to apply."""
    loaded = load("eval", path)
    if isinstance(loaded, int):
        raise EvalFailure("")  # load() already printed the line
    settings = loaded.settings
    if loaded.format == "gemtune":
        wanted = split
        rows = [(e.input, e.output) for e in loaded.examples if e.split.value == wanted]
        if not rows:
            raise EvalFailure(f"{Path(path).name} has no examples in the {split} split; choose another with --split.")
        return rows, settings.preamble if settings else "", settings.system_instruction if settings else ""
    rows = [(e.input, e.output) for e in loaded.examples]
    if not rows:
        raise EvalFailure(f"{Path(path).name} has no examples.")
    return rows, "", ""


@contextlib.contextmanager
def open_session(sandbox: bool) -> Iterator[BackendSession]:
    """The app's active connection, or the Sandbox (started here, stopped afterwards)."""
    from gemtune_desktop import paths
    from gemtune_desktop.services.backend import BackendSession
    from gemtune_desktop.services.connections import ConnectionKind, ConnectionProfile
    from gemtune_desktop.services.secrets import SecretStore

    if sandbox:
        profile = ConnectionProfile(kind=ConnectionKind.SANDBOX)
    else:
        from gemtune_desktop.qtcore.settings import ACTIVE_CONNECTION, CONNECTION_PROFILES, Settings

        settings = Settings()
        kind = ConnectionKind(settings.get(ACTIVE_CONNECTION)) if settings.get(ACTIVE_CONNECTION) in \
            [k.value for k in ConnectionKind] else ConnectionKind.SANDBOX
        profile = settings.read(CONNECTION_PROFILES)[kind]
    server = None
    if profile.is_sandbox:
        from gemtune_desktop.sandbox.server import SandboxServer

        server = SandboxServer(state_dir=paths.data_dir() / "sandbox").start()
    session = BackendSession(profile, SecretStore(), sandbox_url=(lambda: server.base_url) if server else None)
    try:
        yield session
    finally:
        session.close()
        if server is not None:
            server.stop()


def evaluate(session: BackendSession, opts: Options, rows: Sequence[tuple[str, str]], preamble: str,
             system: str, rubric_text: str | None) -> Report:
    from gemtune_desktop.core.cancel import CancelToken
    from gemtune_desktop.core.generation import GenerationSettings, SafetySettings
    from gemtune_desktop.services.batch_eval import EvalItem, EvalOutcome, run_batch

    items = [EvalItem(i, 0, opts.model, q, a, preamble, system) for i, (q, a) in enumerate(rows)]
    outcomes: dict[int, EvalOutcome] = {}
    run_batch(CancelToken(), session, items, GenerationSettings(temperature=0), SafetySettings(),
              lambda o: outcomes.__setitem__(o.example_id, o), opts.concurrency)
    report_rows = [Row(q, a) for q, a in rows]
    answered = [i for i in range(len(rows)) if not outcomes[i].error]
    for i in range(len(rows)):
        if outcomes[i].error:
            report_rows[i].error = outcomes[i].error
        else:
            report_rows[i].answer = outcomes[i].actual
    if not answered:
        raise EvalFailure(f"every request failed; the first said: {outcomes[0].error}")
    scores = em.score_pairs([rows[i][1] for i in answered], [outcomes[i].actual for i in answered])
    for i, s in zip(answered, scores.rows, strict=True):
        report_rows[i].scores = {m: s[m] for m in opts.metrics}
    summary = {m: (scores.corpus[m] if m in em.CORPUS_METRICS else
                   sum(s[m] for s in scores.rows) / len(scores.rows)) for m in opts.metrics}
    report = Report(opts.model, report_rows, summary)
    failed = len(rows) - len(answered)
    if failed:
        report.notes.append(f"{failed} of {len(rows)} requests failed (first: {report_rows[_first_error(report)].error}"
                            "); they are left out of the summary.")
    if rubric_text is not None:
        _judge(session, opts, report, rubric_text, [outcomes[i] for i in answered])
    return report


def _first_error(report: Report) -> int:
    return next(i for i, r in enumerate(report.rows) if r.error)


def _judge(session: BackendSession, opts: Options, report: Report, rubric_text: str, answered: Sequence[Any]) -> None:
    from gemtune_desktop.core import rubric as rb
    from gemtune_desktop.core.cancel import CancelToken
    from gemtune_desktop.services import judge

    rubric = rb.parse_rubric(rubric_text)
    results: dict[int, judge.JudgeResult] = {}
    items = [judge.JudgeItem(o.example_id, 0, o.prompt, o.expected, o.actual, o.blocked) for o in answered]
    judge.judge_rows(CancelToken(), session, items, rubric, lambda r: results.__setitem__(r.example_id, r),
                     judge.JudgeSettings(model=opts.judge_model), opts.concurrency)
    judged = []
    for index, result in results.items():
        row = report.rows[index]
        if result.verdict is not None:
            row.scores[JUDGE] = result.verdict.score
            row.judge_explanation = result.verdict.explanation
            judged.append(result.verdict.score)
        else:
            row.judge_explanation = result.error
    if judged:
        report.summary[JUDGE] = sum(judged) / len(judged)
    missing = len(items) - len(judged)
    if missing:
        first = next(r.error for r in results.values() if r.verdict is None)
        report.notes.append(f"The judge gave no verdict on {missing} of {len(items)} answers (first: {first}).")


def to_json(report: Report) -> str:
    doc = {"model": report.model,
           "rows": [{"input": r.input, "expected": r.expected, "answer": r.answer, "scores": r.scores}
                    for r in report.rows],
           "summary": report.summary}
    return json.dumps(doc, ensure_ascii=False, indent=2)


def to_text(report: Report) -> str:
    prov = em.provenance()
    answered = sum(r.answer is not None for r in report.rows)
    lines = [f"Model:   {report.model}", f"Rows:    {len(report.rows)} ({answered} answered)", "", "Summary"]
    for metric, value in report.summary.items():
        shown = f"{value * 100:.1f} %" if metric == "exact_match" else f"{value:.3f}" if em.metric_scale(metric) == 1 \
            else f"{value:.2f}"
        lines.append(f"  {em.METRIC_LABELS.get(metric, metric):<44} {shown}")
    lines += ["", "How each number is computed"]
    lines += [f"  {m}: {prov[m]}" for m in report.summary if m in prov]
    if JUDGE in report.summary:
        lines.append("  judge: the judge model's share of rubric points met, averaged over the judged answers.")
    lines += [f"\nNote: {n}" for n in report.notes]
    return "\n".join(lines) + "\n"


def write_csv(path: str, report: Report) -> None:
    metrics = list(report.summary)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["input", "expected", "answer", "error", *metrics, "judge_explanation"])
        for r in report.rows:
            out.writerow([r.input, r.expected, r.answer or "", r.error,
                          *[f"{r.scores[m]:.6g}" if m in r.scores else "" for m in metrics], r.judge_explanation])


def failed_minimums(report: Report, minimums: dict[str, float]) -> list[str]:
    out = []
    for metric, low in minimums.items():
        value = report.summary.get(metric)
        if value is None:
            how = "give --judge" if metric == JUDGE else "add it to --metrics"
            out.append(f"{metric} was not measured ({how})")
        elif value < low:
            out.append(f"{metric} {value:.4g} is below the minimum {low:g}")
    return out


def options_from_args(args: argparse.Namespace) -> Options:
    """Checked options from the parsed command line (raises :class:`EvalFailure`)."""
    if args.concurrency < 1 or args.concurrency > 32:
        raise EvalFailure("--concurrency must be between 1 and 32.")
    return Options(path=args.file, model=args.model, split=args.split, metrics=parse_metrics(args.metrics),
                   judge_file=args.judge, judge_model=args.judge_model, as_json=args.json, out=args.out,
                   minimums=parse_minimums(args.min), sandbox=args.sandbox, concurrency=args.concurrency)


def run_eval(opts_factory: Callable[[], Options]) -> int:
    try:
        opts = opts_factory()
        rows, preamble, system = load_rows(opts.path, opts.split)
        rubric_text = None
        if opts.judge_file is not None:
            rubric_text = _read_rubric(opts.judge_file)
        with open_session(opts.sandbox) as session:
            report = evaluate(session, opts, rows, preamble, system, rubric_text)
    except EvalFailure as exc:
        return fail("eval", str(exc)) if str(exc) else EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("gemtune-desktop eval: stopped.", file=sys.stderr)
        return 130
    except Exception as exc:  # the command promises one line, never a traceback
        from gemtune_desktop.services.errors import describe

        err = describe(exc)
        return fail("eval", f"{err.message} {err.hint}".strip())
    return _report(opts, report)


def _read_rubric(path: str) -> str:
    from gemtune_desktop.core import rubric as rb

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFailure(f"the rubric file {Path(path).name} could not be read ({type(exc).__name__}).") from None
    try:
        rb.parse_rubric(text)
    except rb.RubricError as exc:
        raise EvalFailure(f"rubric {Path(path).name}: {exc.message} {exc.hint}".strip()) from None
    return text


def _report(opts: Options, report: Report) -> int:
    out = sys.stdout
    with contextlib.suppress(ValueError, OSError):
        out.reconfigure(errors="replace")  # type: ignore[union-attr]
    out.write(to_json(report) + "\n" if opts.as_json else to_text(report))
    out.flush()
    if opts.out:
        try:
            write_csv(opts.out, report)
        except OSError as exc:
            return fail("eval", f"the report {opts.out} could not be written ({exc.strerror or exc}).")
    failed = failed_minimums(report, opts.minimums)
    if failed:  # one line: the thresholds missed, and what to know about the rows
        print(f"gemtune-desktop eval: {'; '.join(failed)}." + "".join(f" {n}" for n in report.notes),
              file=sys.stderr)
        return EXIT_ERRORS
    for note in report.notes:
        print(f"gemtune-desktop eval: {note}", file=sys.stderr)
    return EXIT_OK
