"""A PostgreSQL schema private to one benchmark run, so a run never touches other tables."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, text


@contextmanager
def private_schema(base_url: str, prefix: str = "bench") -> Iterator[str]:
    """Create a fresh schema, yield ``base_url`` with its search_path set to it, then drop it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
