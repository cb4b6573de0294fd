"""Target-aware validation of a dataset: findings in plain words, once over a file or incrementally while editing.

``validate`` checks a whole list of examples (the ``check`` command, imports); ``IncrementalValidator``
keeps hash indexes so that an edit of one row re-validates in microseconds even with a million rows
(the Dataset tab). Both use the rules and limits in :mod:`gemtune_desktop.core.validation_rules`.
Near duplicates need fuzzy matching and run as their own bounded pass, :func:`near_duplicates`.
"""

from __future__ import annotations

import enum
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, count, pairwise, repeat

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.examples import DatasetSettings, Example, Split, Target
from gemtune_desktop.core.job_spec import validation_set_problem


class Severity(enum.StrEnum):
    """How much a finding matters: errors block tuning, warnings deserve a look, info is advice."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label(self) -> str:
        return {"error": "Error", "warning": "Warning", "info": "Note"}[self.value]

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(slots=True, frozen=True)
class Finding:
    """One problem found in a dataset.

    ``row`` is the 1-based example number (None for dataset-wide findings and for records that could not
    be imported), ``line`` the 1-based line or spreadsheet row in the source file, ``field`` "input" or
    "output" when the problem is in one of them, ``example_id`` the project's row id (incremental
    validation), ``related`` the other examples involved (row numbers from ``validate``, example ids
    from ``IncrementalValidator``).
    """

    severity: Severity
    rule: str
    message: str
    row: int | None = None
    line: int | None = None
    field: str | None = None
    example_id: int | None = None
    related: tuple[int, ...] = ()

    def location(self) -> str:
        """Where the finding is, in words ("row 5 (line 7), output")."""
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
            if self.line is not None and self.line != self.row:
                parts.append(f"(line {self.line})")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        where = " ".join(parts)
        if self.field:
            where = f"{where}, {self.field}" if where else self.field
        return where


_SEV = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}

# Outputs are length outliers when their log-length is this many robust standard deviations from the median
# AND they are at least OUTLIER_FACTOR times longer (or shorter) than the median, by OUTLIER_MIN_CHARS or more.
OUTLIER_Z = 3.5
OUTLIER_FACTOR = 4.0
OUTLIER_MIN_CHARS = 20        # a long outlier is at least this much longer than the median
OUTLIER_MIN_CHARS_SHORT = 10  # a short one at least this much shorter
OUTLIER_MIN_EXAMPLES = 20
LABEL_MIN_EXAMPLES = 10
NEAR_DUPLICATE_SCORE = 90.0
NEAR_DUPLICATE_MIN_CHARS = 12
DEFAULT_NEAR_LIMIT = 200_000
NEAR_DUPLICATE_MAX_ROWS = 20_000


def _find(rule: str, sev: str, msg: str, row: int | None = None, line: int | None = None,
          field: str | None = None, example_id: int | None = None, related: tuple[int, ...] = ()) -> Finding:
    return Finding(_SEV[sev], rule, msg, row, line, field, example_id, related)


def row_issues(inp: str, out: str, target: Target, system_instruction: str = "",
               scan: bool = True) -> list[tuple[str, str, str, str | None]]:
    """Every per-example problem of one input/output pair: (rule, severity, message, field)."""
    issues: list[tuple[str, str, str, str | None]] = []
    for text, field in ((inp, "input"), (out, "output")):
        for rule, sev, msg in R.text_issues(text, field, scan and R.needs_scan(text)):
            issues.append((rule, sev, msg, field))
        over = R.length_issue(text, field, target)
        if over:
            issues.append((*over, field))
    if target is Target.AGENT_PLATFORM:
        tok = R.token_issue(inp, out, system_instruction)
        if tok:
            issues.append((*tok, None))
    return issues


# --- dataset-level rules, shared by validate() and IncrementalValidator ------------------------------------

def count_findings(n_train: int, n_validation: int, target: Target) -> list[Finding]:
    """Findings about how many examples there are."""
    out: list[Finding] = []
    if target is Target.GEMINI_API and n_train < R.GEMINI_MIN_EXAMPLES:
        out.append(_find(R.TOO_FEW, "error",
                         f"There are {n_train} training examples; the Gemini API needs at least "
                         f"{R.GEMINI_MIN_EXAMPLES} to tune. Add more examples (100 to 500 work best)."))
    elif n_train < R.RECOMMENDED_MIN_EXAMPLES:
        out.append(_find(R.RECOMMENDED_COUNT, "warning",
                         f"There are {n_train} training examples. Google recommends starting with at least "
                         f"{R.RECOMMENDED_MIN_EXAMPLES}; with fewer the tuned model often learns little. "
                         f"Add more examples that look like real requests."))
    elif target is Target.GEMINI_API and n_train > R.GEMINI_RECOMMENDED_MAX_EXAMPLES:
        out.append(_find(R.RECOMMENDED_COUNT, "info",
                         f"There are {n_train:,} training examples; the Gemini API guide recommends "
                         f"{R.RECOMMENDED_MIN_EXAMPLES} to {R.GEMINI_RECOMMENDED_MAX_EXAMPLES}. More is allowed "
                         f"but makes tuning slower and must still fit the 4 MB inline limit."))
    if target is Target.AGENT_PLATFORM and (too_many := validation_set_problem(n_train, n_validation)):
        out.append(_find(R.VALIDATION_SIZE, "error", too_many))
    return out


def size_findings(inline_bytes: int, agent_file_bytes: int, target: Target) -> list[Finding]:
    """Findings about the size of what would be sent (Gemini API inline data, Agent Platform file)."""
    if target is Target.GEMINI_API and inline_bytes > R.GEMINI_INLINE_BYTES:
        return [_find(R.INLINE_SIZE, "error",
                      f"The training examples hold about {inline_bytes / 1e6:.1f} MB of text; the Gemini API "
                      f"accepts at most 4 MB sent with the request. Remove examples or shorten long ones.")]
    if target is Target.AGENT_PLATFORM and agent_file_bytes > R.AGENT_MAX_FILE_BYTES:
        return [_find(R.FILE_SIZE, "error",
                      f"The training file would be about {agent_file_bytes / 1e9:.2f} GB; Agent Platform accepts "
                      f"at most 1 GB per file. Remove examples or shorten long ones.")]
    return []


def settings_findings(settings: DatasetSettings, target: Target) -> list[Finding]:
    if target is Target.GEMINI_API and settings.system_instruction.strip():
        return [_find(R.SYSTEM_INSTRUCTION_UNSUPPORTED, "warning",
                      "The dataset has a system instruction, but Gemini API tuning takes input and output "
                      "only, so it is not sent. Move what it says into the preamble, or tune on Agent "
                      "Platform.")]
    return []


def _column_bytes(texts: list[str], lengths: list[int]) -> int:
    """UTF-8 size of a column: its character count plus the extra bytes of its non-ASCII texts."""
    wide = "".join(compress(texts, map(operator.not_, map(str.isascii, texts))))  # all C-level
    return sum(lengths) + len(wide.encode("utf-8", "surrogatepass")) - len(wide)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _utf8_total(texts: Iterable[str]) -> int:
    return sum(len(t) if t.isascii() else len(t.encode("utf-8", "surrogatepass")) for t in texts)


def dup_message(other_row: str, conflicting: bool) -> str:
    if conflicting:
        return (f"Same input as {other_row} but a different output. The model is taught two answers to one "
                f"question and learns neither well; keep the right one or make the inputs differ.")
    return (f"Exactly the same input and output as {other_row}. Copies give this example extra weight "
            f"without teaching anything new; delete one of them.")


def label_message(label: str, share: int, total: int, has_label: bool) -> str:
    if has_label:
        return (f"This input starts with “{label}:”, but most inputs ({total - share} of {total}) do not. The "
                f"model copies the format of its examples; use one format everywhere.")
    return (f"Most inputs ({share} of {total}) start with “{label}:”, this one does not. The model copies the "
            f"format of its examples; use one format everywhere.")


PREAMBLE_MESSAGE = ("This input already starts with the dataset's preamble, which is added to every input when "
                    "tuning, so the model would see it twice. Remove it from the input.")


def majority_label(labels: Counter[str], total: int) -> tuple[str, int] | None:
    """The label that makes the format inconsistent, with its count, or None when the format is consistent."""
    if total < LABEL_MIN_EXAMPLES or not labels:
        return None
    label, count = labels.most_common(1)[0]
    if count == total or count * 10 < total:  # everyone has it, or too few to be a convention
        return None
    return label, count


def _chars(n: int) -> str:
    return f"{n:,} character{'' if n == 1 else 's'}"


@dataclass(slots=True)
class OutlierBounds:
    """Output lengths outside (low, high) are outliers; computed from the lengths' median and spread."""

    low: float
    high: float
    median: float

    @classmethod
    def from_lengths(cls, lengths: Sequence[int]) -> OutlierBounds | None:
        if len(lengths) < OUTLIER_MIN_EXAMPLES:
            return None
        return cls.from_counts(Counter(lengths))

    @classmethod
    def from_counts(cls, counts: Counter[int]) -> OutlierBounds | None:
        """The same bounds as :meth:`from_lengths`, from a {length: how many} table (fast for many rows)."""
        total = sum(counts.values())
        if total < OUTLIER_MIN_EXAMPLES:
            return None

        def weighted_median(pairs: list[tuple[float, int]]) -> float:
            pairs.sort()
            half = total / 2
            seen = 0
            for k, (value, c) in enumerate(pairs):
                seen += c
                if seen > half:
                    return value
                if seen == half:  # even split: average with the next value
                    return (value + pairs[k + 1][0]) / 2
            return pairs[-1][0]

        logs = [(math.log1p(length), c) for length, c in counts.items()]
        med_log = weighted_median(list(logs))
        mad = weighted_median([(abs(v - med_log), c) for v, c in logs])
        median = weighted_median([(float(length), c) for length, c in counts.items()])
        return cls._make(med_log, mad, median)

    @classmethod
    def _make(cls, med_log: float, mad: float, median: float) -> OutlierBounds:
        spread = OUTLIER_Z * mad / 0.6745 if mad > 0 else 0.0
        high = max(math.expm1(med_log + spread), median * OUTLIER_FACTOR, median + OUTLIER_MIN_CHARS)
        low = min(math.expm1(med_log - spread), median / OUTLIER_FACTOR, median - OUTLIER_MIN_CHARS_SHORT)
        return cls(low, high, median)

    def message(self, length: int) -> str | None:
        if length > self.high:
            return (f"This output has {_chars(length)}, far longer than most ({self.median:,.0f} is "
                    f"typical). The model learns the length of answers too; check that it belongs here.")
        if length < self.low:
            return (f"This output has {_chars(length)}, far shorter than most ({self.median:,.0f} is "
                    f"typical). The model learns the length of answers too; check that it is complete.")
        return None


