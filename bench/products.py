"""Best sellers and ingest with order lines: how they scale.

    python bench/products.py [--n 100000] [--batches 20] [--backends sqlite,postgresql] [--ingest-only]

1. Top products over 30 days (``services.products.bestsellers.top``, by revenue, one currency)
   and the product list sorted by revenue, at N and at 10 N transactions of three lines each
   over 30 days, 300 products, three currencies and a realistic status mix. The daily sales
   rollups are what ingest keeps: computed with ingest's own ``SalesDeltas`` from the generated
   transactions and stored, then read uncached (median of 5). The ratio 10 N / N is the point:
   the cost follows the range (days x products), not the number of lines.
2. Ingest rate of new transactions through ``ingest_batch`` (batches of 500, one database
   transaction each) with three lines per transaction against the same transactions without
   lines, the two kinds alternating batch by batch: from the fastest batch of each (wall clock),
   and from the CPU time of all batches of each (this process plus the PostgreSQL backend).

PostgreSQL uses ``BENCH_DATABASE_URL`` (default: the local ``test`` database) in a schema of its
own that is dropped afterwards; SQLite a temporary file.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, delete
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import services.schema  # noqa: E402,F401  (every table on Base.metadata)
from database import Base, make_engine  # noqa: E402
from pg_schema import private_schema  # noqa: E402
from services.ingest import store  # noqa: E402
from services.ingest.models import Transaction  # noqa: E402
from services.products import bestsellers, catalogue, sales  # noqa: E402
from services.products.models import Product, ProductSalesRollup, TransactionItem  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
END = datetime(2026, 11, 30, tzinfo=timezone.utc)
SKUS = [f"SKU-{i:03d}" for i in range(300)]
CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP")
STATUSES = ("completed",) * 17 + ("pending", "failed", "refunded")


def sales_rows(count: int, rng: random.Random) -> list[dict]:
    """The daily sales rollups ingest would keep for ``count`` transactions of 3 lines."""
    deltas = sales.SalesDeltas()
    span = 30 * 86400
    weights = [1 / (i + 1) ** 0.8 for i in range(len(SKUS))]
    for i in range(count):
        lines = [{"sku": sku, "quantity": rng.randint(1, 3), "amount_cents": rng.randint(300, 9000)}
                 for sku in rng.choices(SKUS, weights, k=3)]
        deltas.add({"created_at": END - timedelta(seconds=span * (i + 0.5) / count), "currency": rng.choice(CURRENCIES),
                    "status": rng.choice(STATUSES), "items": lines}, +1)
    return deltas.rows()


def timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def top_products(factory, engine, count: int, rows: list[dict]) -> dict:
    with factory() as s:
        s.execute(delete(ProductSalesRollup))
        s.execute(delete(Product))
        s.execute(Product.__table__.insert(), [{"sku": k, "name": k, "active": True, "stock": 50,
                                                "category": f"c{i % 6}", "updated_at": END} for i, k in enumerate(SKUS)])
        for i in range(0, len(rows), 20000):
            s.execute(ProductSalesRollup.__table__.insert(), rows[i:i + 20000])
        s.commit()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    rng = bestsellers.SalesRange(END - timedelta(days=30), END)
    with factory() as s:
        top = timed(lambda: bestsellers.top(s, rng, "USD", "revenue", 10))
        listing = timed(lambda: catalogue.list_products(s, rng, currency="USD", sort="revenue", order="desc"))
    return {"transactions": count, "rollup_rows": len(rows), "top_ms": top, "list_ms": listing}


def ingest_batch(rng: random.Random, b: int, with_items: bool) -> list[dict]:
    """Batch ``b`` of 500 new transactions, with three lines each or none."""
    txs = []
    for i in range(500):
        amount = rng.randint(3000, 30000)
        tx = {"id": f"{'i' if with_items else 'p'}-{b}-{i}", "amount_cents": amount,
              "currency": rng.choice(CURRENCIES), "status": rng.choice(STATUSES), "customer_id": f"c{i}",
              "created_at": (END - timedelta(minutes=b * 500 + i)).isoformat()}
        if with_items:
            tx["items"] = [{"sku": rng.choice(SKUS), "quantity": 1, "amount_cents": amount // 3} for _ in range(3)]
        txs.append(tx)
    return txs


def backend_cpu(session) -> float:
    """CPU seconds used so far by the PostgreSQL backend serving ``session`` when it runs on this
    machine (read from /proc), else 0 (SQLite works inside this process)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest_rates(factory, batches: int) -> dict[str, tuple[float, float]]:
    """Transactions per second without and with lines: from the fastest batch of each (``wall``),
    and from the CPU time spent on all batches of each (``cpu``: this process plus the database
    backend when on this machine).

    The two kinds alternate batch by batch (which goes first alternates too), so a change of the
    machine's load falls on both alike. The fastest batch is the one other work on a shared machine
    disturbed least; CPU time does not count the waits for a CPU that other work causes.
    """
    rngs = {False: random.Random(7), True: random.Random(7)}
    walls: dict[bool, list[float]] = {False: [], True: []}
    cpus: dict[bool, float] = {False: 0.0, True: 0.0}
    for b in range(batches + 1):
        for with_items in ((False, True) if b % 2 else (True, False)):
            txs = ingest_batch(rngs[with_items], b, with_items)
            with factory() as s:
                backend = backend_cpu(s)
                s.commit()
                began, cpu = time.perf_counter(), time.process_time()
                store.ingest_batch(s, {"transactions": txs}, now=END)
                wall, cpu = time.perf_counter() - began, time.process_time() - cpu
                cpu += backend_cpu(s) - backend
                s.commit()
            if b:  # the first round warms caches and plans up
                walls[with_items].append(wall)
                cpus[with_items] += cpu
    count = 500 * batches
    return {"wall": (500 / min(walls[False]), 500 / min(walls[True])),
            "cpu": (count / cpus[False], count / cpus[True])}


