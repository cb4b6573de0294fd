"""One JSON record → one preference example, for the shapes preference data comes in.

* Agent Platform (docs: preference-tuning/prepare-data): ``{"system_instruction": {"parts": [...]},
  "contents": [{"role": "user", ...}], "completions": [{"score": 1, "completion": {"role": "model",
  "parts": [...]}}, {"score": 0, ...}]}``;
* flat pairs, as TRL's standard format and most tools write them: ``{"prompt", "chosen", "rejected"}``
  (also ``preferred``/``dispreferred`` and the other names a spreadsheet header may use), with an optional
  ``system``;
* TRL's conversational format: ``prompt`` a list of messages, ``chosen``/``rejected`` lists of assistant
  messages, or (implicit prompt) whole conversations that share everything but the last answer;
* OpenAI's preference format (also what Kiln exports for OpenAI): ``{"input": {"messages": [...]},
  "preferred_output": [...], "non_preferred_output": [...]}``;
* LLaMA-Factory: Alpaca (``instruction``, ``input``, ``chosen``, ``rejected``, ``system``) and ShareGPT
  (``conversations``, ``chosen``/``rejected`` as ``{"from": "gpt", "value": ...}``, ``system``).

GemTune keeps single-turn prompts: a conversation with several user turns is reported, not imported.
Every problem becomes an error finding at the record's line naming the field; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gemtune_desktop.core.formats.model import (
    INPUT_NAMES,
    NOTE_NAMES,
    OUTPUT_NAMES,
    SPLIT_NAMES,
    TAGS_NAMES,
    cell_text,
    column_key,
    finding,
    match_columns,
)
from gemtune_desktop.core.formats.records import record_extras
from gemtune_desktop.core.preference import rules as P
from gemtune_desktop.core.preference.model import DISPREFERRED_SCORE, PREFERRED_SCORE, ExampleKind, PreferenceExample
from gemtune_desktop.core.validation import Finding

EXPECTED = ("Expected an Agent Platform preference record (contents and two completions), or a prompt with "
            "chosen and rejected answers as TRL, Kiln and LLaMA-Factory write them.")

PROMPT_NAMES = ("prompt", "input", "question", "query", "instruction", "request", "textinput", "userinput",
                "userprompt", "inputtext")
PREFERRED_NAMES = ("preferred", "chosen", "preferredanswer", "preferredresponse", "preferredoutput",
                   "chosenanswer", "chosenresponse", "better", "betteranswer", "accepted", "winner", "good",
                   "goodanswer", "positive", "pos")
DISPREFERRED_NAMES = ("dispreferred", "rejected", "dispreferredanswer", "dispreferredresponse",
                      "dispreferredoutput", "rejectedanswer", "rejectedresponse", "nonpreferred", "notpreferred",
                      "nonpreferredoutput", "worse", "worseanswer", "loser", "bad", "badanswer", "negative", "neg")
SYSTEM_NAMES = ("systeminstruction", "system", "systemprompt")
_USER_ROLES = {"user", "human"}
_MODEL_ROLES = {"assistant", "model", "gpt", "bot"}
_SYSTEM_ROLES = {"system", "developer"}


class RecordProblem(Exception):
    """A record that cannot be imported: its rule, the message, and the field (as written in the file)."""

    def __init__(self, rule: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.field = field


@dataclass(slots=True, frozen=True)
class PreferenceMapping:
    """Which source columns (by header name) hold the prompt, the two answers and the optional fields."""

    prompt_column: str
    preferred_column: str
    dispreferred_column: str
    split_column: str | None = None
    tags_column: str | None = None
    note_column: str | None = None
    system_column: str | None = None


def guess_preference_mapping(columns: Sequence[str]) -> PreferenceMapping | None:
    """Match columns by common names (case, spaces and underscores ignored); None if any of the three is missing."""
    matched = match_columns(columns, (PREFERRED_NAMES, DISPREFERRED_NAMES, PROMPT_NAMES),
                            (SPLIT_NAMES, TAGS_NAMES, NOTE_NAMES, SYSTEM_NAMES))
    if matched is None:
        return None
    (preferred, dispreferred, prompt), optional = matched
    return PreferenceMapping(prompt, preferred, dispreferred, *optional)


def record_kind(obj: Any) -> ExampleKind | None:
    """Whether one JSON record is a preference example, a supervised one, or neither."""
    if not isinstance(obj, dict):
        return None
    if "completions" in obj or ("preferred_output" in obj and "non_preferred_output" in obj):
        return ExampleKind.PREFERENCE
    keys = [k for k in obj if isinstance(k, str)]
    normalized = {column_key(k) for k in keys}
    if normalized & set(PREFERRED_NAMES) and normalized & set(DISPREFERRED_NAMES):
        return ExampleKind.PREFERENCE
    if "contents" in obj or "messages" in obj or normalized & {"textinput"}:
        return ExampleKind.SUPERVISED
    if normalized & set(INPUT_NAMES) and normalized & set(OUTPUT_NAMES):
        return ExampleKind.SUPERVISED
    return None


# --- text helpers ---------------------------------------------------------------------------------------------

def _text(value: Any, what: str, field: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (int, float, bool)):
        return cell_text(value)
    kind = "list" if isinstance(value, list) else "JSON object"
    raise RecordProblem(P.MALFORMED, f"The {what} is a {kind}, not text. Put the text itself in “{field}”.", field)


def _parts_text(parts: Any, what: str, field: str) -> str:
    """The text of a Gemini ``parts`` list; files, images and function calls are refused."""
    if isinstance(parts, str):
        return parts
    if isinstance(parts, dict):
        parts = [parts]
    if not isinstance(parts, list):
        raise RecordProblem(P.MALFORMED, f"The {what} has no “parts” list with its text. {EXPECTED}", field)
    texts = []
    for part in parts:
        if isinstance(part, dict) and "text" in part:
            texts.append(_text(part["text"], what, field))
        else:
            kinds = ", ".join(sorted(map(str, part))) if isinstance(part, dict) else type(part).__name__
            raise RecordProblem(P.UNSUPPORTED_CONTENT,
                                f"The {what} holds a part that is not text ({kinds}). Preference tuning takes text "
                                f"only; remove files and function calls from this example.", field)
    return "".join(texts)


def _message_content(message: dict[str, Any], what: str, field: str) -> str:
    """The text of one chat message in OpenAI/TRL (``content``), ShareGPT (``value``) or Gemini (``parts``) form."""
    if "parts" in message:
        return _parts_text(message["parts"], what, field)
    if "content" not in message and "value" not in message:
        raise RecordProblem(P.MALFORMED, f"The {what} in “{field}” is a JSON object without “content”, “value” or "
                                         f"“parts”; put the text itself there.", field)
    content = message.get("content", message.get("value"))
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type", "text") == "text" and "text" in part:
                texts.append(_text(part["text"], what, field))
            else:
                raise RecordProblem(P.UNSUPPORTED_CONTENT, f"The {what} holds content that is not text (an image "
                                                           f"or a file). Preference tuning takes text only.", field)
        return "".join(texts)
    return _text(content, what, field)


def _role(message: dict[str, Any]) -> str:
    return str(message.get("role") or message.get("from") or "").casefold()


def _messages(value: Any, what: str, field: str) -> list[tuple[str, str]]:
    """(role, text) of every message in a list of chat messages."""
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if not isinstance(value, list):
        raise RecordProblem(P.MALFORMED, f"“{field}” is not a list of messages. {EXPECTED}", field)
    out = []
    for m in value:
        if not isinstance(m, dict):
            raise RecordProblem(P.MALFORMED, f"A message in “{field}” is not an object. {EXPECTED}", field)
        out.append((_role(m), _message_content(m, what, field)))
    return out


def _single_prompt(turns: list[tuple[str, str]], field: str) -> tuple[str, str]:
    """(prompt, system instruction) from the messages before the answer: system messages, then one user turn."""
    system = [t for r, t in turns if r in _SYSTEM_ROLES]
    rest = [(r, t) for r, t in turns if r not in _SYSTEM_ROLES]
    if not rest:
        raise RecordProblem(P.MISSING_FIELD, f"“{field}” has no user turn, so there is no prompt. Add the question as "
                                             f"a user turn.", field)
    if len(rest) > 1:
        raise RecordProblem(P.MULTI_TURN, f"The prompt in “{field}” is a conversation of {len(rest)} turns; GemTune "
                                          f"keeps single-turn prompts (one question, two answers), so it was not "
                                          f"imported. Keep only the last question.", field)
    role, text = rest[0]
    if role and role not in _USER_ROLES:
        raise RecordProblem(P.MALFORMED, f"The prompt in “{field}” must end with a user turn, not “{role}”.", field)
    return text, "\n".join(system)


def _answer(value: Any, what: str, field: str) -> str:
    """An answer given as text, as one message, or as a list holding the assistant's message."""
    if isinstance(value, dict):
        if isinstance(value.get("messages"), list):
            value = value["messages"]
        else:
            return _message_content(value, what, field)
    if isinstance(value, list):
        turns = _messages(value, what, field)
        answers = [t for r, t in turns if r in _MODEL_ROLES or not r]
        if len(answers) != 1 or len(turns) != 1:
            raise RecordProblem(P.MULTI_TURN, f"The {what} in “{field}” holds {len(turns)} messages; it must be the "
                                              f"single answer of the model.", field)
        return answers[0]
    return _text(value, what, field)


