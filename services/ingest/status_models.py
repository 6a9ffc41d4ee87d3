"""The status history of each transaction (``transaction_status_changes``), written by ingest.

Its own module so the transaction tables (``models.py``) stay as they are; listed in
``services.schema.MODEL_MODULES``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from database import Base, BigIntPK, UTCDateTime


class TransactionStatusChange(Base):
    """One status a transaction took, from ``at`` (its ``updated_at`` then) on.

    ``received_at`` is when the panel stored it. The newest row (by ``at``, then ``id``) is
    always the transaction's current status.
    """

    __tablename__ = "transaction_status_changes"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(64), ForeignKey("transactions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_transaction_status_changes_tx_at", "transaction_id", "at"),)
