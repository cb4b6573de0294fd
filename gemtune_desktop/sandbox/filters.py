"""List ``filter`` expressions (the AIP-160 subset Agent Platform documents for its list methods).

Supported: comparisons ``field = value``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` and ``field:value``
(has), ``field:*`` (present), joined by ``AND`` / ``OR`` (``AND`` binds tighter, as in AIP-160),
``NOT`` / ``-`` and parentheses. Fields are dotted paths into the resource as the API shows it,
in camelCase or snake_case (``state``, ``labels.team``, ``display_name``, ``create_time``). The
documented examples this covers: ``state="JOB_STATE_SUCCEEDED"``, ``labels.myKey="myValue"``,
``labels.tune-type:*`` (what google-genai sends to list tuned models).

Anything else is refused with a 400 naming the problem, rather than silently matching everything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from gemtune_desktop.sandbox.apierror import ApiError, bad_request

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKENS = re.compile(r'\s*(?:(?P<op><=|>=|!=|=|<|>|:)|(?P<paren>[()])|(?P<str>"(?:[^"\\]|\\.)*")'
                     r"|(?P<word>[^\s()=<>!:\"]+))")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKENS.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                raise _error(text, f"unexpected character {text[pos:].strip()[0]!r}")
            break
        pos = m.end()
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
    return tokens


def _error(text: str, why: str) -> ApiError:
    return bad_request(f"Invalid filter {text!r}: {why}.")


def _lookup(resource: Mapping[str, Any], path: str) -> Any:
    value: Any = resource
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        if part in value:
            value = value[part]
            continue
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), part)
        value = value.get(camel)
    return value


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if op == ":":
        if wanted == "*":
            return actual is not None
        if isinstance(actual, list):
            return wanted in [str(a) for a in actual]
        return actual is not None and str(actual) == wanted
    if actual is None:
        return op == "!="
    text = str(actual).lower() if isinstance(actual, bool) else str(actual)
    if op == "=":
        return text == wanted
    if op == "!=":
        return text != wanted
    return {"<": text < wanted, ">": text > wanted, "<=": text <= wanted, ">=": text >= wanted}[op]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _error(self.text, "it ends too early")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise _error(self.text, f"unexpected {self.peek()[1]!r}")  # type: ignore[index]
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek() == ("word", "OR"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda r: any(p(r) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() is not None and self.peek() not in (("word", "OR"), ("paren", ")")):
            if self.peek() == ("word", "AND"):
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r: all(p(r) for p in parts))

    def unary(self) -> Predicate:
        token = self.peek()
        if token == ("word", "NOT"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if token is not None and token[0] == "word" and token[1].startswith("-") and len(token[1]) > 1:
            self.tokens[self.pos] = ("word", token[1][1:])
            inner = self.unary()
            return lambda r: not inner(r)
        if token == ("paren", "("):
            self.take()
            inner = self.or_expr()
            if self.take() != ("paren", ")"):
                raise _error(self.text, "a parenthesis is not closed")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, name = self.take()
        if kind != "word":
            raise _error(self.text, f"expected a field name, got {name!r}")
        kind, op = self.take()
        if kind != "op":
            raise _error(self.text, f"expected a comparison after {name!r}")
        kind, value = self.take()
        if kind not in ("word", "str"):
            raise _error(self.text, f"expected a value after {name}{op}")
        return lambda r: _compare(_lookup(r, name), op, value)


def compile_filter(text: str | None) -> Predicate:
    """A predicate over a resource's JSON view (everything matches an empty filter)."""
    if not text or not text.strip():
        return lambda _r: True
    return _Parser(text.strip()).parse()
