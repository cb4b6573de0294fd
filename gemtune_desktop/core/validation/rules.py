"""Every validation rule, each declared once: what it checks, how severe it is, and what it tells the user.

Batch validation (:mod:`.batch`: ``check``, the pre-flight before tuning) and incremental validation
(:mod:`.incremental`: the Dataset tab, on opening a project and per edit) both run the rules in
:data:`RULES`, in this order; neither names a rule. The kinds of rule are described in :mod:`.kinds`.
"""

from __future__ import annotations

import operator
from collections import Counter

from gemtune_desktop.core.examples import Target
from gemtune_desktop.core.job_spec import validation_set_problem
from gemtune_desktop.core.tokens import estimate_example_tokens
from gemtune_desktop.core.validation import findings as F
from gemtune_desktop.core.validation import limits as L
from gemtune_desktop.core.validation.columns import Columns, flagged, utf8_len
from gemtune_desktop.core.validation.findings import Finding, Severity
from gemtune_desktop.core.validation.kinds import (
    Context,
    DatasetRule,
    ExampleRule,
    GroupRule,
    PassRule,
    Rule,
    ShareRule,
    Totals,
)
from gemtune_desktop.core.validation.labels import judge_label, label_verdict, labels_of, no_convention
from gemtune_desktop.core.validation.near import near_duplicate_pass
from gemtune_desktop.core.validation.outliers import OutlierBounds
from gemtune_desktop.core.validation.text import (
    MOJIBAKE_MARKERS,
    broken_encoding,
    control_char,
    describe_char,
    written_label,
)

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
GEMINI, AGENT = Target.GEMINI_API, Target.AGENT_PLATFORM

# --- one example ---------------------------------------------------------------------------------------------
# A check gives the message for one text (or example), or None; a screen gives, from whole-column passes, the
# rows of a dataset that may fail the check (every such row, maybe more).

def _empty(text: str, field: str, _ctx: Context) -> str | None:
    if text.strip():
        return None
    what = "is empty" if not text else "contains only spaces or blank lines"
    return (f"The {field} {what}. Every example needs both an input and an output, or the service rejects the "
            f"dataset. Fill it in or delete the row.")


def _whitespace(text: str, field: str, _ctx: Context) -> str | None:
    stripped = text.strip()
    if not stripped or stripped == text:
        return None
    where = "starts and ends" if text[:1].isspace() and text[-1:].isspace() else \
        ("starts" if text[:1].isspace() else "ends")
    return (f"The {field} {where} with spaces or blank lines. The model learns these too (and would repeat them "
            f"in its answers); remove them.")


def _control(text: str, field: str, _ctx: Context) -> str | None:
    m = control_char(text)
    if m is None or not text.strip():  # a blank text is reported as empty
        return None
    return (f"The {field} contains an invisible control character ({describe_char(m.group())}) at character "
            f"{m.start() + 1}. Such characters usually come from copying out of another program and confuse the "
            f"model; delete it.")


def _mojibake(text: str, field: str, _ctx: Context) -> str | None:
    bad = broken_encoding(text)
    if bad is None or not text.strip():
        return None
    hint = "a character that could not be decoded (�)" if bad == "\ufffd" else f"“{bad}”"
    return (f"The {field} contains {hint}, which looks like text read with the wrong encoding (for example “é” "
            f"shown as “Ã©”). Re-import the file as UTF-8 or correct the text.")


def text_issues(text: str, field: str) -> list[tuple[str, Severity, str]]:
    """Rule, severity and message for the text-level problems of one non-empty text (the same checks as
    the table's rows: padding, control characters, broken encoding), for other kinds of example."""
    ctx = None  # these checks read no context
    out: list[tuple[str, Severity, str]] = []
    for rule, check in ((F.WHITESPACE, _whitespace), (F.CONTROL_CHARS, _control), (F.MOJIBAKE, _mojibake)):
        message = check(text, field, ctx)  # type: ignore[arg-type]
        if message is not None:
            out.append((rule, WARNING, message))
    return out


def _too_long(text: str, field: str, ctx: Context) -> str | None:
    limit = L.max_chars(ctx.target, field)
    if limit is None or len(text) <= limit:
        return None
    return (f"The {field} has {len(text):,} characters; the Gemini API accepts at most {limit:,} per {field}. "
            f"Shorten it or split it into several examples.")


def _too_many_tokens(inp: str, out: str, ctx: Context) -> list[tuple[str | None, str]]:
    system = ctx.system
    if ctx.target is not AGENT or len(inp) + len(out) + len(system) <= L.AGENT_MAX_EXAMPLE_TOKENS:
        return []  # at most one token per character: cannot be over
    tokens = estimate_example_tokens(inp, out, system)
    if tokens <= L.AGENT_MAX_EXAMPLE_TOKENS:
        return []
    return [(None, f"This example has about {tokens:,} tokens (input, output and system instruction together); "
                   f"Agent Platform accepts at most {L.AGENT_MAX_EXAMPLE_TOKENS:,}. Shorten it or split it.")]