# --- near duplicates ---------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def near_duplicates(examples: Sequence[Example] | Sequence[str], limit: int = DEFAULT_NEAR_LIMIT,
                    score: float = NEAR_DUPLICATE_SCORE) -> list[tuple[int, int, float]]:
    """Pairs of examples whose inputs are nearly but not exactly the same: (index, earlier index, similarity %).

    Inputs equal after ignoring case and spacing are found through a hash; others by comparing each input
    with its neighbours in sorted order and in sorted order of the reversed text (so a difference at either
    end is found), at most ``limit`` fuzzy comparisons in all.
    """
    from rapidfuzz.fuzz import ratio

    texts = [e.input if isinstance(e, Example) else e for e in examples]
    found: dict[int, tuple[int, float]] = {}
    first_raw: dict[str, int] = {}
    first_norm: dict[str, int] = {}
    keys: list[tuple[str, int]] = []
    for i, t in enumerate(texts):
        if first_raw.setdefault(t, i) != i or not t.strip():
            continue  # exact duplicates are reported by the duplicate rule
        k = _norm(t)
        j = first_norm.setdefault(k, i)
        if j != i:
            found[i] = (j, 100.0)
        elif len(k) >= NEAR_DUPLICATE_MIN_CHARS:
            keys.append((k, i))
    budget = limit
    min_ratio = score / (200.0 - score)  # ratio() can only reach `score` if the shorter is this share of the longer
    for order in (sorted(keys), sorted(keys, key=lambda ki: ki[0][::-1])):
        for (a, ia), (b, ib) in pairwise(order):
            if budget <= 0:
                break
            la, lb = len(a), len(b)
            if min(la, lb) < min_ratio * max(la, lb):
                continue
            budget -= 1
            s = ratio(a, b, score_cutoff=score)
            if s:
                later, earlier = (ia, ib) if ia > ib else (ib, ia)
                if later not in found or found[later][1] < s:
                    found[later] = (earlier, s)
    return sorted((i, j, s) for i, (j, s) in found.items())


