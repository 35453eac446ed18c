"""Export customer or supplier invoices: preview, then book exactly once.

For a run (`runs.start_run` created it), `execute_export`:

1. reads the reference data once (journals, GL accounts, VAT codes, the
   run's customers or suppliers, in bulk) and the entries already in Exact
   for the period (a call or two: `ExactGateway.booked_entries`);
2. decides per document (`decide`): skip it (not validated), fail it (every
   problem of `domain.booking`, or changed after it was booked), link it to
   the entry already in Exact, or book it;
3. books in batches: the intent is recorded (`Store.mark_pending`) before the
   POSTs; an answer that is lost is settled by looking the document up by
   `YourRef` and journal before anything is sent again; a document still
   pending from a run that died is looked up the same way first.

A document that fails never holds up the others, and is looked at again by
the next run. Exact's refusals are counted: after `STOP_AFTER` identical ones
for invoices (or credit notes) the run stops sending that kind, so the app is
not blocked (Exact does at 10 errors an hour).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from ledgerbridge.domain.accounting import ExportSettings
from ledgerbridge.domain.booking import (
    Booking,
    BookingProblem,
    BookingProblems,
    ReferenceData,
    build_booking,
)
from ledgerbridge.domain.documents import BookingStatus, Side
from ledgerbridge.sync.errors import (
    ExactRefused,
    NotAnExport,
    OutcomeLost,
    StopRun,
)
from ledgerbridge.sync.model import (
    BookedEntry,
    DocumentResult,
    ExportItem,
    Flow,
    Outcome,
    Preview,
    PreviewDocument,
    PreviewLine,
    RunInfo,
    RunStatus,
)
from ledgerbridge.sync.ports import (
    CompanyContext,
    ExactGateway,
    NoProgress,
    Progress,
    Store,
)
from ledgerbridge.sync.runs import check_period, flow_enabled

STOP_AFTER = 3
"""Identical refusals from Exact after which a run stops sending that kind."""
BATCH = 50
POST_ATTEMPTS = 2

EXACT_KIND_SENTENCES = {
    "closed_period": "the period of the invoice date is closed in Exact: reopen "
    "it in Exact or ask your accountant, then run the export again",
    "not_balanced": "Exact found the entry out of balance: report this with "
    "Exact's message, it should not happen",
    "vat_code": "Exact refused the VAT code: check the VAT mapping on {tab}",
    "unknown_reference": "Exact does not know the customer, supplier, journal, GL "
    "account or VAT code the entry names: check the booking codes and {tab}",
    "wrong_type": "Exact refused a value's type: check the booking codes and {tab}",
    "mandatory": "Exact misses a mandatory value: see Exact's message",
    "entry_number_in_use": "the entry number is in use in Exact",
    "already_exists": "Exact says the entry exists already: the next run links it",
    "other": "Exact refused the entry: see Exact's message",
}


def settings_for(context: CompanyContext, side: Side) -> ExportSettings:
    settings = context.settings
    return settings.sales if side is Side.SALES else settings.purchases


def journals_of(settings: ExportSettings) -> list[str]:
    codes = [settings.journal, settings.credit_note_journal]
    return list(dict.fromkeys(code.strip() for code in codes if code and code.strip()))


# Deciding what to do with one document (no I/O)


@dataclass(frozen=True, slots=True)
class Decision:
    will: str
    """book, link, skip or fail."""
    booking: Booking | None = None
    entry: BookedEntry | None = None
    problems: tuple[BookingProblem, ...] = ()


class BookedIndex:
    """Entries already in Exact for the period, to link instead of posting."""

    def __init__(self, entries: Iterable[BookedEntry]) -> None:
        self._by_ref: dict[str, list[BookedEntry]] = {}
        self._by_number: dict[tuple[int, str], BookedEntry] = {}
        for entry in entries:
            if entry.your_ref:
                self._by_ref.setdefault(entry.your_ref.strip(), []).append(entry)
            if entry.entry_number is not None and entry.account_code:
                self._by_number[(entry.entry_number, entry.account_code)] = entry

    def __len__(self) -> int:
        return sum(len(found) for found in self._by_ref.values())

    def find(
        self, number: str, account_code: str | None, journals: Sequence[str]
    ) -> BookedEntry | None:
        """Our number in `YourRef` (what ledgerbridge posts, and what people
        key for supplier invoices), on the same account when Exact says
        which; else, for an invoice number that is a number, an entry of
        that number on the same account (a sales invoice keyed by hand)."""
        found = [
            e for e in self._by_ref.get(number.strip(), []) if e.journal in journals
        ]
        if account_code:
            same = [e for e in found if e.account_code == account_code]
            if same:
                return same[0]
            found = [e for e in found if e.account_code is None]
        if len(found) == 1:
            return found[0]
        if account_code and number.strip().isdigit():
            entry = self._by_number.get((int(number), account_code))
            if entry is not None and entry.journal in journals:
                return entry
        return None


def decide(
    item: ExportItem,
    context: CompanyContext,
    settings: ExportSettings,
    reference: ReferenceData,
    booked: BookedIndex,
    period: tuple[date, date] | None = None,
) -> Decision:
    """What the export does with `item`: book, link, skip or fail. `period`
    is checked for documents chosen by reference."""
    kind = "credit note" if item.credit_note else "invoice"
    day = item.document.issue_date
    if period is not None and not period[0] <= day <= period[1]:
        return Decision(
            "skip",
            problems=(
                BookingProblem(
                    "outside_period",
                    f"The {kind} {item.number} is dated {day}, outside the period "
                    f"{period[0]} to {period[1]}: choose a period that holds it.",
                    "period",
                ),
            ),
        )
    if item.status in {BookingStatus.BOOKED, BookingStatus.LINKED}:
        return Decision(
            "fail",
            problems=(
                BookingProblem(
                    "changed_after_export",
                    f"The {kind} {item.number} changed after it was booked in Exact "
                    f"(entry {item.entry_number}): it is not booked again; book a "
                    "credit note for the difference, or mark this as handled.",
                    "document",
                ),
            ),
        )
    code = (item.party.booking_codes.exact_code or "").strip() or None
    entry = booked.find(item.number, code, journals_of(settings))
    if entry is not None:
        return Decision("link", entry=entry)
    if not item.document.validated:
        return Decision(
            "skip",
            problems=(
                BookingProblem(
                    "not_validated",
                    f"The {kind} {item.number} is not validated yet: validate it in "
                    "the business application; only validated documents are booked.",
                    "validated",
                ),
            ),
        )
    built = build_booking(
        item.document,
        item.party,
        settings,
        context.company.base_currency,
        reference,
    )
    if isinstance(built, BookingProblems):
        return Decision("fail", problems=built.problems)
    return Decision("book", booking=built)


def preview(
    store: Store,
    exact: ExactGateway,
    company_ref: str,
    flow: Flow,
    first: date,
    last: date,
    refs: Sequence[str] = (),
) -> Preview:
    """The export of the period without writing to Exact: per document the
    journal, the customer or supplier code, the lines and every problem."""
    side = _side(flow)
    check_period(first, last)
    context = store.company(company_ref)
    settings = settings_for(context, side)
    plan = store.plan(company_ref, side, first, last, refs)
    reference = exact.reference_data(side, plan.party_codes)
    journals = journals_of(settings)
    booked = BookedIndex(
        exact.booked_entries(side, journals, first, last) if journals else []
    )
    documents: list[PreviewDocument] = []
    period = (first, last) if refs else None
    for batch in store.export_items(company_ref, side, first, last, refs):
        for item in batch:
            decision = decide(item, context, settings, reference, booked, period)
            documents.append(_preview_document(item, decision))
    return Preview(company_ref, flow, first, last, tuple(documents))


def _preview_document(item: ExportItem, decision: Decision) -> PreviewDocument:
    booking = decision.booking
    code = (item.party.booking_codes.exact_code or "").strip() or None
    amounts = item.document.amounts()
    lines: tuple[PreviewLine, ...] = ()
    if booking is not None:
        lines = tuple(
            PreviewLine(
                gl_account=line.gl_account_code,
                vat_code=line.vat_code,
                description=line.description,
                net=line.amount_fc,
                vat=line.vat_amount_fc,
            )
            for line in booking.lines
        )
    return PreviewDocument(
        document_id=item.document_id,
        number=item.number,
        issue_date=item.document.issue_date,
        party=item.party.name,
        party_code=code,
        journal=booking.journal if booking else None,
        total=amounts.total,
        currency=item.document.currency,
        will=decision.will,
        lines=lines,
        problems=tuple((p.code, p.sentence, p.where) for p in decision.problems),
        entry_number=decision.entry.entry_number if decision.entry else None,
        create_party=booking.create_party if booking else False,
    )


# Running an export


def execute_export(
    store: Store,
    exact: ExactGateway,
    run_id: int,
    progress: Progress | None = None,
    *,
    stop_after: int = STOP_AFTER,
    batch: int = BATCH,
) -> RunInfo:
    """Run the export `run_id` to its end (or until Exact stops it)."""
    run = store.claim_run(run_id)
    side = _side(run.flow)
    context = store.company(run.company_ref)
    settings = settings_for(context, side)
    progress = progress or NoProgress()
    if not flow_enabled(context, run.flow):
        return _switched_off(store, run, side)
    calls_before = exact.calls
    exporter = _Exporter(store, exact, run, context, settings, progress, stop_after)
    exporter.refs = run.documents
    try:
        exporter.prepare()
        for items in store.export_items(
            run.company_ref, side, run.first, run.last, exporter.refs, batch
        ):
            exporter.batch(items)
    except StopRun as stop:
        return store.finish_run(
            run_id, RunStatus.STOPPED, stop.sentence, exact.calls - calls_before
        )
    except BaseException as exc:
        store.finish_run(
            run_id,
            RunStatus.STOPPED,
            f"The run stopped on an unexpected error ({type(exc).__name__}); "
            "what was booked is kept and the next run carries on.",
            exact.calls - calls_before,
        )
        raise
    status = RunStatus.PARTIAL if exporter.failed else RunStatus.SUCCEEDED
    return store.finish_run(
        run_id, status, exporter.summary(), exact.calls - calls_before
    )


@dataclass
class _Exporter:
    store: Store
    exact: ExactGateway
    run: RunInfo
    context: CompanyContext
    settings: ExportSettings
    progress: Progress
    stop_after: int
    reference: ReferenceData = field(default_factory=ReferenceData)
    booked: BookedIndex = field(default_factory=lambda: BookedIndex(()))
    refs: tuple[str, ...] = ()
    failed: int = 0
    done: int = 0
    total: int = 0
    refusals: Counter[tuple[bool, str, str]] = field(default_factory=Counter)
    stopped: dict[bool, str] = field(default_factory=dict)
    """credit note? -> why that kind is no longer sent in this run."""
    created: dict[str, str] = field(default_factory=dict)
    """Party code -> guid of customers or suppliers created in this run."""

    @property
    def side(self) -> Side:
        return _side(self.run.flow)

    def prepare(self) -> None:
        run, side = self.run, self.side
        plan = self.store.plan(run.company_ref, side, run.first, run.last, self.refs)
        self.total = plan.todo
        self.store.planned(run.id, plan.done)
        self.progress.start(plan.todo)
        if plan.todo == 0:
            return
        self.reference = self.exact.reference_data(side, plan.party_codes)
        journals = journals_of(self.settings)
        if journals:
            self.booked = BookedIndex(
                self.exact.booked_entries(side, journals, run.first, run.last)
            )

    def batch(self, items: Sequence[ExportItem]) -> None:
        results: list[DocumentResult] = []
        to_post: list[tuple[ExportItem, Booking]] = []
        try:
            for item in items:
                result, booking = self._settle(item)
                if result is not None:
                    self._done(results, result)
                elif booking is not None:
                    to_post.append((item, booking))
            to_post = self._with_parties(to_post, results)
            self.store.mark_pending(item.document_id for item, _ in to_post)
            for item, booking in to_post:
                self._done(results, self._post(item, booking))
        finally:
            if results:
                self.store.record(self.run.id, results)

    def summary(self) -> str | None:
        if not self.stopped:
            return None
        return " ".join(self.stopped.values())

    # One document

    def _settle(self, item: ExportItem) -> tuple[DocumentResult | None, Booking | None]:
        """A result now, or the booking to post."""
        period = (self.run.first, self.run.last) if self.refs else None
        decision = decide(
            item, self.context, self.settings, self.reference, self.booked, period
        )
        if decision.will == "link" and decision.entry is not None:
            outcome = Outcome.BOOKED if item.pending else Outcome.LINKED
            return self._entry_result(item, decision.entry, outcome), None
        if decision.will in {"skip", "fail"}:
            outcome = Outcome.SKIPPED if decision.will == "skip" else Outcome.FAILED
            return _problem_result(item, outcome, decision.problems), None
        assert decision.booking is not None
        if item.credit_note in self.stopped:
            return self._stopped_result(item), None
        if item.pending:
            # Posted by a run that died before it heard back: look first.
            found = self.exact.find_entries(
                self.side, item.number, decision.booking.journal
            )
            if found:
                return self._entry_result(item, found[0], Outcome.BOOKED), None
        return None, decision.booking

    def _with_parties(
        self, to_post: list[tuple[ExportItem, Booking]], results: list[DocumentResult]
    ) -> list[tuple[ExportItem, Booking]]:
        ready = []
        for item, booking in to_post:
            if not booking.create_party:
                ready.append((item, booking))
                continue
            code = booking.party_code.strip()
            guid = self.created.get(code)
            if guid is None:
                try:
                    guid = self.exact.create_party(self.side, code, item.party)
                except ExactRefused as refused:
                    self._done(results, self._refused(item, refused, "party"))
                    continue
                except OutcomeLost:
                    self._done(
                        results,
                        _problem_result(
                            item,
                            Outcome.FAILED,
                            (
                                BookingProblem(
                                    "exact_no_answer",
                                    f"Exact did not answer when ledgerbridge created "
                                    f"{item.party.name} ({code}); the next run "
                                    "checks and carries on.",
                                    "exact",
                                ),
                            ),
                        ),
                    )
                    continue
                self.created[code] = guid
            ready.append((item, booking.with_party(guid)))
        return ready

    def _post(self, item: ExportItem, booking: Booking) -> DocumentResult:
        if item.credit_note in self.stopped:
            return self._stopped_result(item)
        document = item.exact_document_id
        try:
            if document is None and self.settings.attach_pdf and item.has_pdf:
                pdf = self.store.pdf(item.document_id)
                if pdf is not None:
                    document = self.exact.attach_pdf(booking, *pdf)
            for _attempt in range(POST_ATTEMPTS):
                try:
                    entry = self.exact.post_entry(booking, document)
                except OutcomeLost:
                    found = self.exact.find_entries(
                        self.side, booking.your_ref, booking.journal
                    )
                    if found:
                        entry = found[0]
                    else:
                        continue  # settled as not posted: safe to send again
                result = self._entry_result(item, entry, Outcome.BOOKED)
                return replace(result, exact_document_id=document)
        except ExactRefused as refused:
            result = self._refused(item, refused, "entry")
            return replace(result, exact_document_id=document)
        except OutcomeLost:
            # Only attaching the PDF gets here (the POST settles its own):
            # the entry was not sent, so the next run may send it.
            return _problem_result(
                item,
                Outcome.FAILED,
                (
                    BookingProblem(
                        "exact_no_answer",
                        f"Exact did not answer when ledgerbridge attached the PDF "
                        f"of {item.number}; the entry was not sent. The next run "
                        "sends it with its PDF.",
                        "exact",
                    ),
                ),
            )
        except StopRun as stop:
            # Whatever happened to this one is settled by the next run.
            self.store.record(
                self.run.id,
                [
                    _problem_result(
                        item,
                        Outcome.FAILED,
                        (BookingProblem("run_stopped", stop.sentence, "exact"),),
                        still_pending=True,
                        exact_document_id=document,
                    )
                ],
            )
            raise
        return _problem_result(
            item,
            Outcome.FAILED,
            (
                BookingProblem(
                    "exact_no_answer",
                    f"Exact did not answer {POST_ATTEMPTS} times when ledgerbridge "
                    f"sent {item.number}; it is not in Exact now. The next run "
                    "checks again before sending it.",
                    "exact",
                ),
            ),
            still_pending=True,
            exact_document_id=document,
        )

    def _refused(
        self, item: ExportItem, refused: ExactRefused, what: str
    ) -> DocumentResult:
        tab = (
            "Financial settings > Accounting settings > "
            f"{'Customer' if self.side is Side.SALES else 'Supplier'} invoice tab"
        )
        kind = refused.kind if refused.kind in EXACT_KIND_SENTENCES else "other"
        sentence = EXACT_KIND_SENTENCES[kind].format(tab=tab)
        label = "credit note" if item.credit_note else "invoice"
        if what == "party":
            sentence = (
                f"Exact refused to create {item.party.name}: check its details in "
                "the business application"
            )
        key = (item.credit_note, kind, refused.message)
        self.refusals[key] += 1
        if (
            self.refusals[key] >= self.stop_after
            and item.credit_note not in self.stopped
        ):
            self.stopped[item.credit_note] = (
                f"Exact refused {self.refusals[key]} {label}s with the same message "
                f"({refused.message!r}); ledgerbridge stopped sending {label}s in "
                "this run so that Exact does not block the app (it does after 10 "
                "errors an hour). Fix the cause and run the export again."
            )
        result = _problem_result(
            item,
            Outcome.FAILED,
            (
                BookingProblem(
                    f"exact_{kind}",
                    f"{sentence[0].upper()}{sentence[1:]}.",
                    tab,
                ),
            ),
        )
        return replace(result, exact_message=refused.message)

    def _stopped_result(self, item: ExportItem) -> DocumentResult:
        return _problem_result(
            item,
            Outcome.SKIPPED,
            (
                BookingProblem(
                    "stopped_after_repeated_errors",
                    self.stopped[item.credit_note],
                    "exact",
                ),
            ),
        )

    def _entry_result(
        self, item: ExportItem, entry: BookedEntry, outcome: Outcome
    ) -> DocumentResult:
        return DocumentResult(
            document_id=item.document_id,
            number=item.number,
            outcome=outcome,
            entry_number=entry.entry_number,
            entry_id=entry.entry_id,
            journal=entry.journal,
            fingerprint=item.fingerprint,
        )

    def _done(self, results: list[DocumentResult], result: DocumentResult) -> None:
        results.append(result)
        self.done += 1
        if result.outcome is Outcome.FAILED:
            self.failed += 1
        left = max(self.total - self.done, 0)
        self.progress.advance(result, self.exact.seconds_for(left))


def _switched_off(store: Store, run: RunInfo, side: Side) -> RunInfo:
    """The flow was switched off after the run was queued: every document it
    would have looked at is skipped, and nothing is sent."""
    sentence = (
        f"Not sent: the {run.flow.label} was switched off before the run started "
        f"(tick 'Accountancy export' on Financial settings > Accounting settings "
        f"> {'Customer' if side is Side.SALES else 'Supplier'} invoice tab)."
    )
    problem = BookingProblem("flow_switched_off", sentence, "settings")
    for items in store.export_items(
        run.company_ref, side, run.first, run.last, run.documents
    ):
        store.record(
            run.id,
            [_problem_result(item, Outcome.SKIPPED, (problem,)) for item in items],
        )
    return store.finish_run(run.id, RunStatus.STOPPED, sentence, 0)


def _problem_result(
    item: ExportItem,
    outcome: Outcome,
    problems: Sequence[BookingProblem],
    *,
    still_pending: bool = False,
    exact_document_id: str | None = None,
) -> DocumentResult:
    first = problems[0] if problems else None
    return DocumentResult(
        document_id=item.document_id,
        number=item.number,
        outcome=outcome,
        reason_code=first.code if first else None,
        reason=" ".join(problem.sentence for problem in problems) or None,
        still_pending=still_pending,
        exact_document_id=exact_document_id,
    )


def _side(flow: Flow) -> Side:
    side = flow.side
    if side is None:
        raise NotAnExport(flow)
    return side