def run(url: str, name: str, n: int, batches: int, prebuilt: dict) -> None:
    engine = make_engine(url) if name == "sqlite" else create_engine(url)
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    if prebuilt:
        small = top_products(factory, engine, n, prebuilt[n])
        large = top_products(factory, engine, 10 * n, prebuilt[10 * n])
        print(f"{name}: top products over 30 days, by revenue (median of 5, uncached)")
        for r in (small, large):
            print(f"  {r['transactions']:>9,} transactions x 3 lines: {r['rollup_rows']:>7,} rollup rows, "
                  f"top {r['top_ms']:.1f} ms, product list sorted by revenue {r['list_ms']:.1f} ms")
        print(f"  ratio 10N/N: top {large['top_ms'] / small['top_ms']:.2f}x, "
              f"list {large['list_ms'] / small['list_ms']:.2f}x")
    else:  # the catalogue the lines name, as the first part leaves it
        with factory() as s:
            s.execute(Product.__table__.insert(), [{"sku": k, "name": k, "active": True, "stock": 50,
                                                    "updated_at": END} for k in SKUS])
            s.commit()
    with factory() as s:
        for model in (TransactionItem, Transaction, ProductSalesRollup):
            s.execute(delete(model))
        s.commit()
    rates = ingest_rates(factory, batches)
    print(f"{name}: ingest of new transactions, {batches} batches of 500 of each kind, alternating")
    for what, label in (("wall", "fastest batch, wall clock"), ("cpu", "CPU time of all batches")):
        plain, lined = rates[what]
        print(f"  {label}: without lines {plain:,.0f}/s, with 3 lines {lined:,.0f}/s "
              f"({lined / plain:.0%} of the rate without)")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--ingest-only", action="store_true", help="Skip part 1 (top products).")
    args = parser.parse_args()
    began = time.perf_counter()
    prebuilt = {}
    if not args.ingest_only:
        prebuilt = {size: sales_rows(size, random.Random(size)) for size in (args.n, 10 * args.n)}
        print(f"rollups of {args.n:,} and {10 * args.n:,} transactions computed in "
              f"{time.perf_counter() - began:.1f} s")
    for name in args.backends.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                run(f"sqlite:///{tmp}/bench.db", name, args.n, args.batches, prebuilt)
        else:
            with private_schema(os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT), "products") as url:
                run(url, name, args.n, args.batches, prebuilt)


if __name__ == "__main__":
    main()
