"""Runs, wired: the sync use cases with this process's database and Exact
clients, as the CLI, the REST API and the scheduler start them.

One `Runner` per process: it keeps one `ExactClient` per company, so each
division has one rate governor here (`wiring.exact_client`). A daily run that
stops or fails documents leaves a notice, e-mailed when SMTP is configured.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from typing import Any

import httpx2
import structlog

from ledgerbridge import wiring
from ledgerbridge.adapters.exact_gateway import ClientGateway
from ledgerbridge.adapters.sync_store import SqlStore
from ledgerbridge.exact.client import ExactClient
from ledgerbridge.exact.clock import Clock
from ledgerbridge.exact.errors import NeedsSignIn
from ledgerbridge.settings import MissingSetting, Settings
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.secrets import SecretKeyError
from ledgerbridge.storage.tables import NoticeRow
from ledgerbridge.storage.types import utcnow
from ledgerbridge.sync import runs as run_rules
from ledgerbridge.sync.errors import (
    SyncError,
    TermsChanged,
    TermsNotAccepted,
    UnknownCompany,
)
from ledgerbridge.sync.export import execute_export, preview
from ledgerbridge.sync.model import (
    DocumentResult,
    Flow,
    Preview,
    RunInfo,
    RunRequest,
    RunStatus,
    Trigger,
)
from ledgerbridge.sync.payments import execute_payments
from ledgerbridge.sync.ports import Progress
from ledgerbridge.sync.terms import Terms, default_terms

logger = structlog.get_logger(__name__)


class TermsFileError(SyncError):
    """The operator's terms file cannot be read."""


class NoExactClient(SyncError):
    """The company cannot talk to Exact: not connected, or must sign in again."""


def load_terms(settings: Settings) -> Terms:
    if settings.terms_file is None:
        return default_terms()
    try:
        text = settings.terms_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TermsFileError(
            f"The terms file {settings.terms_file} (LEDGERBRIDGE_TERMS_FILE) cannot "
            f"be read: {exc.strerror or exc}."
        ) from None
    if not text.strip():
        raise TermsFileError(
            f"The terms file {settings.terms_file} (LEDGERBRIDGE_TERMS_FILE) is "
            "empty: write the terms in it, or unset the variable for the default."
        )
    return Terms(text)


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    company_ref: str
    run_id: int | None
    kind: str
    message: str


