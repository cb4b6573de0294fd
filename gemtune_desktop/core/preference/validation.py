"""Validation of preference examples in plain words: once over a file, or kept current while the user edits.

Rules (limits and sources in :mod:`gemtune_desktop.core.preference.rules`):

* per example: an empty prompt or answer; spaces around a text, invisible control characters and broken
  encoding (the supervised text rules); the same text as preferred and dispreferred answer; more than
  131,072 tokens for the prompt (with the preamble), the system instruction and the longer answer;
* across examples: a preferred answer that another example rejects (its dispreferred answer); the same
  example twice;
* for the dataset: no training examples, fewer than the recommended 100, more than 10M; the validation-set
  rule; the training file over 1 GB as it would be uploaded.

:class:`PreferenceValidator` keeps hash indexes so that an edit re-validates in time independent of the
dataset's size (the Dataset tab); :func:`validate_preferences` runs it once over a list (``check``, imports).
The findings are :class:`gemtune_desktop.core.validation.Finding`, so the findings list, the CLI and the
filters treat them like supervised ones; ``field`` is one of ``prompt``, ``preferred``, ``dispreferred``.
"""

from __future__ import annotations

import gc
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, count, repeat
from typing import NamedTuple

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.examples import Split
from gemtune_desktop.core.preference import rules as P
from gemtune_desktop.core.preference.model import FIELD_WORDS, PreferenceExample, PreferenceSettings
from gemtune_desktop.core.preference.writers import UploadSizer
from gemtune_desktop.core.tokens import estimate_tokens
from gemtune_desktop.core.validation import Finding, Severity

RowOf = Callable[[int], "int | None"]
_SEV = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO}


class _Row(NamedTuple):
    prompt: str
    preferred: str
    dispreferred: str
    system: str
    split: Split


def _find(rule: str, sev: str, msg: str, field: str | None = None, example_id: int | None = None,
          related: tuple[int, ...] = ()) -> Finding:
    return Finding(_SEV[sev], rule, msg, None, None, field, example_id, related)


def _plain(text: str) -> bool:
    """True when a text certainly has none of the per-text problems (cheap C-level tests only).

    Every character the control-character rule finds is non-printable, and every broken-encoding match holds
    one of the (non-ASCII) markers, so printable ASCII text, and printable text without a marker, is clean.
    """
    if not text or text[0].isspace() or text[-1].isspace() or not text.isprintable():
        return False
    return text.isascii() or not ("Ã" in text or "Â" in text or "â" in text or "\ufffd" in text)


def _same_words(a: str, b: str) -> bool:
    """Whether two texts are equal apart from capitals and spacing (the first words are compared first: cheap)."""
    first_a, first_b = a.split(None, 1), b.split(None, 1)
    if not first_a or not first_b or first_a[0].casefold() != first_b[0].casefold():
        return False
    return a.casefold().split() == b.casefold().split()


def row_issues(row: _Row, settings: PreferenceSettings) -> list[tuple[str, str, str, str | None]]:
    """Every problem of one example on its own: (rule, severity, message, field)."""
    issues: list[tuple[str, str, str, str | None]] = []
    for field, text in (("prompt", row.prompt), ("preferred", row.preferred), ("dispreferred", row.dispreferred)):
        if _plain(text):
            continue
        words = FIELD_WORDS[field]
        if not text.strip():
            what = "is empty" if not text else "contains only spaces or blank lines"
            issues.append((P.EMPTY, "error", f"The {words} {what}. Every preference example needs a prompt, a "
                                             f"preferred and a dispreferred answer. Fill it in or delete the row.",
                           field))
            continue
        for rule, sev, msg in R.text_issues(text, words):
            issues.append((rule, sev, msg, field))
    a, b = row.preferred, row.dispreferred
    if a == b or a.strip() == b.strip():
        if a.strip():
            issues.append((P.IDENTICAL_ANSWERS, "error", "The preferred and the dispreferred answer are the same, so "
                                                         "there is nothing to prefer. Change one of them or delete "
                                                         "the example.", "dispreferred"))
    elif _same_words(a, b):
        issues.append((P.IDENTICAL_ANSWERS, "warning", "The preferred and the dispreferred answer differ only in "
                                                       "capitals or spacing. The model learns to prefer that "
                                                       "difference alone; check that this is what you meant.",
                       "dispreferred"))
    tok = token_issue(row, settings)
    if tok:
        issues.append((P.TOO_MANY_TOKENS, "error", tok, None))
    return issues


