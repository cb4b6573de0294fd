"""Target-aware validation of a dataset: findings in plain words, once over a file or incrementally while editing.

Every rule is declared once, in :mod:`.rules`; both ways of running them use that table:

* :func:`validate` / :func:`validate_columns` (:mod:`.batch`): a whole dataset at once, for
  ``gemtune-desktop check`` and the pre-flight before tuning;
* :class:`IncrementalValidator` (:mod:`.incremental`): the Dataset tab's. Opening a project validates it
  with the same whole-column sweeps as batch validation (on a worker for a large project); then it is
  kept current edit by edit.

The package's modules, by role: :mod:`.findings` (Severity, Finding, rule identifiers), :mod:`.limits` (the
services' limits), :mod:`.text` (reading one text), :mod:`.kinds` (the kinds of rule and how each runs over a
whole dataset), :mod:`.rules` (the rules), :mod:`.columns` (whole-column passes), :mod:`.indexes` (what
incremental validation keeps per rule), :mod:`.labels` (the inputs' format convention), :mod:`.outliers`
(output-length bounds), :mod:`.near` (the fuzzy near-duplicate pass).
"""

from gemtune_desktop.core.validation.batch import validate, validate_columns
from gemtune_desktop.core.validation.findings import Finding, Severity, counts_of, finding_order
from gemtune_desktop.core.validation.incremental import IncrementalValidator
from gemtune_desktop.core.validation.indexes import RowOf
from gemtune_desktop.core.validation.labels import LABEL_MIN_EXAMPLES, LABEL_SAMPLE, majority_label
from gemtune_desktop.core.validation.near import (
    DEFAULT_NEAR_LIMIT,
    NEAR_DUPLICATE_MAX_ROWS,
    NEAR_DUPLICATE_MIN_CHARS,
    NEAR_DUPLICATE_SCORE,
    near_duplicates,
)
from gemtune_desktop.core.validation.outliers import (
    OUTLIER_FACTOR,
    OUTLIER_MIN_CHARS,
    OUTLIER_MIN_CHARS_SHORT,
    OUTLIER_MIN_EXAMPLES,
    OUTLIER_Z,
    OutlierBounds,
)
from gemtune_desktop.core.validation.rules import RULES

__all__ = [
    "DEFAULT_NEAR_LIMIT",
    "LABEL_MIN_EXAMPLES",
    "LABEL_SAMPLE",
    "NEAR_DUPLICATE_MAX_ROWS",
    "NEAR_DUPLICATE_MIN_CHARS",
    "NEAR_DUPLICATE_SCORE",
    "OUTLIER_FACTOR",
    "OUTLIER_MIN_CHARS",
    "OUTLIER_MIN_CHARS_SHORT",
    "OUTLIER_MIN_EXAMPLES",
    "OUTLIER_Z",
    "RULES",
    "Finding",
    "IncrementalValidator",
    "OutlierBounds",
    "RowOf",
    "Severity",
    "counts_of",
    "finding_order",
    "majority_label",
    "near_duplicates",
    "validate",
    "validate_columns",
]
