"""Calls to Exact per 1,000 payment changes in the payments import.

Sets up the sandbox in a process of its own, a synthetic Belgian company
(`loadgen`) whose invoices are exported first, and a first payments import
(the cursor then points after the open terms of those entries). Then pays
invoices through the sandbox's admin API (`POST /_sandbox/divisions/{code}/
payments`): most in full, every fifth in part (a part payment splits the
term, two changes), and imports again. Prints the payment term changes the
import read, the calls it made and the calls per 1,000 changes (goal <= 2);
exits 1 when the goal is missed.

    .venv/bin/python bench/sync_payments.py [--invoices 3000] [--paid 2500]
        [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from syncbench import (
    connect,
    database,
    export,
    goal,
    machine,
    quiet,
    sandbox_server,
    settings_for,
)

from ledgerbridge import loadgen
from ledgerbridge.runner import Runner
from ledgerbridge.storage.tables import DocumentRow
from ledgerbridge.sync.model import Flow, RunStatus

DIVISION = 1001
COMPANY = "bench-be"
CUSTOMERS = 50
CHANGES = re.compile(r"^(\d+) payment term changes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=3_000)
    parser.add_argument("--paid", type=int, default=2_500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    quiet()
    today = datetime.now(UTC).date()
    first = today - timedelta(days=60)

    with sandbox_server() as server, database(args.database_url) as (db, url, folder):
        server.division(DIVISION)
        settings = settings_for(server, url, folder)
        loaded = loadgen.load_company(
            db.sessions,
            COMPANY,
            customers=CUSTOMERS,
            invoices=args.invoices,
            last=today,
            credit_note_share=0.0,
        )
        connect(server, settings, db, loaded.company_id, COMPANY, DIVISION)
        runner = Runner(settings, db)
        exported = export(runner, COMPANY, first, today)
        assert exported.status is RunStatus.SUCCEEDED, exported
        initial = export(runner, COMPANY, first, today, Flow.PAYMENTS)

        with db.sessions() as session:
            booked = session.execute(
                select(DocumentRow.booking_entry_id, DocumentRow.total)
                .where(DocumentRow.company_id == loaded.company_id)
                .order_by(DocumentRow.id)
                .limit(args.paid)
            ).all()
        started = time.perf_counter()
        for index, (entry_id, total) in enumerate(booked):
            amount = total if index % 5 else (total / 2).quantize(Decimal("0.01"))
            answer = server.admin.post(
                f"/_sandbox/divisions/{DIVISION}/payments",
                json={"entry_id": entry_id, "amount": str(amount), "date": str(today)},
            )
            answer.raise_for_status()
        paying = time.perf_counter() - started

        before = server.stats(DIVISION)["calls"]
        run = export(runner, COMPANY, first, today, Flow.PAYMENTS)
        counted = server.stats(DIVISION)["calls"] - before
        runner.close()

    found = CHANGES.match(run.message or "")
    changes = int(found.group(1)) if found else 0
    per_thousand = counted / changes * 1000 if changes else float("inf")
    print("payments import: calls per 1,000 payment changes")
    print(f"  {machine()}; database {url.split(':')[0]}")
    print(
        f"  {exported.counts.booked} invoices exported; a first import read "
        f"{initial.message!r} in {initial.exact_calls} calls"
    )
    print(
        f"  {len(booked)} invoices paid through the admin API in {paying:.1f} s "
        f"(every fifth in part)"
    )
    print(
        f"  import {run.status.value}: {run.message!r}; calls: sandbox counted "
        f"{counted}, the run counted {run.exact_calls}"
    )
    met = run.status is RunStatus.SUCCEEDED and per_thousand <= 2
    print(f"  calls per 1,000 changes {per_thousand:.2f} (goal <= 2): {goal(met)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