def token_issue(row: _Row, settings: PreferenceSettings) -> str | None:
    """The per-example token error (prompt with preamble + system instruction + the longer answer), if any."""
    system = row.system or settings.system_instruction
    longer = max(len(row.preferred), len(row.dispreferred))
    if len(settings.preamble) + 1 + len(row.prompt) + len(system) + longer <= P.MAX_EXAMPLE_TOKENS:
        return None  # at most one token per character: cannot be over
    prompt = settings.as_dataset().apply_preamble(row.prompt)
    tokens = (estimate_tokens(prompt) + estimate_tokens(system)
              + max(estimate_tokens(row.preferred), estimate_tokens(row.dispreferred)))
    if tokens <= P.MAX_EXAMPLE_TOKENS:
        return None
    return (f"This example has about {tokens:,} tokens (the prompt, the system instruction and the longer answer "
            f"together); Agent Platform accepts at most {P.MAX_EXAMPLE_TOKENS:,}. Shorten it or split it.")


def count_findings(n_train: int, n_validation: int) -> list[Finding]:
    """Findings about how many examples there are in each split."""
    out: list[Finding] = []
    if n_train == 0:
        out.append(_find(P.TOO_FEW, "error", "There are no preference examples in the training split. Add some, "
                                             "or move examples from validation or test to train."))
    elif n_train < P.RECOMMENDED_MIN_EXAMPLES:
        out.append(_find(P.RECOMMENDED_COUNT, "warning",
                         f"There are {n_train} training preference examples. Google recommends starting with at least "
                         f"{P.RECOMMENDED_MIN_EXAMPLES}; with fewer the tuned model often learns little. Review more "
                         f"answers in the Test tab or import more."))
    elif n_train > P.MAX_TRAINING_EXAMPLES:
        out.append(_find(P.TOO_MANY_EXAMPLES, "error",
                         f"There are {n_train:,} training preference examples; Agent Platform accepts at most "
                         f"{P.MAX_TRAINING_EXAMPLES:,}. Remove some or split them over several jobs."))
    limit = P.validation_limit(n_train, n_validation)
    if n_validation > limit:
        why = (f"at most {P.MAX_VALIDATION_EXAMPLES:,}" if limit == P.MAX_VALIDATION_EXAMPLES else
               f"at most 30 % of the training examples ({limit:,} here) once there are more than "
               f"{P.VALIDATION_SHARE_ABOVE:,}")
        out.append(_find(P.VALIDATION_SIZE, "error",
                         f"{n_validation:,} preference examples are in the validation split; Agent Platform accepts "
                         f"{why}. Move the rest to train or test (Dataset › Split)."))
    return out


def size_findings(train_file_bytes: int) -> list[Finding]:
    if train_file_bytes > P.MAX_FILE_BYTES:
        return [_find(P.FILE_SIZE, "error",
                      f"The training file would be about {train_file_bytes / 1e9:.2f} GB; Agent Platform accepts at "
                      f"most 1 GB for preference tuning. Remove examples or shorten long ones.")]
    return []


def _cross_message(other: str, same_prompt: bool) -> str:
    if same_prompt:
        return (f"{other[:1].upper()}{other[1:]} rejects this same answer for the same prompt: one verdict prefers "
                f"it, the other does not. Keep the verdict you agree with and delete the other.")
    return (f"This preferred answer is the dispreferred answer of {other}, for another prompt. That can be right (an "
            f"answer that fits one question and not another); check that both verdicts are meant.")


def _dup_message(other: str) -> str:
    return (f"Exactly the same prompt and answers as {other}. Copies give this example extra weight without teaching "
            f"anything new; delete one of them.")


def _indices(flags: Iterable[object]) -> list[int]:
    """Indices of the true items (the scan runs in C; only hits cost Python time)."""
    return list(compress(count(), flags))


_FIRST = operator.itemgetter(slice(0, 1))


