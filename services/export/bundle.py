"""The ``all`` export: one ZIP holding every data type for the range, each in the chosen format.

The ZIP is written while it downloads: ``zipfile`` writes to a sink that hands its bytes on
after each chunk (an unseekable stream, so each member carries a data descriptor), every member
is produced by the same streaming writers as the single exports, and Excel members are written
to a temporary file one at a time and copied in. Memory stays flat whatever the row count.
"""
from __future__ import annotations

import os
import zipfile
from typing import Callable, Iterator

from sqlalchemy.orm import Session

from services.export import formats as fmt

COPY_CHUNK = 64 * 1024


class _Sink:
    """A write-only, unseekable file object whose written bytes are taken out by ``drain``."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        """Nothing is buffered here."""

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def zip_chunks(members: list[tuple[str, Callable[[Session], tuple[list[fmt.Column], Iterator[tuple]]]]],
               form: str, session: Session) -> Iterator[bytes]:
    """The ZIP's bytes: one member ``<name>.<form>`` per entry of ``members`` (name, rows of a session)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows in members:
            columns, data = rows(session)
            info = zipfile.ZipInfo(f"{name}.{form}")
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                for chunk in _member_chunks(form, columns, data, name):
                    member.write(chunk)
                    if sink.offset and len(sink.parts) > 16:
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()


def _member_chunks(form: str, columns: list[fmt.Column], data: Iterator[tuple], name: str) -> Iterator[bytes]:
    if form == "csv":
        yield from fmt.csv_chunks(columns, data)
    elif form == "json":
        yield from fmt.json_chunks(columns, data)
    else:
        path = fmt.xlsx_file(columns, data, name)
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(COPY_CHUNK):
                    yield chunk
        finally:
            os.unlink(path)