def _preamble_repeated(text: str, _field: str, ctx: Context) -> str | None:
    preamble = ctx.preamble
    if not preamble or not text.lstrip().startswith(preamble):
        return None
    return ("This input already starts with the dataset's preamble, which is added to every input when tuning, so "
            "the model would see it twice. Remove it from the input.")


def _blank_rows(cols: Columns, field: str, _ctx: Context) -> list[int]:
    return sorted({*cols.zero_length(field), *cols.padded(field)})


def _long_rows(cols: Columns, field: str, ctx: Context) -> list[int]:
    limit = L.max_chars(ctx.target, field)
    return cols.longer_than(field, limit) if limit is not None else []


def _token_rows(cols: Columns, ctx: Context) -> list[int]:
    if ctx.target is not AGENT:
        return []
    limit = L.AGENT_MAX_EXAMPLE_TOKENS - len(ctx.system)
    totals = list(map(operator.add, cols.lengths("input"), cols.lengths("output")))
    return flagged(map(limit.__lt__, totals)) if totals and max(totals) > limit else []


def _preamble_rows(cols: Columns, field: str, ctx: Context) -> list[int]:
    return cols.starting_with(field, ctx.preamble) if ctx.preamble else []


def _padded_rows(cols: Columns, field: str, _ctx: Context) -> list[int]:
    return cols.padded(field)


def _non_printable_rows(cols: Columns, field: str, _ctx: Context) -> list[int]:
    return cols.non_printable(field)


def _marked_rows(cols: Columns, field: str, _ctx: Context) -> list[int]:
    return cols.containing(field, MOJIBAKE_MARKERS)


# --- one example against the others --------------------------------------------------------------------------

def _copy_message(other_row: str, conflicting: bool) -> str:
    if conflicting:
        return (f"Same input as {other_row} but a different output. The model is taught two answers to one "
                f"question and learns neither well; keep the right one or make the inputs differ.")
    return (f"Exactly the same input and output as {other_row}. Copies give this example extra weight "
            f"without teaching anything new; delete one of them.")


def _judge_copy(example: tuple[str, str], first: tuple[str, str], first_name: str) -> tuple[str, str]:
    conflicting = example[1] != first[1]
    return (F.CONFLICT if conflicting else F.DUPLICATE), _copy_message(first_name, conflicting)


def _judge_length(length: int | None, bounds: OutlierBounds, _n: int) -> str | None:
    return bounds.message(length) if length is not None else None


def _output_lengths(cols: Columns) -> list[int]:
    return cols.lengths("output")


def _length_bounds(counts: Counter[int], _n: int) -> OutlierBounds | None:
    return OutlierBounds.from_counts(counts)


def _input_lengths(cols: Columns) -> list[int]:
    return cols.lengths("input")


def _judge_input_length(length: int | None, bounds: OutlierBounds, _n: int) -> str | None:
    """A far longer input than the rest (a short one is no problem: questions vary)."""
    if length is None or length <= bounds.high:
        return None
    return (f"This input has {length:,} characters, far longer than most ({bounds.median:,.0f} is typical). Check "
            f"that it is one example and not several run together; if it is several, split it into separate rows.")


# --- the dataset as a whole ----------------------------------------------------------------------------------

def _too_few(t: Totals, ctx: Context) -> str | None:
    if ctx.target is not GEMINI or t.n_train >= L.GEMINI_MIN_EXAMPLES:
        return None
    return (f"There are {t.n_train} training examples; the Gemini API needs at least {L.GEMINI_MIN_EXAMPLES} to "
            f"tune. Add more examples (100 to 500 work best).")


def _fewer_than_recommended(t: Totals, ctx: Context) -> str | None:
    if t.n_train >= L.RECOMMENDED_MIN_EXAMPLES or _too_few(t, ctx) is not None:
        return None
    return (f"There are {t.n_train} training examples. Google recommends starting with at least "
            f"{L.RECOMMENDED_MIN_EXAMPLES}; with fewer the tuned model often learns little. Add more examples "
            f"that look like real requests.")


def _more_than_recommended(t: Totals, ctx: Context) -> str | None:
    if ctx.target is not GEMINI or t.n_train <= L.GEMINI_RECOMMENDED_MAX_EXAMPLES:
        return None
    return (f"There are {t.n_train:,} training examples; the Gemini API guide recommends "
            f"{L.RECOMMENDED_MIN_EXAMPLES} to {L.GEMINI_RECOMMENDED_MAX_EXAMPLES}. More is allowed but makes "
            f"tuning slower and must still fit the 4 MB inline limit.")


def _validation_size(t: Totals, ctx: Context) -> str | None:
    # 5,000, or 30 % of the training examples above 1,000 validation examples (job_spec has the rule).
    if ctx.target is not AGENT:
        return None
    return validation_set_problem(t.n_train, t.n_validation) or None