def near_duplicate_finding(row: int, other_row: int, similarity: float, line: int | None = None,
                           example_id: int | None = None) -> Finding:
    how = "the same apart from capitals and spacing" if similarity >= 100 else f"{similarity:.0f}% similar"
    return _find(R.NEAR_DUPLICATE, "info",
                 f"This input is nearly the same as row {other_row}'s ({how}). Near-copies add weight without "
                 f"teaching anything new; keep one unless the difference matters.",
                 row, line, "input", example_id, (other_row,))


# --- whole-dataset validation ------------------------------------------------------------------------------

def _flagged(flags: Iterable[object]) -> list[int]:
    """Indices of the true items (the scan itself runs in C; only hits cost Python time)."""
    return list(compress(count(), flags))


def _zero_indices(clean: Sequence[int] | bytes) -> list[int]:
    if isinstance(clean, (bytes, bytearray)):
        out, i = [], clean.find(0)
        while i >= 0:
            out.append(i)
            i = clean.find(0, i + 1)
        return out
    return _flagged(map(operator.not_, clean))


def _candidate_rows(inputs: list[str], outputs: list[str], lengths: tuple[list[int], list[int]], target: Target,
                    system: str, clean: Sequence[int] | bytes | None) -> list[int]:
    """Rows that may have a per-example problem, found with C-level passes over whole columns.

    Rows not returned are certainly fine: non-empty, no surrounding whitespace, within the limits and (when
    ``clean`` says so) free of control characters and broken encoding.
    """
    n = len(inputs)
    rows: set[int] = set()
    for col, lens, field in ((inputs, lengths[0], "input"), (outputs, lengths[1], "output")):
        if lens and min(lens) == 0:
            rows.update(_flagged(map(operator.not_, lens)))
        if any(map(operator.is_not, map(str.strip, col), col)):
            rows.update(_flagged(map(operator.is_not, map(str.strip, col), col)))
        limit = R.max_chars(target, field)
        if limit is not None and lens and max(lens) > limit:
            rows.update(_flagged(map(limit.__lt__, lens)))
        if clean is None:
            # every character _CONTROL matches is non-printable, and every _MOJIBAKE match holds one of the
            # (non-ASCII) markers, so only non-ASCII texts are searched for them
            rows.update(_flagged(map(operator.not_, map(str.isprintable, col))))
            wide = _flagged(map(operator.not_, map(str.isascii, col)))
            if wide:
                texts = [col[i] for i in wide]
                for ch in R.MOJIBAKE_MARKERS:
                    rows.update(wide[k] for k in _flagged(map(operator.contains, texts, repeat(ch))))
    if clean is not None:
        if len(clean) != n:
            return list(range(n))
        rows.update(_zero_indices(clean))
    if target is Target.AGENT_PLATFORM:
        limit = R.AGENT_MAX_EXAMPLE_TOKENS - len(system)
        totals = list(map(operator.add, lengths[0], lengths[1]))
        if totals and max(totals) > limit:
            rows.update(_flagged(map(limit.__lt__, totals)))
    return sorted(rows)


