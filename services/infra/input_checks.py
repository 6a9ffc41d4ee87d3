"""Checks every piece of client input passes before any code looks at it.

JSON bodies: a nesting limit checked before the parser runs (the parser recurses, so depth
is work), and no text a database cannot store (NUL, lone surrogates). Query parameters: a
length cap per name, no control characters, integers in ASCII digits only and within the
range a database column holds. Each refusal is an ``InputError`` naming the field, answered
400 (or 415 for a body that is not JSON) by the blueprints' shared handler.
"""
from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any, Iterable

# Deeper than any body the API takes (an ingest batch is 3 levels, a rule 2), far below the
# parser's recursion limit.
MAX_JSON_DEPTH = 20
# The largest number a query parameter may name: a signed 64-bit integer (bigint columns)...
MAX_INT = 2**63 - 1
# ...and the largest id of a table whose ids are 32-bit integers (alerts, rules, users).
MAX_ID = 2**31 - 1

# Longest value, in characters, each query parameter may have. Free text and lists are
# capped so one request cannot make the database scan with a huge pattern.
QUERY_CAPS = {
    "q": 200, "service": 64, "rule": 120, "actor": 64, "action": 64, "outcome": 16,
    "severity": 64, "status": 32, "level": 16, "label": 32, "period": 16, "tz": 64,
    "currency": 16, "cursor": 128, "since": 40, "until": 40, "start": 40, "end": 40,
}
DEFAULT_QUERY_CAP = 256

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# C0 and C1 controls, DEL, lone surrogates and the Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)
_OPENERS, _CLOSERS = b"[{", b"]}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _OPENERS + _CLOSERS)
_DEPTH_STEPS = bytes.maketrans(_OPENERS + _CLOSERS, b"\x01\x01\xff\xff")


class InputError(ValueError):
    """Client input refused before use; ``field`` names it, ``status`` is 400 or 415."""

    def __init__(self, message: str, field: str | None = None, code: str = "invalid_parameter",
                 status: int = 400):
        super().__init__(message)
        self.message, self.field, self.code, self.status = message, field, code, status


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``raw`` (JSON text) nests arrays and objects deeper than ``limit``, unparsed.

    Linear and in C for all but one pass: escaped backslashes and quotes are dropped, the
    text between quotes (string contents) is cut out, and what is left is reduced to its
    brackets, whose running sum is the depth.
    """
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(plain.split(b'"')[0::2]).translate(None, _NOT_BRACKETS)
    if outside.count(b"[") + outside.count(b"{") <= limit:
        return False
    return max(accumulate(array("b", outside.translate(_DEPTH_STEPS))), default=0) > limit


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, field: str = "body") -> Any:
    """Parse a JSON document, refusing one nested deeper than ``MAX_JSON_DEPTH``."""
    if json_too_deep(raw):
        raise InputError(f"the {field} nests arrays and objects deeper than {MAX_JSON_DEPTH} levels",
                         field, "too_deep")
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InputError(f"the {field} is not valid JSON", field, "invalid_json") from None


def unstorable_path(value: Any, root: str = "body") -> str | None:
    """The path (``body.items[2].name``) of the first key or string holding NUL or a lone
    surrogate, which no database here can store; None when there is none."""
    stack: list[tuple[Any, str]] = [(value, root)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    return path
                stack.append((child, f"{path}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))
    return None


def has_unstorable(text: str) -> bool:
    """Whether ``text`` holds NUL or a lone surrogate."""
    return _UNSTORABLE.search(text) is not None


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD, for records of what was sent."""
    return _UNSTORABLE.sub("\ufffd", text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character, a lone surrogate or a line separator."""
    return _CONTROL.search(text) is not None


def check_text(value: Any, field: str, max_len: int | None = None) -> str:
    """A one-line text value: a string of at most ``max_len`` characters, no control characters."""
    if not isinstance(value, str):
        raise InputError(f"{field} must be a string", field)
    limit = max_len if max_len is not None else QUERY_CAPS.get(field, DEFAULT_QUERY_CAP)
    if len(value) > limit:
        raise InputError(f"{field} must have at most {limit} characters", field)
    if has_control(value):
        raise InputError(f"{field} must not contain control characters", field)
    return value


def ascii_int(raw: Any, field: str, lo: int = -MAX_INT, hi: int = MAX_INT) -> int:
    """An integer written in ASCII digits (no ``²``, no Arabic-Indic digits) within [lo, hi]."""
    if isinstance(raw, bool):
        raise InputError(f"{field} must be an integer", field)
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _ASCII_INT.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        raise InputError(f"{field} must be an integer", field)
    if not lo <= value <= hi:
        raise InputError(f"{field} must be between {lo} and {hi}", field)
    return value


def check_query(pairs: Iterable[tuple[str, str]]) -> None:
    """Every query parameter within its cap and free of control characters."""
    for name, value in pairs:
        check_text(value, name)