def _system_instruction(_t: Totals, ctx: Context) -> str | None:
    if ctx.target is not GEMINI or not ctx.settings.system_instruction.strip():
        return None
    return ("The dataset has a system instruction, but Gemini API tuning takes input and output only, so it is "
            "not sent. Move what it says into the preamble, or tune on Agent Platform.")


def _inline_size(t: Totals, ctx: Context) -> str | None:
    """The training texts, with the preamble once per training example, in UTF-8. When their characters alone
    are over the limit (UTF-8 takes at least a byte a character), that is what is reported, as "at least"."""
    if ctx.target is not GEMINI:
        return None
    preamble = ctx.settings.preamble
    size, about = t.chars(True) + len(preamble) * t.n_train, "at least"
    if size <= L.GEMINI_INLINE_BYTES:
        size, about = t.utf8_bytes(True) + utf8_len(preamble) * t.n_train, "about"
        if size <= L.GEMINI_INLINE_BYTES:
            return None
    return (f"The training examples hold {about} {size / 1e6:.1f} MB of text; the Gemini API accepts at most 4 MB "
            f"sent with the request. Remove examples or shorten long ones.")


def _file_size(t: Totals, ctx: Context) -> str | None:
    if ctx.target is not AGENT:
        return None
    per_line = L.AGENT_LINE_OVERHEAD_BYTES + utf8_len(ctx.settings.preamble)
    if t.chars(False) * 4 + t.n * per_line <= L.AGENT_MAX_FILE_BYTES:  # UTF-8 takes at most 4 bytes a character
        return None
    size = t.utf8_bytes(False) + t.n * per_line
    if size <= L.AGENT_MAX_FILE_BYTES:
        return None
    return (f"The training file would be about {size / 1e9:.2f} GB; Agent Platform accepts at most 1 GB per file. "
            f"Remove examples or shorten long ones.")


# --- the table -----------------------------------------------------------------------------------------------

RULES: tuple[Rule, ...] = (
    # one example, judged alone
    ExampleRule.per_field(F.EMPTY, ERROR, _empty, _blank_rows),
    ExampleRule.per_field(F.WHITESPACE, WARNING, _whitespace, _padded_rows),
    ExampleRule.per_field(F.CONTROL_CHARS, WARNING, _control, _non_printable_rows, scan=True),
    ExampleRule.per_field(F.MOJIBAKE, WARNING, _mojibake, _marked_rows, scan=True),
    ExampleRule.per_field(F.TOO_LONG, ERROR, _too_long, _long_rows),
    ExampleRule(F.TOO_MANY_TOKENS, ERROR, _too_many_tokens, _token_rows),
    ExampleRule.per_field(F.PREAMBLE_REPEATED, WARNING, _preamble_repeated, _preamble_rows, fields=("input",)),
    # one example against the others (blank inputs, for which str.strip gives "", are empty rather than copies)
    GroupRule((F.DUPLICATE, F.CONFLICT), WARNING, "input", str.strip, _judge_copy),
    ShareRule(F.INCONSISTENT_FORMAT, WARNING, "input", written_label, labels_of, label_verdict, judge_label,
              skip=no_convention),
    ShareRule(F.LENGTH_OUTLIER, WARNING, "output", len, _output_lengths, _length_bounds, _judge_length),
    ShareRule(F.INPUT_LENGTH_OUTLIER, WARNING, "input", len, _input_lengths, _length_bounds, _judge_input_length),
    PassRule(F.NEAR_DUPLICATE, INFO, "input", near_duplicate_pass),
    # the dataset as a whole
    DatasetRule(F.TOO_FEW, ERROR, _too_few),
    DatasetRule(F.RECOMMENDED_COUNT, WARNING, _fewer_than_recommended),
    DatasetRule(F.RECOMMENDED_COUNT, INFO, _more_than_recommended),
    DatasetRule(F.VALIDATION_SIZE, ERROR, _validation_size),
    DatasetRule(F.SYSTEM_INSTRUCTION_UNSUPPORTED, WARNING, _system_instruction),
    DatasetRule(F.INLINE_SIZE, ERROR, _inline_size),
    DatasetRule(F.FILE_SIZE, ERROR, _file_size),
)
EXAMPLE_RULES = tuple(r for r in RULES if isinstance(r, ExampleRule))
GROUP_RULES = tuple(r for r in RULES if isinstance(r, GroupRule))
SHARE_RULES = tuple(r for r in RULES if isinstance(r, ShareRule))
PASS_RULES = tuple(r for r in RULES if isinstance(r, PassRule))
DATASET_RULES = tuple(r for r in RULES if isinstance(r, DatasetRule))


def dataset_findings(totals: Totals, ctx: Context) -> list[Finding]:
    """The findings about the dataset as a whole, in table order."""
    found = []
    for rule in DATASET_RULES:
        message = rule.check(totals, ctx)
        if message is not None:
            found.append(Finding(rule.severity, rule.id, message))
    return found