LABEL_SAMPLE = 2_000


def _labels(inputs: list[str]) -> dict[int, str]:
    """{row index: label} for inputs that start with a label such as "Question:".

    Large datasets are first probed with a fixed random sample: a label must be on at least 10% of the
    inputs to matter (see majority_label); if no label reaches 5% of the sample (the chance of missing a
    10% label that way is below 1e-12), the full pass is skipped.
    """
    n = len(inputs)
    if n > LABEL_SAMPLE * 10:
        import random

        sample = random.Random(n).sample(range(n), LABEL_SAMPLE)
        seen = Counter(lab for i in sample if (lab := R.input_label(inputs[i])) is not None)
        if not seen or seen.most_common(1)[0][1] * 20 < LABEL_SAMPLE:
            return {}
    with_colon = _flagged(map((-1).__ne__, map(str.find, inputs, repeat(":"), repeat(0), repeat(48))))
    return {i: lab for i in with_colon if (lab := R.input_label(inputs[i])) is not None}


def _length_bounds(lengths: list[int]) -> OutlierBounds | None:
    """Outlier bounds over many lengths, computed on their distinct values (few) rather than all rows."""
    if len(lengths) < OUTLIER_MIN_EXAMPLES:
        return None
    return OutlierBounds.from_counts(Counter(lengths))


def validate(examples: Sequence[Example], settings: DatasetSettings, target: Target | str,
             source_lines: Sequence[int] | None = None, *, clean: Sequence[int] | bytes | None = None,
             near_limit: int = DEFAULT_NEAR_LIMIT, near_max_rows: int = NEAR_DUPLICATE_MAX_ROWS) -> list[Finding]:
    """All findings for ``examples`` on ``target``: dataset-wide ones first, then by row.

    ``clean[i]`` true tells that example i holds no control characters or broken encoding (a reader that
    saw the raw bytes can know this cheaply), so the character scan is skipped for it. The fuzzy
    near-duplicate pass makes at most ``near_limit`` comparisons and runs on datasets of up to
    ``near_max_rows`` examples (larger ones get a note saying so; exact and case/spacing duplicates are
    still found). Most work runs as C-level passes over whole columns, so clean rows cost little.
    """
    splits: list[Split] | None = list(map(_get_split, examples))
    if splits is not None and splits.count(Split.TRAIN) == len(splits):
        splits = None
    return validate_columns(list(map(_get_input, examples)), list(map(_get_output, examples)), splits, settings,
                            target, source_lines, clean=clean, near_limit=near_limit, near_max_rows=near_max_rows)