def candidate_rows(rows: Sequence[PreferenceExample], settings: PreferenceSettings) -> set[int]:
    """Indices of the examples that may have a per-example problem, found with C-level passes over whole columns.

    The others are certainly fine: every text non-empty, without space around it, printable and (when not
    ASCII) without a broken-encoding marker; answers that differ even in their first letter; and too short to
    reach the token limit.
    """
    cols = [list(map(_GET_PROMPT, rows)), list(map(_GET_PREFERRED, rows)), list(map(_GET_DISPREFERRED, rows))]
    out: set[int] = set()
    for col in cols:
        out.update(_indices(map(operator.not_, col)))
        out.update(_indices(map(operator.is_not, map(str.strip, col), col)))
        out.update(_indices(map(operator.not_, map(str.isprintable, col))))
        wide = _indices(map(operator.not_, map(str.isascii, col)))
        if wide:
            texts = [col[i] for i in wide]
            for marker in R.MOJIBAKE_MARKERS:
                out.update(wide[k] for k in _indices(map(operator.contains, texts, repeat(marker))))
    a = map(str.casefold, map(_FIRST, map(str.lstrip, cols[1])))
    b = map(str.casefold, map(_FIRST, map(str.lstrip, cols[2])))
    out.update(_indices(map(operator.eq, a, b)))  # same first letter: maybe the same answer
    room = P.MAX_EXAMPLE_TOKENS - len(settings.preamble) - 1 - len(settings.system_instruction)
    longer = map(max, map(len, cols[1]), map(len, cols[2]))
    own = map(len, map(_GET_SYSTEM, rows))
    out.update(_indices(map(room.__lt__, map(operator.add, map(operator.add, map(len, cols[0]), longer), own))))
    return out


_GET_PROMPT = operator.attrgetter("prompt")
_GET_PREFERRED = operator.attrgetter("preferred")
_GET_DISPREFERRED = operator.attrgetter("dispreferred")
_GET_SYSTEM = operator.attrgetter("system_instruction")


