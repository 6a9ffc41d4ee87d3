"""Table of the panel's captured log lines.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime, utcnow


class LogEntry(Base):
    __tablename__ = "log_entries"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(10))
    level_no: Mapped[int] = mapped_column(Integer)
    service: Mapped[str] = mapped_column(String(64))
    logger: Mapped[str | None] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(Text)
    __table_args__ = (
        Index("ix_logs_created_id", "created_at", "id"),
        Index("ix_logs_level_created", "level_no", "created_at", "id"),
        Index("ix_logs_service_created", "service", "created_at", "id"),
        # Service and minimum level together: one range scan per level (services.logs.query).
        Index("ix_logs_service_level_created", "service", "level_no", "created_at", "id"),
    )
