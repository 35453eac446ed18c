"""The daily scheduler (`jobs.scheduler`) against an in-process sandbox and
the real database: claims, runs, catching up, notices and their e-mail."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from sqlalchemy import select

from ledgerbridge.jobs.scheduler import (
    STARTED_BY,
    DailyScheduler,
    start_scheduler,
)
from ledgerbridge.runner import Runner
from ledgerbridge.storage.secrets import load_keys
from ledgerbridge.storage.tables import CompanyRow
from ledgerbridge.storage.tokens import DbTokenStore
from ledgerbridge.sync.model import Flow, RunRequest, Trigger
from ledgerbridge.sync.runs import daily_period
from tests.jobs.conftest import (
    BE,
    NL,
    Env,
    add_claim,
    claims,
    local,
    notices,
    runs,
    set_settings,
)

SALES, PAYMENTS = Flow.CUSTOMER_INVOICES.value, Flow.PAYMENTS.value
WAIT = 120.0
ACTIVE = {"queued", "running"}


@pytest.fixture
def scheduler(env: Env) -> Iterator[DailyScheduler]:
    scheduler = DailyScheduler(env.runner, env.database)
    yield scheduler
    scheduler.stop()


def _tick(scheduler: DailyScheduler, now: datetime) -> list[tuple[str, str]]:
    claimed = scheduler.tick(now)
    assert scheduler.wait(WAIT), "the daily runs did not finish"
    return [(due.company_ref, due.flow.value) for due in claimed]


def _daily(env: Env) -> list[tuple[str, str, str]]:
    return [(r.company, r.flow, r.status) for r in runs(env) if r.trigger == "daily"]


# Running once a day


def test_due_flows_run_once_however_many_ticks(
    env: Env, scheduler: DailyScheduler
) -> None:
    env.accept_terms(BE)
    env.accept_terms(NL)

    first = _tick(scheduler, local(env, 12))
    second = _tick(scheduler, local(env, 12, 1))
    third = _tick(scheduler, local(env, 23, 59))

    assert first == [(BE, SALES), (BE, PAYMENTS), (NL, SALES), (NL, PAYMENTS)]
    assert second == third == []
    daily = [r for r in runs(env) if r.trigger == "daily"]
    assert sorted((r.company, r.flow) for r in daily) == sorted(first)
    period = daily_period(env.today)
    assert {(r.first, r.last) for r in daily} == {period}
    assert {r.started_by for r in daily} == {STARTED_BY}
    assert all(r.status in {"succeeded", "partial"} for r in daily)
    assert env.entries(BE) and env.entries(NL)
    today = env.today
    assert claims(env) == [
        (BE, SALES, today, True),
        (BE, PAYMENTS, today, True),
        (NL, SALES, today, True),
        (NL, PAYMENTS, today, True),
    ]


def test_nothing_is_due_before_its_time(env: Env, scheduler: DailyScheduler) -> None:
    env.accept_terms(BE)

    early = _tick(scheduler, local(env, 2, 29))
    sales = _tick(scheduler, local(env, 2, 30))
    payments = _tick(scheduler, local(env, 3, 0))

    assert early == []
    assert sales == [(BE, SALES), (NL, SALES)]
    assert payments == [(BE, PAYMENTS), (NL, PAYMENTS)]


def test_two_schedulers_ticking_together_run_each_flow_once(env: Env) -> None:
    env.accept_terms(BE)
    env.accept_terms(NL)
    other_runner = Runner(env.settings, env.database, http=env.http, clock=env.clock)  # type: ignore[arg-type]
    schedulers = [
        DailyScheduler(env.runner, env.database),
        DailyScheduler(other_runner, env.database),
    ]
    now = local(env, 12)
    try:
        for _ in range(20):
            claimed = _tick_together(schedulers, now)
            for scheduler in schedulers:
                assert scheduler.wait(WAIT)
            if not any(claimed):
                break
            # A company busy with the other scheduler's run drops its claim
            # and is tried again on the next tick.
            now += timedelta(minutes=1)
    finally:
        for scheduler in schedulers:
            scheduler.stop()
        other_runner.close()

    daily = sorted((r.company, r.flow) for r in runs(env) if r.trigger == "daily")
    assert daily == [(BE, SALES), (BE, PAYMENTS), (NL, SALES), (NL, PAYMENTS)]
    assert len(claims(env)) == 4
    assert all(has_run for *_, has_run in claims(env))
    numbers = [entry["EntryNumber"] for entry in env.entries(BE)]
    assert len(numbers) == len(set(numbers))


def _tick_together(schedulers: list[DailyScheduler], now: datetime) -> list[list]:
    """Each scheduler ticks on its own thread, released at the same moment."""
    claimed: list[list] = [[] for _ in schedulers]
    start = threading.Barrier(len(schedulers))

    def tick(index: int) -> None:
        start.wait()
        claimed[index] = list(schedulers[index].tick(now))

    threads = [
        threading.Thread(target=tick, args=(index,)) for index in range(len(schedulers))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claimed


# Catching up


def test_after_days_down_catches_up_today_once(
    env: Env, scheduler: DailyScheduler
) -> None:
    env.accept_terms(BE)
    set_settings(env, NL, sales_daily=False, payments_daily=False)
    long_ago = env.today - timedelta(days=4)
    add_claim(env, BE, SALES, long_ago)
    add_claim(env, BE, PAYMENTS, long_ago)

    caught_up = _tick(scheduler, local(env, 15))
    later = _tick(scheduler, local(env, 15, 1))

    assert caught_up == [(BE, SALES), (BE, PAYMENTS)]
    assert later == []
    assert [run[:2] for run in _daily(env)] == [(BE, SALES), (BE, PAYMENTS)]
    assert sorted({c[2] for c in claims(env)}) == [long_ago, env.today]


def test_started_scheduler_ticks_at_once(env: Env) -> None:
    env.accept_terms(BE)
    set_settings(env, NL, sales_daily=False, payments_daily=False)
    set_settings(env, BE, payments_daily=False)

    class Fixed:
        def now(self) -> datetime:
            return local(env, 9)

        def sleep(self, seconds: float) -> None:
            pass

    running = start_scheduler(env.runner, env.database, clock=Fixed())
    try:
        deadline = time.monotonic() + WAIT
        while not any(run.status not in ACTIVE for run in runs(env)):
            assert time.monotonic() < deadline, "no daily run finished"
            time.sleep(0.05)
    finally:
        running.stop()

    assert [run[:2] for run in _daily(env)] == [(BE, SALES)]


# When a daily run cannot run


def test_terms_not_accepted_leave_a_notice_once(
    env: Env, scheduler: DailyScheduler
) -> None:
    set_settings(env, BE, sales_daily=False, payments_daily=False)
    set_settings(env, NL, payments_daily=False)

    first = _tick(scheduler, local(env, 10))
    again = _tick(scheduler, local(env, 11))

    assert first == [(NL, SALES)]
    assert again == []
    assert _daily(env) == []
    (notice,) = notices(env)
    assert notice.company == NL
    assert notice.kind == "daily_run"
    assert notice.run_id is None
    assert notice.message.startswith(
        f"The daily customer invoice export of {env.today} did not run: "
    )
    assert "terms and conditions" in notice.message
    assert not notice.emailed
    assert claims(env) == [(NL, SALES, env.today, False)]


def test_connection_needing_sign_in_stops_the_run_with_a_notice(
    env: Env, scheduler: DailyScheduler
) -> None:
    env.accept_terms(BE)
    set_settings(env, BE, payments_daily=False)
    set_settings(env, NL, sales_daily=False, payments_daily=False)
    _needs_sign_in(env, BE)

    assert _tick(scheduler, local(env, 10)) == [(BE, SALES)]

    assert _daily(env) == [(BE, SALES, "stopped")]
    (notice,) = notices(env)
    assert notice.company == BE
    assert notice.run_id is not None
    assert "stopped" in notice.message
    assert "connect" in notice.message
    assert env.entries(BE) == []


def test_company_busy_with_a_manual_run_is_tried_on_the_next_tick(
    env: Env, scheduler: DailyScheduler
) -> None:
    env.accept_terms(BE)
    set_settings(env, BE, payments_daily=False)
    set_settings(env, NL, sales_daily=False, payments_daily=False)
    first, last = env.today - timedelta(days=5), env.today
    manual = env.runner.start(
        RunRequest(BE, Flow.SUPPLIER_INVOICES, first, last, Trigger.MANUAL, "tests")
    )

    busy = _tick(scheduler, local(env, 10))
    claims_while_busy = claims(env)
    env.runner.execute(manual.id)
    free = _tick(scheduler, local(env, 10, 1))

    assert busy == [(BE, SALES)]
    assert claims_while_busy == []
    assert [n for n in notices(env) if n.kind == "daily_run"] == []
    assert free == [(BE, SALES)]
    assert [run[:2] for run in _daily(env)] == [(BE, SALES)]


def test_switched_off_time_zone_or_flow_is_not_due(
    env: Env, scheduler: DailyScheduler
) -> None:
    env.accept_terms(BE)
    env.accept_terms(NL)
    set_settings(env, BE, sales_enabled=False)
    set_settings(env, NL, payments_enabled=False, sales_daily=False)

    claimed = _tick(scheduler, local(env, 12))

    assert claimed == [(BE, PAYMENTS)]


# E-mail


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for `smtplib`: every message is kept."""

    def handle(self) -> None:
        self._say("220 fake ESMTP")
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self._say("250 fake")
            elif verb in {"MAIL", "RCPT", "RSET", "NOOP"}:
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 go ahead")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.messages.append(message_from_bytes(body))  # type: ignore[attr-defined]
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("502 not here")

    def _say(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode("ascii"))


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Message]]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.messages  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_notices_are_emailed_when_smtp_is_set(
    env: Env, smtp: tuple[int, list[Message]]
) -> None:
    port, messages = smtp
    settings = env.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "notify_to": "office@example.com",
        }
    )
    runner = Runner(settings, env.database, http=env.http, clock=env.clock)  # type: ignore[arg-type]
    scheduler = DailyScheduler(runner, env.database)
    env.accept_terms(BE)
    set_settings(env, BE, payments_daily=False)
    set_settings(env, NL, payments_daily=False)
    _needs_sign_in(env, BE)
    try:
        _tick(scheduler, local(env, 10))
    finally:
        scheduler.stop()
        runner.close()

    sent = {message["Subject"]: message for message in messages}
    assert sorted(sent) == [
        f"ledgerbridge: {BE}: an automatic run needs you",
        f"ledgerbridge: {NL}: an automatic run needs you",
    ]
    assert all(m["To"] == "office@example.com" for m in messages)
    by_company = {notice.company: notice for notice in notices(env)}
    assert by_company[BE].emailed and by_company[NL].emailed
    nl_mail = sent[f"ledgerbridge: {NL}: an automatic run needs you"]
    assert nl_mail.get_payload(decode=True).decode().strip() == by_company[NL].message


def _needs_sign_in(env: Env, company: str) -> None:
    store = DbTokenStore(env.database.engine, load_keys(env.settings))
    with env.database.sessions() as session:
        company_id = session.scalar(
            select(CompanyRow.id).where(CompanyRow.ref == company)
        )
    connection = store.find(company_id)
    assert connection is not None
    store.mark_needs_sign_in(connection, "The refresh token was refused.")
