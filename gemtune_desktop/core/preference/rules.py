"""Limits of Agent Platform's preference tuning and the identifiers of the preference rules.

Sources (gemini-reference.md, corrections items 5, 9 and 12, and §5.2):

* "About preference tuning for Gemini models" (docs.cloud.google.com/vertex-ai/generative-ai/docs/models/
  gemini-preference-tuning), Limitations: training file 1 GB; 131,072 input and output tokens per
  training example; 10M text-only training examples; validation set "5000 examples or 30% of the number of
  training examples if there are more than 1000 validation examples"; adapter sizes 1, 2, 4, 8 and 16.
  Pricing: "the number of tokens in the prompt multiplied by 2, plus the number of completion tokens".
  Best practices: 1–2 epochs of supervised tuning on the preferred answers first.
* "Prepare preference tuning data" (…/gemini-preference-tuning-prepare): exactly one preferred (score 1)
  and one dispreferred (score 0) completion; ``contents`` ends with a user turn; text only; "the sum of
  maximum input and maximum completion token counts must be <= 128K".

The recommended number of examples is the supervised-tuning page's "start with 100 examples": the
preference pages give no number of their own.
"""

from __future__ import annotations

from gemtune_desktop.core import validation_rules as R

MAX_EXAMPLE_TOKENS = R.AGENT_MAX_EXAMPLE_TOKENS          # 131,072: prompt + system + the longer answer
MAX_FILE_BYTES = R.AGENT_MAX_FILE_BYTES                   # 1 GB of JSONL, as uploaded
MAX_TRAINING_EXAMPLES = 10_000_000
MAX_VALIDATION_EXAMPLES = R.AGENT_MAX_VALIDATION_EXAMPLES  # 5,000
VALIDATION_SHARE_ABOVE = 1_000                            # above this many validation examples …
VALIDATION_MAX_SHARE = 0.30                               # … at most 30 % of the training examples
RECOMMENDED_MIN_EXAMPLES = R.RECOMMENDED_MIN_EXAMPLES     # 100
ADAPTER_SIZES = (1, 2, 4, 8, 16)
RECOMMENDED_SFT_EPOCHS = (1, 2)

# Rule identifiers (stable: the CLI's --json output and the UI's filters use them). Rules shared with
# supervised data keep the supervised identifiers.
EMPTY = R.EMPTY
WHITESPACE = R.WHITESPACE
CONTROL_CHARS = R.CONTROL_CHARS
MOJIBAKE = R.MOJIBAKE
TOO_MANY_TOKENS = R.TOO_MANY_TOKENS
FILE_SIZE = R.FILE_SIZE
VALIDATION_SIZE = R.VALIDATION_SIZE
RECOMMENDED_COUNT = R.RECOMMENDED_COUNT
TOO_FEW = R.TOO_FEW
DUPLICATE = R.DUPLICATE
IDENTICAL_ANSWERS = "identical-answers"
PREFERRED_REJECTED_ELSEWHERE = "preferred-rejected-elsewhere"
TOO_MANY_EXAMPLES = "too-many-examples"
# Import rules (set by the readers).
MALFORMED = R.MALFORMED
MISSING_FIELD = R.MISSING_FIELD
MULTI_TURN = R.MULTI_TURN
UNSUPPORTED_CONTENT = R.UNSUPPORTED_CONTENT
UNKNOWN_SPLIT = R.UNKNOWN_SPLIT
COMPLETIONS = "completions"  # not exactly one preferred and one dispreferred completion


def validation_limit(n_train: int, n_validation: int) -> int:
    """The most validation examples Agent Platform accepts next to ``n_train`` training examples.

    Read as: never more than 5,000; and once there are more than 1,000 validation examples, no more than
    30 % of the training examples.
    """
    if n_validation > VALIDATION_SHARE_ABOVE:
        return min(MAX_VALIDATION_EXAMPLES, max(VALIDATION_SHARE_ABOVE, int(n_train * VALIDATION_MAX_SHARE)))
    return MAX_VALIDATION_EXAMPLES
