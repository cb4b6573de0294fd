"""One JSON record → one example, for the three JSON shapes a tuning dataset comes in.

* Gemini API: ``{"text_input": ..., "output": ...}`` (also ``textInput``, or any input/output column names)
* Agent Platform: ``{"systemInstruction": {...}, "contents": [{"role": "user", ...}, {"role": "model", ...}]}``
* OpenAI chat: ``{"messages": [{"role": "system"|"user"|"assistant", "content": ...}]}``

Records that cannot become a single-turn example are reported as findings at their line, never dropped silently.
"""

from __future__ import annotations

from typing import Any

from gemtune_desktop.core import validation_rules as R
from gemtune_desktop.core.examples import Example, Split
from gemtune_desktop.core.formats.model import cell_text, finding, guess_mapping, parse_split, unknown_split_finding
from gemtune_desktop.core.validation import Finding

EXPECTED = ("Expected text_input and output (Gemini API), contents with a user and a model turn (Agent "
            "Platform) or messages (OpenAI chat).")


class RecordProblem(Exception):
    """A record that cannot be imported; ``rule`` and ``message`` become an error finding at its line."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (int, float, bool)):
        return cell_text(value)
    raise RecordProblem(R.MALFORMED, f"The {what} is a {'list' if isinstance(value, list) else 'JSON object'}, "
                                     f"not text. Put the text itself in the {what} field.")


def _parts_text(parts: Any, what: str) -> str:
    """The text of a Gemini ``parts`` list (or a bare string); other parts (files, function calls) are refused."""
    if isinstance(parts, str):
        return parts
    if isinstance(parts, dict):
        parts = [parts]
    if not isinstance(parts, list):
        raise RecordProblem(R.MALFORMED, f"The {what} has no readable parts. {EXPECTED}")
    texts = []
    for part in parts:
        if isinstance(part, dict) and "text" in part:
            texts.append(_text(part["text"], what))
        elif isinstance(part, str):
            texts.append(part)
        else:
            kinds = ", ".join(sorted(part)) if isinstance(part, dict) else type(part).__name__
            raise RecordProblem(R.UNSUPPORTED_CONTENT,
                                f"The {what} holds a part that is not text ({kinds}). GemTune tunes on text only; "
                                f"remove files and function calls from this example.")
    return "".join(texts)


def _single_turn(turns: list[tuple[str, str]], user: str, model: str, shape: str) -> tuple[str, str]:
    roles = [r for r, _ in turns]
    if roles == [user, model]:
        return turns[0][1], turns[1][1]
    n_user = roles.count(user)
    if n_user > 1 or roles.count(model) > 1:
        raise RecordProblem(R.MULTI_TURN,
                            f"This {shape} is a conversation of {len(turns)} turns; GemTune tunes single-turn "
                            f"examples (one question, one answer), so it was not imported. Split it into separate "
                            f"examples, or keep only the last question and its answer.")
    if model not in roles:
        raise RecordProblem(R.MISSING_FIELD, f"This {shape} has no {model} turn, so there is no output to learn. "
                                             f"Add the expected answer as a “{model}” turn.")
    if user not in roles:
        raise RecordProblem(R.MISSING_FIELD, f"This {shape} has no {user} turn, so there is no input. "
                                             f"Add the question as a “{user}” turn.")
    raise RecordProblem(R.MALFORMED, f"The turns of this {shape} are in the wrong order ({', '.join(roles)}); "
                                     f"the {user} turn must come before the {model} turn.")


def _agent(obj: dict[str, Any]) -> tuple[str, str, str | None]:
    contents = obj["contents"]
    if not isinstance(contents, list):
        raise RecordProblem(R.MALFORMED, f"“contents” is not a list of turns. {EXPECTED}")
    turns = []
    for c in contents:
        if not isinstance(c, dict):
            raise RecordProblem(R.MALFORMED, f"A turn in “contents” is not an object. {EXPECTED}")
        turns.append((str(c.get("role") or "user"), _parts_text(c.get("parts"), "turn")))
    inp, out = _single_turn(turns, "user", "model", "record")
    system = None
    si = obj.get("systemInstruction", obj.get("system_instruction"))
    if si is not None:
        system = _parts_text(si.get("parts") if isinstance(si, dict) else si, "system instruction")
    return inp, out, system


def _openai_content(content: Any) -> str:
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type", "text") == "text" and "text" in part:
                texts.append(_text(part["text"], "message"))
            else:
                raise RecordProblem(R.UNSUPPORTED_CONTENT, "A message holds content that is not text (an image "
                                                           "or a file). GemTune tunes on text only.")
        return "".join(texts)
    return _text(content, "message")


def _openai(obj: dict[str, Any]) -> tuple[str, str, str | None]:
    messages = obj["messages"]
    if not isinstance(messages, list):
        raise RecordProblem(R.MALFORMED, f"“messages” is not a list. {EXPECTED}")
    system: list[str] = []
    turns = []
    for m in messages:
        if not isinstance(m, dict):
            raise RecordProblem(R.MALFORMED, f"A message is not an object. {EXPECTED}")
        role = str(m.get("role") or "")
        text = _openai_content(m.get("content"))
        if role in ("system", "developer"):
            system.append(text)
        else:
            turns.append((role, text))
    inp, out = _single_turn(turns, "user", "assistant", "conversation")
    return inp, out, "\n".join(system) if system else None


def record_extras(obj: dict[str, Any], line: int, row: int, findings: list[Finding]) -> tuple[Split, str, str]:
    """The optional ``split``, ``tags`` (text or a list) and ``note`` of a JSON record, of either kind of example;
    a split that names none of train, validation and test is a warning in ``findings`` (the example goes to
    train)."""
    split = Split.TRAIN
    raw_split = obj.get("split")
    if raw_split is not None and raw_split != "":
        parsed = parse_split(cell_text(raw_split)) if not isinstance(raw_split, (list, dict)) else None
        if parsed is None:
            findings.append(unknown_split_finding(cell_text(raw_split), line, row))
        else:
            split = parsed
    tags: Any = obj.get("tags") or ""
    if isinstance(tags, list):
        tags = ", ".join(cell_text(t) for t in tags if not isinstance(t, (list, dict)))
    elif not isinstance(tags, str):
        tags = cell_text(tags) if not isinstance(tags, dict) else ""
    note: Any = obj.get("note") or ""
    if not isinstance(note, str):
        note = cell_text(note) if not isinstance(note, (list, dict)) else ""
    return split, str(tags), str(note)


def parse_record(obj: Any, line: int, row: int) -> tuple[Example | None, list[Finding], str | None]:
    """(example or None, findings, system instruction or None) for one parsed JSON value at ``line``.

    ``row`` is the example number the record would get, for findings about the example itself.
    """
    findings: list[Finding] = []
    try:
        if not isinstance(obj, dict):
            kind = "a list" if isinstance(obj, list) else "a string" if isinstance(obj, str) else "a number or constant"
            raise RecordProblem(R.MALFORMED, f"This line holds {kind}, not an example object. {EXPECTED}")
        system = None
        if "contents" in obj:
            inp, out, system = _agent(obj)
        elif "messages" in obj:
            inp, out, system = _openai(obj)
        else:
            if "text_input" in obj and "output" in obj:
                ki, ko = "text_input", "output"
            elif "textInput" in obj and "output" in obj:
                ki, ko = "textInput", "output"
            else:
                mapping = guess_mapping([k for k in obj if isinstance(k, str)])
                if mapping is None:
                    keys = ", ".join(list(obj)[:6]) or "none"
                    raise RecordProblem(R.MISSING_FIELD, f"This record has no input and output fields (its fields: "
                                                         f"{keys}). {EXPECTED}")
                ki, ko = mapping.input_column, mapping.output_column
            inp = _text(obj[ki], "input")
            out = _text(obj[ko], "output")
        split, tags, note = record_extras(obj, line, row, findings)
        return Example(inp, out, split, tags, note), findings, system
    except RecordProblem as problem:
        return None, [finding("error", problem.rule, problem.message, line)], None