def validate_columns(inputs: list[str], outputs: list[str], splits: Sequence[Split] | None,
                     settings: DatasetSettings, target: Target | str, source_lines: Sequence[int] | None = None, *,
                     clean: Sequence[int] | bytes | None = None, near_limit: int = DEFAULT_NEAR_LIMIT,
                     near_max_rows: int = NEAR_DUPLICATE_MAX_ROWS) -> list[Finding]:
    """:func:`validate` over text columns (``splits`` None: every example is in train)."""
    target = Target(target)
    n = len(inputs)
    lines = source_lines if source_lines is not None and len(source_lines) == n else None
    system = settings.system_instruction
    in_lengths = list(map(len, inputs))
    out_lengths = list(map(len, outputs))
    rows: list[Finding] = []
    append = rows.append

    def line_of(i: int) -> int | None:
        return lines[i] if lines is not None else None

    for i in _candidate_rows(inputs, outputs, (in_lengths, out_lengths), target, system, clean):
        scan = clean is None or not clean[i] if clean is not None and len(clean) == n else True
        for rule, sev, msg, field in row_issues(inputs[i], outputs[i], target, system, scan):
            append(_find(rule, sev, msg, i + 1, line_of(i), field))

    # duplicates and conflicts (the common case, no duplicates, is one C-level set build)
    if len(set(inputs)) < n:
        first: dict[str, int] = {}
        for i, inp in enumerate(inputs):
            j = first.setdefault(inp, i)
            if j != i and inp.strip():
                conflicting = outputs[i] != outputs[j]
                append(_find(R.CONFLICT if conflicting else R.DUPLICATE, "warning",
                             dup_message(f"row {j + 1}", conflicting), i + 1, line_of(i), "input",
                             related=(j + 1,)))
        del first

    # format consistency and the preamble
    labels = _labels(inputs)
    maj = majority_label(Counter(labels.values()), n)
    if maj is not None:
        label, count_ = maj
        shown = R.label_text(inputs[next(i for i, lab in labels.items() if lab == label)])
        mostly = count_ * 2 >= n
        for i in range(n) if mostly else list(labels):
            if mostly != (labels.get(i) == label):
                append(_find(R.INCONSISTENT_FORMAT, "warning", label_message(shown, count_, n, not mostly),
                             i + 1, line_of(i), "input"))
    preamble = settings.preamble.strip()
    if preamble:
        for i in _flagged(map(str.startswith, map(str.lstrip, inputs), repeat(preamble))):
            append(_find(R.PREAMBLE_REPEATED, "warning", PREAMBLE_MESSAGE, i + 1, line_of(i), "input"))

    # output lengths
    bounds = _length_bounds(out_lengths)
    if bounds is not None:
        odd = {length for length in set(out_lengths) if bounds.message(length)}
        if odd:
            for i in _flagged(map(odd.__contains__, out_lengths)):
                outlier = bounds.message(out_lengths[i])
                if outlier:
                    append(_find(R.LENGTH_OUTLIER, "warning", outlier, i + 1, line_of(i), "output"))

    dataset: list[Finding] = []
    if near_limit > 0 and n <= near_max_rows:
        for i, j, sim in near_duplicates(inputs, near_limit):
            append(near_duplicate_finding(i + 1, j + 1, sim, line_of(i)))
    elif near_limit > 0:
        dataset.append(_find(R.NEAR_DUPLICATE, "info",
                             f"The search for nearly identical inputs was skipped: it runs on up to "
                             f"{near_max_rows:,} examples and this dataset has {n:,}. Exact copies were still "
                             f"checked; the Dataset tab can run the full search."))

    # dataset-level
    n_validation = splits.count(Split.VALIDATION) if splits is not None else 0
    n_test = splits.count(Split.TEST) if splits is not None else 0
    n_train = n - n_validation - n_test
    dataset = count_findings(n_train, n_validation, target) + settings_findings(settings, target) + dataset
    inline = agent_file = 0
    pre_bytes = len(settings.preamble.encode("utf-8", "surrogatepass"))
    if target is Target.GEMINI_API:
        all_splits = splits if splits is not None else [Split.TRAIN] * n
        train_in = inputs if n_train == n else [t for t, s in zip(inputs, all_splits, strict=True)
                                                 if s is Split.TRAIN]
        train_out = outputs if n_train == n else [t for t, s in zip(outputs, all_splits, strict=True)
                                                   if s is Split.TRAIN]
        lower = (sum(in_lengths) + sum(out_lengths) if n_train == n else
                 sum(map(len, train_in)) + sum(map(len, train_out))) + len(settings.preamble) * n_train
        inline = lower if lower > R.GEMINI_INLINE_BYTES else \
            _utf8_total(train_in) + _utf8_total(train_out) + pre_bytes * n_train
    else:
        lower = sum(in_lengths) + sum(out_lengths)
        if lower * 4 + n * (R.AGENT_LINE_OVERHEAD_BYTES + pre_bytes) > R.AGENT_MAX_FILE_BYTES:
            agent_file = _utf8_total(inputs) + _utf8_total(outputs) + n * (R.AGENT_LINE_OVERHEAD_BYTES + pre_bytes)
    dataset += size_findings(inline, agent_file, target)
    rows.sort(key=_row_key)
    return dataset + rows


