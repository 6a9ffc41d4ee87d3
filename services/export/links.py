"""Exports: a validated request becomes a signed, expiring, per-user link; the link becomes a file.

The link carries the whole request (data type, format, range, owner) signed with
itsdangerous under a salt used for nothing else, so a link cannot be forged,
altered, reused by someone else, or replayed after ``EXPORT_LINK_TTL`` seconds.
The file is produced while it downloads (CSV, JSON) or written in constant memory
to a temporary file first (Excel), so its size never shows up in the server's memory.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from services.export import bundle
from services.export import formats as fmt
from services.export.sources import SOURCES
from services.ingest import ValidationError, parse_query_time
from services.insights import revenue as analytics

log = logging.getLogger(__name__)
# Flask adds "; charset=utf-8" to every text/* type itself.
FORMATS = {"csv": ("text/csv", "csv"), "json": ("application/json", "json"),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")}
PERIODS = ("hourly", "daily", "weekly")
# One ZIP of every data type (services.export.bundle).
ALL = "all"
LINK_SALT = "export-download-link"
DEFAULT_DAYS = 30

# Injectable clock (seconds since the epoch): the signer reads it when signing and checking.
clock: Callable[[], float] = time.time


class ExportError(ValueError):
    """The export request cannot be served; the message says why (answered 400)."""


class LinkInvalid(Exception):
    """The link was altered or was not made by this server (403)."""


class LinkExpired(Exception):
    """The link is older than EXPORT_LINK_TTL (410)."""


class LinkNotYours(Exception):
    """The link belongs to another user (403)."""


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock())


@dataclass(frozen=True)
class ExportRequest:
    """One export: what, in which format, over which range, for whom."""

    data_type: str
    format: str
    start: datetime
    end: datetime
    user_id: int
    period: str | None = None
    tz: str | None = None
    # A drill-down's filters (services.explore.export_filters): the file holds its rows only.
    filters: dict[str, str] | None = None

    @property
    def filename(self) -> str:
        """A file name people recognise, e.g. ``transactions_2026-11-01_2026-11-20.csv`` for
        November 1 to 20 inclusive: the range ends before ``end``, so the name shows the last
        day it covers (UTC), as the export form's "To (inclusive)" does."""
        last_day = (self.end - timedelta(microseconds=1)).astimezone(timezone.utc)
        ext = "zip" if self.data_type == ALL else FORMATS[self.format][1]
        return (f"{self.data_type}_{self.start.astimezone(timezone.utc):%Y-%m-%d}_"
                f"{last_day:%Y-%m-%d}.{ext}")

    @property
    def mimetype(self) -> str:
        return "application/zip" if self.data_type == ALL else FORMATS[self.format][0]

    def describe(self) -> dict[str, Any]:
        """What the audit trail records."""
        return {"data_type": self.data_type, "format": self.format, "start": self.start.isoformat(),
                "end": self.end.isoformat(), **({"period": self.period} if self.period else {}),
                **({"filters": self.filters} if self.filters else {})}


def _time(body: dict, key: str, default: datetime) -> datetime:
    raw = body.get(key)
    if raw in (None, ""):
        return default
    if not isinstance(raw, str):
        raise ExportError(f"{key} must be an ISO 8601 time")
    try:
        return parse_query_time(raw, key)
    except ValidationError as exc:
        raise ExportError(str(exc)) from None


def parse_request(body: dict[str, Any], user_id: int, now: datetime) -> ExportRequest:
    """Check a ``POST /admin/api/export`` body; ExportError names the first bad field."""
    data_type = body.get("data_type")
    if not isinstance(data_type, str) or (data_type not in SOURCES and data_type != ALL):
        raise ExportError(f"data_type must be one of {', '.join(SOURCES)}, {ALL}")
    form = body.get("format", "csv")
    if not isinstance(form, str) or form not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}")
    end = _time(body, "end", now)
    start = _time(body, "start", end - timedelta(days=DEFAULT_DAYS))
    if start >= end:
        raise ExportError("start must be before end")
    period = body.get("period")
    if data_type in ("revenue", ALL):
        period = period or "hourly"
        if period not in PERIODS:
            raise ExportError(f"period must be one of {', '.join(PERIODS)}")
    else:
        period = None
    tz = body.get("tz")
    if tz is not None and not isinstance(tz, str):
        raise ExportError("tz must be an IANA time zone name")
    if data_type in ("revenue", ALL):
        _check_revenue_range(start, end, period, tz)
    filters = body.get("filters")
    if filters is not None:
        from services.explore import ExploreParamError, export_filters

        try:
            filters, window = export_filters.clean(data_type, filters, now)
        except ExploreParamError as exc:
            raise ExportError(f"filters: {exc.message}") from None
        start, end = window.start, window.end
    return ExportRequest(data_type, form, start, end, user_id, period, tz or None, filters)


