"""Label matchers, as in Alertmanager: ``{"label", "op": "=" | "!=" | "=~" | "!~", "value"}``.

Regular expressions are Python ``re`` patterns that must match the whole value (``fullmatch``,
like Alertmanager's anchored regexes). A pattern is at most ``MAX_PATTERN`` characters and the
values it runs on are labels of at most 200 characters, which bounds the work of one match;
a pattern that does not compile is refused when the matcher is saved.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from services.alerts.labels import LABEL_NAME
from services.infra.input_checks import InputError, has_control

OPS = ("=", "!=", "=~", "!~")
MAX_MATCHERS = 20
MAX_PATTERN = 200


class MatcherError(InputError):
    """A malformed matcher list (answered 400 naming the field)."""

    def __init__(self, message: str, field: str):
        super().__init__(message, field, "invalid_matcher")


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def clean_matchers(raw: Any, field: str = "matchers") -> list[dict[str, str]]:
    """Check a matcher list; returns it normalised. ``severity`` and ``alertname`` are labels too."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_MATCHERS:
        raise MatcherError(f"{field} must be a list of at most {MAX_MATCHERS} matchers", field)
    clean = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, dict) or set(item) - {"label", "op", "value"}:
            raise MatcherError(f"{where} must be an object with label, op and value", where)
        label, op, value = item.get("label"), item.get("op", "="), item.get("value", "")
        if not isinstance(label, str) or not LABEL_NAME.fullmatch(label):
            raise MatcherError(f"{where}.label must be a label name", f"{where}.label")
        if op not in OPS:
            raise MatcherError(f"{where}.op must be one of {' '.join(OPS)}", f"{where}.op")
        if not isinstance(value, str) or len(value) > MAX_PATTERN or has_control(value):
            raise MatcherError(f"{where}.value must be one line of at most {MAX_PATTERN} characters",
                               f"{where}.value")
        if op in ("=~", "!~"):
            try:
                _compiled(value)
            except (re.error, RecursionError, OverflowError) as exc:
                raise MatcherError(f"{where}.value is not a valid regular expression: {exc}",
                                   f"{where}.value") from None
        clean.append({"label": label, "op": op, "value": value})
    return clean


def matches(matchers: list[dict[str, str]], labels: dict[str, str]) -> bool:
    """Whether every matcher holds for ``labels`` (a missing label reads as the empty string)."""
    for m in matchers or []:
        have = labels.get(m["label"], "")
        op, value = m["op"], m["value"]
        if op == "=":
            ok = have == value
        elif op == "!=":
            ok = have != value
        else:
            ok = _compiled(value).fullmatch(have) is not None
            ok = ok if op == "=~" else not ok
        if not ok:
            return False
    return True


def describe(matchers: list[dict[str, str]]) -> str:
    """``team="ml", severity=~"crit.*"`` (empty: every alert)."""
    return ", ".join(f'{m["label"]}{m["op"]}"{m["value"]}"' for m in matchers) or "every alert"