# --- the shapes -------------------------------------------------------------------------------------------

def _system_text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        if "parts" in value:
            return _parts_text(value["parts"], "system instruction", field)
        return _message_content(value, "system instruction", field)
    if isinstance(value, list):
        return "\n".join(t for _r, t in _messages(value, "system instruction", field))
    return _text(value, "system instruction", field)


def _agent(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    """(prompt, preferred, dispreferred, system) of an Agent Platform preference record."""
    contents = obj.get("contents")
    if contents is None:
        raise RecordProblem(P.MISSING_FIELD, "This record has “completions” but no “contents” with the prompt. Add "
                                             "the question as a user turn in “contents”.", "contents")
    if not isinstance(contents, list) or not contents:
        raise RecordProblem(P.MALFORMED, f"“contents” is not a list of turns. {EXPECTED}", "contents")
    turns = []
    for c in contents:
        if not isinstance(c, dict):
            raise RecordProblem(P.MALFORMED, f"A turn in “contents” is not an object. {EXPECTED}", "contents")
        turns.append((str(c.get("role") or "user").casefold(), _parts_text(c.get("parts"), "prompt", "contents")))
    if turns[-1][0] in _MODEL_ROLES:
        raise RecordProblem(P.MALFORMED, "“contents” ends with a model turn. In preference data the answers go in "
                                         "“completions”, and “contents” must end with the user's question.",
                            "contents")
    prompt, _ = _single_prompt(turns, "contents")
    system = _system_text(obj.get("system_instruction", obj.get("systemInstruction")), "system_instruction")
    preferred, dispreferred = _completions(obj.get("completions"))
    return prompt, preferred, dispreferred, system


def _completions(comps: Any) -> tuple[str, str]:
    if not isinstance(comps, list):
        raise RecordProblem(P.MALFORMED, "“completions” is not a list of two completions.", "completions")
    if len(comps) != 2:
        raise RecordProblem(P.COMPLETIONS, f"This record has {len(comps)} completion{'' if len(comps) == 1 else 's'}; "
                                           f"preference tuning needs exactly two: one preferred (score 1) and one "
                                           f"dispreferred (score 0).", "completions")
    scored: list[tuple[float, str]] = []
    for i, c in enumerate(comps, 1):
        if not isinstance(c, dict):
            raise RecordProblem(P.MALFORMED, f"Completion {i} is not an object with “score” and “completion”.",
                                "completions")
        score = c.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise RecordProblem(P.COMPLETIONS, f"Completion {i} has no numeric “score”; give the preferred answer "
                                               f"score 1 and the other score 0.", "completions")
        comp = c.get("completion")
        if not isinstance(comp, dict):
            raise RecordProblem(P.MISSING_FIELD, f"Completion {i} has no “completion” turn with the answer.",
                                "completions")
        role = comp.get("role")
        if role not in (None, "", "model"):
            raise RecordProblem(P.MALFORMED, f"Completion {i} has the role “{role}”; an answer's role must be "
                                             f"“model”.", "completions")
        scored.append((float(score), _parts_text(comp.get("parts"), f"answer of completion {i}", "completions")))
    scores = sorted(s for s, _t in scored)
    if scores != [float(DISPREFERRED_SCORE), float(PREFERRED_SCORE)]:
        raise RecordProblem(P.COMPLETIONS, f"The completions' scores are {scored[0][0]:g} and {scored[1][0]:g}; one "
                                           f"must be 1 (the preferred answer) and the other 0 (the dispreferred one).",
                            "completions")
    by_score = {s: t for s, t in scored}
    return by_score[float(PREFERRED_SCORE)], by_score[float(DISPREFERRED_SCORE)]


def _openai(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    """(prompt, preferred, dispreferred, system) of an OpenAI preference record."""
    for key in ("input", "preferred_output", "non_preferred_output"):
        if key not in obj:
            raise RecordProblem(P.MISSING_FIELD, f"This record has no “{key}”. An OpenAI preference record needs "
                                                 f"input, preferred_output and non_preferred_output.", key)
    prompt, system = _single_prompt(_messages(obj["input"], "prompt", "input"), "input")
    preferred = _answer(obj["preferred_output"], "preferred answer", "preferred_output")
    dispreferred = _answer(obj["non_preferred_output"], "dispreferred answer", "non_preferred_output")
    return prompt, preferred, dispreferred, system


def _key_for(obj: dict[str, Any], names: Sequence[str], taken: set[str]) -> str | None:
    by_norm: dict[str, str] = {}
    for k in obj:
        if isinstance(k, str) and k not in taken:
            by_norm.setdefault(column_key(k), k)
    for name in names:
        if name in by_norm:
            return by_norm[name]
    return None


def _implicit(chosen: Any, rejected: Any, keys: tuple[str, str]) -> tuple[str, str, str, str]:
    """TRL's implicit prompt: two whole conversations that differ only in the last answer."""
    a = _messages(chosen, "preferred conversation", keys[0])
    b = _messages(rejected, "dispreferred conversation", keys[1])
    if len(a) < 2 or len(b) < 2 or a[:-1] != b[:-1]:
        raise RecordProblem(P.MALFORMED, f"“{keys[0]}” and “{keys[1]}” must be the same conversation up to the last "
                                         f"answer; these ask different questions. Put the question in “prompt”.",
                            keys[1])
    for (role, _t), key in ((a[-1], keys[0]), (b[-1], keys[1])):
        if role not in _MODEL_ROLES:
            raise RecordProblem(P.MALFORMED, f"The conversation in “{key}” must end with the model's answer.", key)
    prompt, system = _single_prompt(a[:-1], keys[0])
    return prompt, a[-1][1], b[-1][1], system


def _pair(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    """(prompt, preferred, dispreferred, system) of a record with chosen/rejected (or similarly named) fields."""
    taken: set[str] = set()
    pref_key = _key_for(obj, PREFERRED_NAMES, taken)
    taken.add(pref_key or "")
    disp_key = _key_for(obj, DISPREFERRED_NAMES, taken)
    if pref_key is None or disp_key is None:
        keys = ", ".join(str(k) for k in list(obj)[:6]) or "none"
        raise RecordProblem(P.MISSING_FIELD, f"This record has no preferred and dispreferred answers (its fields: "
                                             f"{keys}). {EXPECTED}", None)
    taken.add(disp_key)
    sys_key = _key_for(obj, SYSTEM_NAMES, taken)
    system = _system_text(obj[sys_key], sys_key) if sys_key else ""
    taken.add(sys_key or "")
    prompt_key = _key_for(obj, PROMPT_NAMES, taken)
    if "instruction" in obj and isinstance(obj["instruction"], str):  # LLaMA-Factory's Alpaca form
        extra = obj.get("input")
        prompt = obj["instruction"] + (f"\n{extra}" if isinstance(extra, str) and extra else "")
    elif "conversations" in obj:  # LLaMA-Factory's ShareGPT form
        prompt, more = _single_prompt(_messages(obj["conversations"], "prompt", "conversations"), "conversations")
        system = system or more
    elif prompt_key is not None and isinstance(obj[prompt_key], str):
        prompt = obj[prompt_key]
    elif prompt_key is not None or "messages" in obj:
        key = prompt_key or "messages"
        prompt, more = _single_prompt(_messages(obj[key], "prompt", key), key)
        system = system or more
    elif isinstance(obj[pref_key], (list, dict)) and not isinstance(obj[pref_key], str):
        prompt, preferred, dispreferred, more = _implicit(obj[pref_key], obj[disp_key], (pref_key, disp_key))
        return prompt, preferred, dispreferred, system or more
    else:
        raise RecordProblem(P.MISSING_FIELD, f"This record has answers but no prompt. Add the question as “prompt”. "
                                             f"{EXPECTED}", "prompt")
    preferred = _answer(obj[pref_key], "preferred answer", pref_key)
    dispreferred = _answer(obj[disp_key], "dispreferred answer", disp_key)
    return prompt, preferred, dispreferred, system


def parse_preference_record(obj: Any, line: int, row: int) -> tuple[PreferenceExample | None, list[Finding]]:
    """(example or None, findings) for one parsed JSON value at ``line``; ``row`` is the example number it would get."""
    findings: list[Finding] = []
    try:
        if not isinstance(obj, dict):
            kind = "a list" if isinstance(obj, list) else "a string" if isinstance(obj, str) else "a number or constant"
            raise RecordProblem(P.MALFORMED, f"This line holds {kind}, not an example object. {EXPECTED}")
        if "completions" in obj:
            prompt, preferred, dispreferred, system = _agent(obj)
        elif "preferred_output" in obj or "non_preferred_output" in obj:
            prompt, preferred, dispreferred, system = _openai(obj)
        else:
            prompt, preferred, dispreferred, system = _pair(obj)
        split, tags, note = record_extras(obj, line, row, findings)
        return PreferenceExample(prompt, preferred, dispreferred, system, split, tags, note), findings
    except RecordProblem as problem:
        return None, [finding("error", problem.rule, problem.message, line, problem.field)]