def _check_revenue_range(start: datetime, end: datetime, period: str, tz: str | None) -> None:
    try:
        analytics.plan(period, start, end, tz, end)
    except ValueError as exc:  # the analytics parameter errors are ValueErrors with a clear message
        raise ExportError(str(exc)) from None


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=LINK_SALT, signer=_ClockSigner)


def sign(req: ExportRequest, secret: str, ttl: int) -> tuple[str, datetime]:
    """The link token for ``req`` and the moment it stops working."""
    payload = {**asdict(req), "start": req.start.isoformat(), "end": req.end.isoformat()}
    token = _serializer(secret).dumps(payload)
    expires = datetime.fromtimestamp(int(clock()) + ttl, timezone.utc)
    return token, expires


def verify(token: str, secret: str, ttl: int, user_id: int) -> ExportRequest:
    """The request inside ``token``; LinkInvalid, LinkExpired or LinkNotYours otherwise."""
    try:
        payload = _serializer(secret).loads(token, max_age=ttl)
    except SignatureExpired:
        raise LinkExpired("This download link has expired; create the export again.") from None
    except BadSignature:
        raise LinkInvalid("This download link is not valid.") from None
    try:
        req = ExportRequest(**{**payload, "start": datetime.fromisoformat(payload["start"]),
                               "end": datetime.fromisoformat(payload["end"])})
    except (TypeError, KeyError, ValueError):
        raise LinkInvalid("This download link is not valid.") from None
    if req.user_id != user_id:
        raise LinkNotYours("This download link belongs to another user.")
    return req


def rows(session: Session, req: ExportRequest) -> tuple[list[fmt.Column], Iterator[tuple]]:
    """The columns and the (lazy) rows of ``req``."""
    columns, source = SOURCES[req.data_type]
    opts: dict[str, Any] = {"period": req.period, "tz": req.tz}
    if req.filters is not None:
        from services.explore import export_filters

        opts["where"] = export_filters.where_for(req.data_type, req.filters, req.end)
    return columns, source(session, req.start, req.end, opts)


def stream(session_factory: Callable[[], Session], req: ExportRequest) -> tuple[Iterator[bytes], int | None]:
    """The file's bytes as an iterator and, when known in advance, its length.

    CSV and JSON are produced while they download, on a session of their own that
    lives exactly as long as the download. Excel is written to a temporary file first.
    """
    if req.data_type == ALL:
        return _streamed(session_factory, req), None
    if req.format == "xlsx":
        with session_factory() as session:
            columns, data = rows(session, req)
            path = fmt.xlsx_file(columns, data, req.data_type)
        return fmt.file_chunks(path)
    return _streamed(session_factory, req), None


def _streamed(session_factory: Callable[[], Session], req: ExportRequest) -> Iterator[bytes]:
    writer = fmt.csv_chunks if req.format == "csv" else fmt.json_chunks
    session = session_factory()
    try:
        if req.data_type == ALL:
            members = [(name, lambda s, name=name: rows(s, replace(req, data_type=name))) for name in SOURCES]
            yield from bundle.zip_chunks(members, req.format, session)
        else:
            columns, data = rows(session, req)
            yield from writer(columns, data)
    except GeneratorExit:
        raise  # the client went away: nothing more to send
    except Exception:
        # Headers are gone already; the client sees a short file, the log says why.
        log.exception("export %s failed while streaming", req.filename)
        raise
    finally:
        session.close()