class PreferenceValidator:
    """Findings kept current while the user edits, at a cost per edit independent of the dataset's size.

    Per-example findings are cached by example id; duplicates and rejected-elsewhere answers use hash
    indexes from texts to ids; split counts and upload sizes are running sums. Examples must carry
    distinct ids. ``row_of(id)`` (optional) gives the current 1-based row of an id, so messages and
    ``Finding.row`` name rows as they are now; ``related`` holds example ids.
    """

    def __init__(self, settings: PreferenceSettings | None = None, row_of: RowOf | None = None) -> None:
        self.settings = settings or PreferenceSettings()
        self.row_of = row_of
        self._clear()

    def _clear(self) -> None:
        self._rows: dict[int, _Row] = {}
        self._static: dict[int, list[Finding]] = {}
        self._static_counts: Counter[str] = Counter()
        self._by_key: dict[tuple[str, str, str], list[int]] = {}
        self._dup_rows = 0
        self._preferred: dict[str, set[int]] = {}     # stripped preferred answer → ids
        self._dispreferred: dict[str, set[int]] = {}  # stripped dispreferred answer → ids
        self._cross_rows = 0
        self._splits: Counter[Split] = Counter()
        self._train_bytes = 0
        self._sizer = UploadSizer(self.settings)

    # -- editing --
    def reset(self, examples: Iterable[PreferenceExample]) -> None:
        """Validate a whole set from scratch (in row order).

        Rows certainly free of per-example problems are found with C-level passes over whole columns and skip
        the per-example rules; the rejected-elsewhere count is taken once at the end.
        """
        self._clear()
        rows = examples if isinstance(examples, list) else list(examples)
        look = candidate_rows(rows, self.settings)
        was_enabled = gc.isenabled()
        gc.disable()  # many new objects, none of them garbage: collections would find nothing to free
        try:
            self._reset_rows(rows, look)
        finally:
            if was_enabled:
                gc.enable()

    def _reset_rows(self, rows: list[PreferenceExample], look: set[int]) -> None:
        table, by_key, pref, disp = self._rows, self._by_key, self._preferred, self._dispreferred
        sizer, settings, train = self._sizer, self.settings, Split.TRAIN
        splits: Counter[Split] = Counter()
        train_bytes = dups = 0
        for i, e in enumerate(rows):
            rid = e.id
            if rid in table:
                raise ValueError("PreferenceValidator needs distinct example ids")
            row = table[rid] = _Row(e.prompt, e.preferred, e.dispreferred, e.system_instruction, e.split)
            if i in look:
                issues = row_issues(row, settings)
                if issues:
                    found = self._static[rid] = [_find(r, sev, msg, fld, rid) for r, sev, msg, fld in issues]
                    self._static_counts.update(f.severity.value for f in found)
            key = (row.prompt, row.preferred, row.dispreferred)
            group = by_key.get(key)
            if group is None:
                by_key[key] = [rid]
            else:
                group.append(rid)
                dups += 1
            a, b = row.preferred.strip(), row.dispreferred.strip()
            if a in pref:
                pref[a].add(rid)
            else:
                pref[a] = {rid}
            if b in disp:
                disp[b].add(rid)
            else:
                disp[b] = {rid}
            splits[row.split] += 1
            if row.split is train:
                train_bytes += sizer.of(row.prompt, row.preferred, row.dispreferred, row.system)
        self._dup_rows = dups
        self._splits = splits
        self._train_bytes = train_bytes
        self._cross_rows = sum(map(self._flagged, pref.keys() & disp.keys()))

    def set_settings(self, settings: PreferenceSettings) -> None:
        """Switch preamble or system instruction: re-validates everything (O(n))."""
        rows = [PreferenceExample(r.prompt, r.preferred, r.dispreferred, r.system, r.split, id=rid)
                for rid, r in self._rows.items()]
        self.settings = settings
        self.reset(rows)

    def update(self, changed: Iterable[PreferenceExample]) -> None:
        """Re-validate examples that were added or edited."""
        for e in changed:
            if e.id in self._rows:
                self._remove(e.id)
            self._add(e)

    def remove(self, ids: Iterable[int]) -> None:
        for rid in ids:
            if rid in self._rows:
                self._remove(rid)

    def _flagged(self, text: str) -> int:
        """How many examples preferring ``text`` have it rejected by another example."""
        pref = self._preferred.get(text)
        disp = self._dispreferred.get(text)
        if not pref or not disp or not text:
            return 0
        if len(disp) > 1:
            return len(pref)
        return len(pref - disp)

    def _index(self, table: dict[str, set[int]], other: dict[str, set[int]], text: str, rid: int, add: bool) -> None:
        if text not in other:  # nothing rejects (or prefers) this text elsewhere: no count can change
            if add:
                table.setdefault(text, set()).add(rid)
            else:
                ids = table[text]
                ids.discard(rid)
                if not ids:
                    del table[text]
            return
        self._cross_rows -= self._flagged(text)
        if add:
            table.setdefault(text, set()).add(rid)
        else:
            ids = table[text]
            ids.discard(rid)
            if not ids:
                del table[text]
        self._cross_rows += self._flagged(text)

    def _add(self, e: PreferenceExample, check: bool = True) -> None:
        rid = e.id
        row = _Row(e.prompt, e.preferred, e.dispreferred, e.system_instruction, e.split)
        self._rows[rid] = row
        issues = row_issues(row, self.settings) if check else None
        if issues:
            found = [_find(rule, sev, msg, field, rid) for rule, sev, msg, field in issues]
            self._static[rid] = found
            self._static_counts.update(f.severity.value for f in found)
        key = (row.prompt, row.preferred, row.dispreferred)
        group = self._by_key.setdefault(key, [])
        group.append(rid)
        if len(group) > 1:
            self._dup_rows += 1
        self._index(self._preferred, self._dispreferred, row.preferred.strip(), rid, True)
        self._index(self._dispreferred, self._preferred, row.dispreferred.strip(), rid, True)
        self._splits[row.split] += 1
        if row.split is Split.TRAIN:
            self._train_bytes += self._sizer.of(row.prompt, row.preferred, row.dispreferred, row.system)

    def _remove(self, rid: int) -> None:
        row = self._rows.pop(rid)
        found = self._static.pop(rid, None)
        if found:
            self._static_counts.subtract(f.severity.value for f in found)
        key = (row.prompt, row.preferred, row.dispreferred)
        group = self._by_key[key]
        group.remove(rid)
        if group:
            self._dup_rows -= 1
        else:
            del self._by_key[key]
        self._index(self._preferred, self._dispreferred, row.preferred.strip(), rid, False)
        self._index(self._dispreferred, self._preferred, row.dispreferred.strip(), rid, False)
        self._splits[row.split] -= 1
        if row.split is Split.TRAIN:
            self._train_bytes -= self._sizer.of(row.prompt, row.preferred, row.dispreferred, row.system)

    # -- queries --
    def _name(self, rid: int) -> str:
        row = self.row_of(rid) if self.row_of is not None else None
        return f"row {row}" if row is not None else "another example"

    def _first(self, ids: list[int]) -> int:
        """Of several examples, the one shown first (by current row when known, else the first added)."""
        if self.row_of is None:
            return min(ids)
        row_of = self.row_of
        return min(ids, key=lambda i: (r if (r := row_of(i)) is not None else float("inf"), i))

    def _cross(self, rid: int, row: _Row) -> Finding | None:
        text = row.preferred.strip()
        others = [i for i in self._dispreferred.get(text, ()) if i != rid] if text else []
        if not others:
            return None
        same = [i for i in others if self._rows[i].prompt == row.prompt]
        other = self._first(same or others)
        return _find(P.PREFERRED_REJECTED_ELSEWHERE, "warning", _cross_message(self._name(other), bool(same)),
                     "preferred", rid, (other,))

    def findings_for(self, example_id: int) -> list[Finding]:
        """Every finding about one example (empty for unknown ids)."""
        row = self._rows.get(example_id)
        if row is None:
            return []
        found = list(self._static.get(example_id, ()))
        group = self._by_key[(row.prompt, row.preferred, row.dispreferred)]
        if len(group) > 1:
            first = self._first(group)  # the copy highest in the table is the one the others repeat
            if first != example_id:
                found.append(_find(P.DUPLICATE, "warning", _dup_message(self._name(first)), "prompt", example_id,
                                   (first,)))
        cross = self._cross(example_id, row)
        if cross is not None:
            found.append(cross)
        if self.row_of is not None and found:
            at = self.row_of(example_id)
            found = [Finding(f.severity, f.rule, f.message, at, f.line, f.field, f.example_id, f.related)
                     for f in found]
        return found

    def dataset_findings(self) -> list[Finding]:
        n_val = self._splits[Split.VALIDATION]
        n_train = self._splits[Split.TRAIN]
        return count_findings(n_train, n_val) + size_findings(self._train_bytes)

    def all_findings(self) -> list[Finding]:
        """Dataset findings, then each example's, in the order examples were added (O(n))."""
        out = self.dataset_findings()
        for rid in self._rows:
            out.extend(self.findings_for(rid))
        return out

    def counts(self) -> dict[str, int]:
        """{"error": n, "warning": n, "info": n} over all findings, in O(1)."""
        c = Counter({k: v for k, v in self._static_counts.items() if v})
        c["warning"] += self._dup_rows + self._cross_rows
        for f in self.dataset_findings():
            c[f.severity.value] += 1
        return {"error": c["error"], "warning": c["warning"], "info": c["info"]}

    @property
    def train_file_bytes(self) -> int:
        """Bytes of the training file as it would be uploaded."""
        return self._train_bytes

    def __len__(self) -> int:
        return len(self._rows)


def validate_preferences(examples: Sequence[PreferenceExample], settings: PreferenceSettings | None = None,
                         source_lines: Sequence[int] | None = None) -> list[Finding]:
    """All findings for ``examples``: dataset-wide ones first, then by row (``row`` 1-based, ``line`` from
    ``source_lines``, ``related`` as row numbers)."""
    lines = source_lines if source_lines is not None and len(source_lines) == len(examples) else None
    validator = PreferenceValidator(settings, row_of=lambda rid: rid)
    validator.reset(PreferenceExample(e.prompt, e.preferred, e.dispreferred, e.system_instruction, e.split,
                                      id=i + 1) for i, e in enumerate(examples))
    out = validator.dataset_findings()
    for i in range(len(examples)):
        for f in validator.findings_for(i + 1):
            out.append(Finding(f.severity, f.rule, f.message, i + 1, lines[i] if lines is not None else None,
                               f.field, None, f.related))
    return out