class Runner:
    def __init__(
        self,
        settings: Settings,
        database: wiring.Database,
        *,
        http: httpx2.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.store = SqlStore(database.sessions)
        self.http = http
        self.clock = clock
        self._clients: dict[str, ExactClient] = {}
        self._lock = threading.Lock()

    @property
    def terms(self) -> Terms:
        return load_terms(self.settings)

    def accept_terms(
        self, company_ref: str, user: str, version: str | None = None
    ) -> Terms:
        """Record that `user` accepted the current terms for the company;
        `version`, when given, is the one they read (`TermsChanged` if it is
        no longer current)."""
        terms = self.terms
        if version is not None and version != terms.version:
            raise TermsChanged(version, terms.version)
        self.store.accept_terms(company_ref, terms.version, user[:200])
        logger.info("terms.accepted", company=company_ref, version=terms.version)
        return terms

    # Runs

    def start(
        self,
        request: RunRequest,
        *,
        status: RunStatus = RunStatus.RUNNING,
        then: Callable[[Any, RunInfo], None] | None = None,
    ) -> RunInfo:
        """Create the run after its guards (`sync.runs.start_run`); `then`
        enqueues it in the same transaction (`jobs/`)."""
        run = run_rules.start_run(
            self.store, request, self.terms, status=status, then=then
        )
        logger.info(
            "run.started",
            run=run.id,
            company=run.company_ref,
            flow=run.flow,
            trigger=run.trigger,
            first=str(run.first),
            last=str(run.last),
        )
        return run

    def execute(self, run_id: int, progress: Progress | None = None) -> RunInfo:
        """Carry out a started run to its end and return how it ended."""
        run = self.store.run(run_id)
        try:
            gateway = ClientGateway(self.client(run.company_ref))
        except NoExactClient as exc:
            finished = self.store.finish_run(run_id, RunStatus.STOPPED, str(exc), 0)
        else:
            if run.flow is Flow.PAYMENTS:
                finished = execute_payments(self.store, gateway, run_id)
            else:
                finished = execute_export(self.store, gateway, run_id, progress)
        logger.info(
            "run.finished",
            run=finished.id,
            company=finished.company_ref,
            flow=finished.flow,
            status=finished.status,
            booked=finished.counts.booked,
            linked=finished.counts.linked,
            failed=finished.counts.failed,
            updated=finished.counts.updated,
            calls=finished.exact_calls,
        )
        if finished.trigger is Trigger.DAILY and finished.status in {
            RunStatus.STOPPED,
            RunStatus.PARTIAL,
        }:
            self.notify(finished)
        return finished

    def run(self, request: RunRequest, progress: Progress | None = None) -> RunInfo:
        return self.execute(self.start(request).id, progress)

    def preview(
        self,
        company_ref: str,
        flow: Flow,
        first: date,
        last: date,
        refs: Sequence[str] = (),
    ) -> Preview:
        """The export without writing to Exact. Reading Exact is sending it
        the codes looked up, so the terms must be accepted first."""
        context = self.store.company(company_ref)
        terms = self.terms
        if context.accepted_terms != terms.version:
            raise TermsNotAccepted(
                company_ref, terms.version, renewed=context.ever_accepted
            )
        gateway = ClientGateway(self.client(company_ref))
        return preview(self.store, gateway, company_ref, flow, first, last, refs)

    def results(self, run_id: int) -> list[DocumentResult]:
        return self.store.run_results(run_id)

    # Exact

    def client(self, company_ref: str) -> ExactClient:
        """The one Exact client of the company in this process."""
        with self._lock:
            client = self._clients.get(company_ref)
            if client is not None:
                return client
            try:
                client = wiring.exact_client(
                    self.settings,
                    self.database,
                    company_ref,
                    http=self.http,
                    clock=self.clock,
                )
            except NeedsSignIn as exc:
                raise NoExactClient(exc.sentence) from None
            except (
                wiring.NotConnected,
                wiring.UnknownCompany,
                MissingSetting,
                SecretKeyError,
            ) as exc:
                raise NoExactClient(str(exc)) from None
            self._clients[company_ref] = client
            return client

    def forget_client(self, company_ref: str) -> None:
        """After a company connects again: the next run builds a new client."""
        with self._lock:
            client = self._clients.pop(company_ref, None)
        if client is not None and self.http is None:
            client.http.close()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        if self.http is None:
            for client in clients:
                client.http.close()

    # Notices

    def notify(self, run: RunInfo) -> Notice:
        """A notice that a daily run stopped or failed documents."""
        what = run.flow.label
        if run.status is RunStatus.PARTIAL:
            message = (
                f"The daily {what} of {run.first} to {run.last} finished with "
                f"{run.counts.failed} failed documents; see run {run.id}."
            )
        else:
            message = f"The daily {what} stopped: {run.message} (run {run.id})"
        return self.notice(run.company_ref, "run", message, run.id)

    def notice(
        self, company_ref: str, kind: str, message: str, run_id: int | None = None
    ) -> Notice:
        """Record something users must see, and e-mail it when SMTP is set."""
        with self.database.sessions.begin() as session:
            company = repo.get_company(session, company_ref)
            if company is None:
                raise UnknownCompany(company_ref)
            row = NoticeRow(
                company_id=company.id, run_id=run_id, kind=kind, message=message
            )
            session.add(row)
            session.flush()
            notice_id = row.id
        if self._email(company_ref, message):
            with self.database.sessions.begin() as session:
                session.get_one(NoticeRow, notice_id).emailed_at = utcnow()
        return Notice(notice_id, company_ref, run_id, kind, message)

    def _email(self, company_ref: str, message: str) -> bool:
        settings = self.settings
        if not settings.smtp_host or not settings.notify_to:
            return False
        email = EmailMessage()
        email["Subject"] = f"ledgerbridge: {company_ref}: an automatic run needs you"
        email["From"] = settings.smtp_from
        email["To"] = settings.notify_to
        email.set_content(message)
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=10
            ) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username and settings.smtp_password:
                    smtp.login(
                        settings.smtp_username,
                        settings.smtp_password.get_secret_value(),
                    )
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("notice.email_failed", company=company_ref, error=str(exc))
            return False
        return True


def manual_request(
    company_ref: str,
    flow: Flow,
    first: date,
    last: date,
    started_by: str,
    trigger: Trigger = Trigger.MANUAL,
) -> RunRequest:
    return RunRequest(company_ref, flow, first, last, trigger, started_by)
