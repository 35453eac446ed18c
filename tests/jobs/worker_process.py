"""A `ledgerbridge worker` on a test's clock, for `test_workers.py`.

    python -m tests.jobs.worker_process [--concurrency N] [--shutdown SECONDS]

Everything else comes from the `LEDGERBRIDGE_*` environment, as for the real
command. Only the timing differs: a heartbeat every second, a worker silent
for 5 s counts as dead, the periodic tasks (daily tick, stalled jobs) every
2 s instead of every minute, and a poll every half second.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from ledgerbridge import logging as lb_logging
from ledgerbridge.jobs.workers import Timing, run_worker
from ledgerbridge.settings import Settings

TIMING = Timing(
    heartbeat_seconds=1.0,
    stalled_after_seconds=5.0,
    poll_seconds=0.5,
    daily_cron="* * * * * */2",
    retry_cron="* * * * * */2",
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--shutdown", type=float, default=TIMING.shutdown_seconds)
    args = parser.parse_args(argv)
    lb_logging.configure("INFO")
    timing = replace(TIMING, shutdown_seconds=args.shutdown)
    run_worker(Settings(), concurrency=args.concurrency, timing=timing)


if __name__ == "__main__":
    main()
