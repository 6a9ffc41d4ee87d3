"""Recurring maintenance: an RFC 5545 RRULE (python-dateutil) over a local start in a named zone.

Occurrences are computed in the window's local wall-clock time and only then turned into UTC,
so a window at 09:00 Europe/Berlin stays at 09:00 when daylight saving time begins or ends. A
local start that does not exist (skipped by the spring change) is read with the offset in force
before the change, an ambiguous one (repeated in autumn) as its first occurrence; the duration is
elapsed time.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import MINUTELY, SECONDLY, rrule, rrulestr

from services.infra.input_checks import has_control

MAX_RULE_CHARS = 300
MAX_COUNT = 10_000
# The date filters of a rule are tried this far from the end of the calendar, so a rule that can
# never occur (say, 30 February) is found out after ~28 years of candidates, not ~8,000.
PROBE_YEAR = 9972  # a leap year: a start on 29 February probes too
PAD = timedelta(hours=3)  # more than any offset change between the local and the UTC view
UTC_UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


class RecurrenceError(ValueError):
    """A rule or local start that cannot be used; the message says why, ``field`` which one."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def parse_start(raw: object) -> datetime:
    """A local start "YYYY-MM-DDTHH:MM" (no offset: the window's time zone gives it)."""
    if not isinstance(raw, str) or len(raw) not in (16, 19) or "T" not in raw:
        raise RecurrenceError("dtstart must be a local time YYYY-MM-DDTHH:MM", "dtstart")
    try:
        start = datetime.fromisoformat(raw)
    except ValueError:
        raise RecurrenceError("dtstart must be a local time YYYY-MM-DDTHH:MM", "dtstart") from None
    if not 1970 <= start.year <= 2999:
        raise RecurrenceError("dtstart must lie between 1970 and 2999", "dtstart")
    return start.replace(second=0, microsecond=0)


def _local_until(text: str, zone_name: str) -> str:
    """RFC 5545 writes UNTIL in UTC ("Z") when the start has a zone; dateutil wants it local here."""
    def local(match: re.Match) -> str:
        moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
        return "UNTIL=" + moment.astimezone(ZoneInfo(zone_name or "UTC")).strftime("%Y%m%dT%H%M%S")
    return UTC_UNTIL.sub(local, text)


def validate(rule_text: object, dtstart: datetime, zone_name: str) -> str:
    """The cleaned RRULE body ("FREQ=WEEKLY;BYDAY=MO"); refuses what cannot be a maintenance rule."""
    if not isinstance(rule_text, str) or not rule_text.strip() or len(rule_text) > MAX_RULE_CHARS \
            or has_control(rule_text):
        raise RecurrenceError(f"rrule must be one RRULE line of at most {MAX_RULE_CHARS} characters", "rrule")
    text = rule_text.strip()
    text = text[6:] if text.upper().startswith("RRULE:") else text
    if "DTSTART" in text.upper() or ":" in text:
        raise RecurrenceError("rrule takes only the RRULE part; the start goes in dtstart", "rrule")
    try:
        rule = rrulestr(_local_until(text, zone_name), dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise RecurrenceError(f"rrule is not a valid RFC 5545 rule: {str(exc)[:120]}", "rrule") from None
    if not isinstance(rule, rrule):
        raise RecurrenceError("rrule must be a single RRULE", "rrule")
    count, until = rule._count, rule._until  # noqa: SLF001 - dateutil keeps them only here
    if rule._freq in (SECONDLY, MINUTELY) and count is None and until is None:  # noqa: SLF001
        raise RecurrenceError("a SECONDLY or MINUTELY rule needs COUNT or UNTIL", "rrule")
    if count is not None and count > MAX_COUNT:
        raise RecurrenceError(f"COUNT must be at most {MAX_COUNT}", "rrule")
    try:
        probe = rule.replace(dtstart=dtstart.replace(year=PROBE_YEAR), count=None, until=None)
        occurs = probe.after(probe._dtstart, inc=True) is not None  # noqa: SLF001
        occurs = occurs and rule.after(dtstart, inc=True) is not None
    except (ValueError, OverflowError):
        occurs = False
    if not occurs:
        raise RecurrenceError("rrule never occurs", "rrule")
    return text


@functools.lru_cache(maxsize=256)
def _rule(text: str, dtstart: str, zone_name: str) -> rrule:
    # Cached with its occurrences: each tick asks again about the same windows.
    return rrulestr(_local_until(text, zone_name), dtstart=datetime.fromisoformat(dtstart), cache=True)


def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(timezone.utc)


def covering(text: str, dtstart: str, zone_name: str, minutes: int,
             now: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence (UTC start, end) covering ``now``, the one ending last if several do."""
    zone, span = ZoneInfo(zone_name or "UTC"), timedelta(minutes=minutes)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    best = None
    for local in _rule(text, dtstart, zone_name).between(local_now - span - PAD, local_now + PAD, inc=True):
        start = _utc(local, zone)
        if start <= now < start + span and (best is None or start + span > best[1]):
            best = (start, start + span)
    return best


def next_start(text: str, dtstart: str, zone_name: str, now: datetime) -> datetime | None:
    """When the next occurrence after ``now`` begins (UTC), None once the rule has ended."""
    zone = ZoneInfo(zone_name or "UTC")
    local = _rule(text, dtstart, zone_name).after(now.astimezone(zone).replace(tzinfo=None) - PAD)
    while local is not None and _utc(local, zone) <= now:
        local = _rule(text, dtstart, zone_name).after(local)
    return _utc(local, zone) if local else None
