"""Serial ranges never overlap, even with orders from several processes at the same moment."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

from sqlalchemy import select

from verify_service.db import session
from verify_service.models import Enterprise, LabelBatch

PROCESSES = 8


def _order_in_process(database_url: str, passphrase: str, enterprise_id: int, number: str, product_id: int,
                      quantity: int, barrier: Any, results: Any) -> None:
    from verify_service import create_app, db
    from verify_service.schemas import BatchOrderIn
    from verify_service.services import issuance

    app = create_app({"DATABASE_URL": database_url, "LABEL_KEY_PASSPHRASE": passphrase, "TESTING": True})
    with app.app_context():
        body = BatchOrderIn(certificate_number=number, product_id=product_id, quantity=quantity)
        barrier.wait(timeout=60)
        batch, _created = issuance.order_batch(enterprise_id, body, "concurrency-test")
        db.commit()
        results.put((batch["first_serial"], batch["last_serial"]))


def test_concurrent_orders_get_disjoint_ranges(holder: Any, run: Any, database_url: str, app_config: dict[str, Any]) -> None:
    enterprise_id = run(lambda: session().scalar(select(Enterprise.id).where(Enterprise.uscc == holder.uscc)))
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    quantities = [1000 + 37 * i for i in range(PROCESSES)]
    procs = [ctx.Process(target=_order_in_process, args=(database_url, app_config["LABEL_KEY_PASSPHRASE"], enterprise_id,
                                                          holder.number, holder.product_id, q, barrier, results))
             for q in quantities]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    ranges = sorted(results.get(timeout=5) for _ in procs)
    assert sorted(b - a + 1 for a, b in ranges) == sorted(quantities)
    for (_a1, b1), (a2, _b2) in zip(ranges, ranges[1:]):
        assert b1 < a2, f"overlap: {ranges}"
    stored = run(lambda: sorted((b.first_serial, b.last_serial) for b in session().scalars(select(LabelBatch))))
    assert stored == ranges