_get_id = operator.attrgetter("id")
_get_input = operator.attrgetter("input")
_get_output = operator.attrgetter("output")
_get_split = operator.attrgetter("split")


def _row_key(f: Finding) -> tuple[int, int]:
    return (f.row or 0, f.severity.rank)


def counts_of(findings: Iterable[Finding]) -> dict[str, int]:
    """{"error": n, "warning": n, "info": n}."""
    c = Counter(f.severity.value for f in findings)
    return {"error": c["error"], "warning": c["warning"], "info": c["info"]}


# --- incremental validation --------------------------------------------------------------------------------

RowOf = Callable[[int], "int | None"]


class IncrementalValidator:
    """Validation kept current while the user edits, at a cost independent of the dataset's size per edit.

    Per-example findings are cached by example id; duplicates use a hash index from input text to ids;
    label, preamble and length-outlier findings are derived on demand from counters and from outlier
    bounds, re-computed (O(n)) only when the dataset has grown or shrunk by a tenth since, so their cost is
    amortised over many edits. Examples must
    carry distinct ids. ``row_of(id)`` (optional) gives the current 1-based row of an id, so messages
    and ``Finding.row`` name rows as they are now; ``related`` holds example ids.
    Near duplicates are not tracked here: run :func:`near_duplicates` as a separate pass.
    """

    def __init__(self, settings: DatasetSettings, target: Target | str, row_of: RowOf | None = None) -> None:
        self.settings = settings
        self.target = Target(target)
        self.row_of = row_of
        self._clear()

    def _clear(self) -> None:
        # id → input / output, and the split of ids not in train: dicts of strings, which (unlike one tuple per
        # row) the garbage collector never has to walk
        self._rows: dict[int, str] = {}
        self._outs: dict[int, str] = {}
        self._split_of: dict[int, Split] = {}
        self._static: dict[int, list[Finding]] = {}
        self._static_counts: Counter[str] = Counter()
        # input text → id, or → [ids] in the order added when several examples share it
        self._by_input: dict[str, int | list[int]] = {}
        self._dup_rows = 0
        self._label_of: dict[int, str] = {}
        self._labels: Counter[str] = Counter()
        self._label_shown: dict[str, str] = {}
        self._preamble_ids: set[int] = set()
        self._splits: Counter[Split] = Counter()
        self._train_bytes = 0
        self._all_bytes = 0
        self._bounds: OutlierBounds | None = None
        self._bounds_n = 0  # dataset size when the bounds were computed
        self._outliers: set[int] = set()

    # -- editing --
    def reset(self, examples: Iterable[Example]) -> None:
        """Validate a whole dataset from scratch (in row order), with C-level passes over whole columns."""
        self._clear()
        rows = examples if isinstance(examples, list) else list(examples)
        ids = list(map(_get_id, rows))
        inputs = list(map(_get_input, rows))
        outputs = list(map(_get_output, rows))
        splits = list(map(_get_split, rows))
        self._rows = dict(zip(ids, inputs, strict=True))
        self._outs = dict(zip(ids, outputs, strict=True))
        self._split_of = {rid: sp for rid, sp in zip(ids, splits, strict=True) if sp is not Split.TRAIN} \
            if splits.count(Split.TRAIN) != len(splits) else {}
        if len(self._rows) != len(rows):
            raise ValueError("IncrementalValidator needs distinct example ids")
        lengths = (list(map(len, inputs)), list(map(len, outputs)))
        system = self.settings.system_instruction
        for i in _candidate_rows(inputs, outputs, lengths, self.target, system, None):
            issues = row_issues(inputs[i], outputs[i], self.target, system)
            if issues:
                rid = ids[i]
                found = [_find(rule, sev, msg, None, None, field, rid) for rule, sev, msg, field in issues]
                self._static[rid] = found
                self._static_counts.update(f.severity.value for f in found)
        # duplicates: one dict build when there are none
        if len(set(inputs)) == len(inputs):
            self._by_input = dict(zip(inputs, ids, strict=True))
        else:
            for rid, inp in zip(ids, inputs, strict=True):
                cur = self._by_input.get(inp)
                if cur is None:
                    self._by_input[inp] = rid
                elif isinstance(cur, int):
                    self._by_input[inp] = [cur, rid]
                    self._dup_rows += 1
                else:
                    cur.append(rid)
                    self._dup_rows += 1
        keys = list(self._by_input)
        for blank in list(compress(keys, map(operator.not_, map(str.strip, keys)))):  # empty inputs are no dups
            group = self._by_input.pop(blank)
            if isinstance(group, list):
                self._dup_rows -= len(group) - 1
        with_colon = _flagged(map((-1).__ne__, map(str.find, inputs, repeat(":"), repeat(0), repeat(48))))
        for i in with_colon:
            label = R.input_label(inputs[i])
            if label is not None:
                self._label_of[ids[i]] = label
                self._labels[label] += 1
                self._label_shown.setdefault(label, R.label_text(inputs[i]))
        preamble = self.settings.preamble.strip()
        if preamble:
            self._preamble_ids = {ids[i] for i in _flagged(map(str.startswith, map(str.lstrip, inputs),
                                                                repeat(preamble)))}
        self._splits = Counter(splits)
        self._all_bytes = _column_bytes(inputs, lengths[0]) + _column_bytes(outputs, lengths[1])
        if self._splits[Split.TRAIN] == len(rows):
            self._train_bytes = self._all_bytes
        else:
            train = [i for i, sp in enumerate(splits) if sp is Split.TRAIN]
            self._train_bytes = _utf8_total(inputs[i] for i in train) + _utf8_total(outputs[i] for i in train)
        self._set_bounds(ids, lengths[1])

    def _set_bounds(self, ids: list[int], out_lengths: list[int]) -> None:
        self._bounds = _length_bounds(out_lengths)
        self._bounds_n = len(ids)
        self._outliers = set()
        if self._bounds is not None:
            odd = {n for n in set(out_lengths) if self._bounds.message(n)}
            if odd:
                self._outliers = {ids[i] for i in _flagged(map(odd.__contains__, out_lengths))}

    def _maybe_refresh_bounds(self) -> None:
        """Recompute the outlier bounds once the dataset has grown or shrunk by a tenth since they were computed
        (O(n), so amortised over at least n/10 edits); until then edits are judged against the old bounds."""
        n = len(self._rows)
        if abs(n - self._bounds_n) * 10 >= max(self._bounds_n, OUTLIER_MIN_EXAMPLES):
            ids = list(self._rows)
            self._set_bounds(ids, list(map(len, self._outs.values())))

    def set_settings(self, settings: DatasetSettings, target: Target | str) -> None:
        """Switch preamble/system instruction/target: re-validates everything (O(n))."""
        rows = [Example(i, self._outs[rid], self._split_of.get(rid, Split.TRAIN), id=rid)
                for rid, i in self._rows.items()]
        self.settings, self.target = settings, Target(target)
        self.reset(rows)

    def update(self, changed: Iterable[Example]) -> None:
        """Re-validate examples that were added or edited."""
        for e in changed:
            if e.id in self._rows:
                self._remove(e.id)
            self._add(e.id, e.input, e.output, e.split)
        self._maybe_refresh_bounds()

    def remove(self, ids: Iterable[int]) -> None:
        for rid in ids:
            if rid in self._rows:
                self._remove(rid)
        self._maybe_refresh_bounds()

    def _add(self, rid: int, inp: str, out: str, split: Split, check: bool = True) -> None:
        self._rows[rid] = inp
        self._outs[rid] = out
        if split is not Split.TRAIN:
            self._split_of[rid] = split
        issues = row_issues(inp, out, self.target, self.settings.system_instruction) if check else None
        if issues:
            found = [_find(rule, sev, msg, None, None, field, rid) for rule, sev, msg, field in issues]
            self._static[rid] = found
            self._static_counts.update(f.severity.value for f in found)
        if inp.strip():
            by = self._by_input
            cur = by.get(inp)
            if cur is None:
                by[inp] = rid
            elif isinstance(cur, int):
                by[inp] = [cur, rid]
                self._dup_rows += 1
            else:
                cur.append(rid)
                self._dup_rows += 1
        label = R.input_label(inp)
        if label is not None:
            self._label_of[rid] = label
            self._labels[label] += 1
            self._label_shown.setdefault(label, R.label_text(inp))
        preamble = self.settings.preamble.strip()
        if preamble and inp.lstrip().startswith(preamble):
            self._preamble_ids.add(rid)
        self._splits[split] += 1
        size = _utf8_len(inp) + _utf8_len(out)
        self._all_bytes += size
        if split is Split.TRAIN:
            self._train_bytes += size
        if self._bounds is not None and self._bounds.message(len(out)):
            self._outliers.add(rid)

    def _remove(self, rid: int) -> None:
        inp = self._rows.pop(rid)
        out = self._outs.pop(rid)
        split = self._split_of.pop(rid, Split.TRAIN)
        found = self._static.pop(rid, None)
        if found:
            self._static_counts.subtract(f.severity.value for f in found)
        cur = self._by_input.get(inp)
        if cur == rid:
            del self._by_input[inp]
        elif isinstance(cur, list) and rid in cur:
            cur.remove(rid)
            self._dup_rows -= 1
            if len(cur) == 1:
                self._by_input[inp] = cur[0]
        label = self._label_of.pop(rid, None)
        if label is not None:
            self._labels[label] -= 1
            if not self._labels[label]:
                del self._labels[label]
        self._preamble_ids.discard(rid)
        self._splits[split] -= 1
        size = _utf8_len(inp) + _utf8_len(out)
        self._all_bytes -= size
        if split is Split.TRAIN:
            self._train_bytes -= size
        self._outliers.discard(rid)

    # -- queries --
    def _name(self, rid: int) -> str:
        row = self.row_of(rid) if self.row_of is not None else None
        return f"row {row}" if row is not None else "another example"

    def findings_for(self, example_id: int) -> list[Finding]:
        """Every finding about one example (empty for unknown ids)."""
        inp = self._rows.get(example_id)
        if inp is None:
            return []
        out = self._outs[example_id]
        found = list(self._static.get(example_id, ()))
        group = self._by_input.get(inp)
        if isinstance(group, list) and group[0] != example_id:
            first = group[0]
            conflicting = self._outs[first] != out
            found.append(_find(R.CONFLICT if conflicting else R.DUPLICATE, "warning",
                               dup_message(self._name(first), conflicting), None, None, "input", example_id,
                               (first,)))
        maj = majority_label(self._labels, len(self._rows))
        if maj is not None:
            label, count = maj
            mostly = count * 2 >= len(self._rows)
            if mostly != (self._label_of.get(example_id) == label):
                found.append(_find(R.INCONSISTENT_FORMAT, "warning",
                                   label_message(self._label_shown.get(label, label), count, len(self._rows),
                                                 not mostly), None, None, "input",
                                   example_id))
        if example_id in self._preamble_ids:
            found.append(_find(R.PREAMBLE_REPEATED, "warning", PREAMBLE_MESSAGE, None, None, "input", example_id))
        if example_id in self._outliers and self._bounds is not None:
            msg = self._bounds.message(len(out))
            if msg:
                found.append(_find(R.LENGTH_OUTLIER, "warning", msg, None, None, "output", example_id))
        if self.row_of is not None and found:
            row = self.row_of(example_id)
            found = [Finding(f.severity, f.rule, f.message, row, f.line, f.field, f.example_id, f.related)
                     for f in found]
        return found

    def dataset_findings(self) -> list[Finding]:
        n = len(self._rows)
        n_val = self._splits[Split.VALIDATION]
        n_train = n - n_val - self._splits[Split.TEST]
        pre = len(self.settings.preamble.encode("utf-8", "surrogatepass"))
        inline = self._train_bytes + pre * n_train
        agent_file = self._all_bytes + n * (R.AGENT_LINE_OVERHEAD_BYTES + pre)
        return (count_findings(n_train, n_val, self.target) + settings_findings(self.settings, self.target)
                + size_findings(inline, agent_file, self.target))

    def all_findings(self) -> list[Finding]:
        """Dataset findings, then each example's, in the order examples were added (O(n))."""
        out = self.dataset_findings()
        for rid in self._rows:
            out.extend(self.findings_for(rid))
        return out

    def counts(self) -> dict[str, int]:
        """{"error": n, "warning": n, "info": n} over all findings, in O(1) (plus the dataset-level rules)."""
        c = Counter({k: v for k, v in self._static_counts.items() if v})
        n = len(self._rows)
        warnings = self._dup_rows + len(self._preamble_ids) + len(self._outliers)
        maj = majority_label(self._labels, n)
        if maj is not None:
            _label, count = maj
            warnings += (n - count) if count * 2 >= n else count
        c["warning"] += warnings
        for f in self.dataset_findings():
            c[f.severity.value] += 1
        return {"error": c["error"], "warning": c["warning"], "info": c["info"]}

    def __len__(self) -> int:
        return len(self._rows)
