"""What the runs, preview and terms routes accept and return.

A period travels as `from` and `to` (both days included), as on the export
dialogs; amounts are decimal strings, as everywhere in the API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge.sync.model import (
    DocumentResult,
    Preview,
    PreviewDocument,
    RunInfo,
)
from ledgerbridge.sync.terms import Terms
from ledgerbridge.web.api.schemas import ErrorOut, Input, text

FlowName = Literal["customer_invoices", "supplier_invoices", "payments"]
ExportFlowName = Literal["customer_invoices", "supplier_invoices"]
WILLS = ("book", "link", "skip", "fail")


class _Period(Input):
    first: date = Field(alias="from", description="First day of the period.")
    last: date = Field(alias="to", description="Last day of the period (included).")


class RunIn(_Period):
    flow: FlowName = Field(
        description="customer_invoices and supplier_invoices export to Exact; "
        "payments imports what was paid."
    )


class PreviewIn(_Period):
    flow: ExportFlowName


class TermsAcceptIn(Input):
    version: Annotated[str, text(64, 1)] = Field(
        description="The version of the terms the user read (from GET .../terms)."
    )
    accepted_by: Annotated[str, text(200, 1)] = Field(
        description="Who accepted them: a name or a user id of the application."
    )


class _Out(BaseModel):
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)


# Runs


class CountsOut(BaseModel):
    booked: int
    linked: int = Field(description="Found in Exact already and linked to it.")
    skipped: int = Field(description="Not validated yet, for example.")
    failed: int
    already_done: int = Field(description="Booked or linked before this run.")
    updated: int = Field(description="Payments import: documents whose state changed.")
    payments: int = Field(description="Payments import: new payments recorded.")


class RunOut(_Out):
    id: int
    company: str
    flow: FlowName
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    trigger: Literal["manual", "daily", "api"]
    started_by: str
    status: Literal[
        "queued", "running", "succeeded", "partial", "stopped", "interrupted"
    ] = Field(
        description="partial: finished, some documents failed; stopped: ended "
        "early (sign-in needed, daily limit, Exact down), see `message`."
    )
    message: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    counts: CountsOut
    exact_calls: int

    @classmethod
    def of(cls, run: RunInfo) -> RunOut:
        return cls(
            id=run.id,
            company=run.company_ref,
            flow=run.flow.value,
            first=run.first,
            last=run.last,
            trigger=run.trigger.value,
            started_by=run.started_by,
            status=run.status.value,
            message=run.message,
            created_at=run.created_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            counts=CountsOut(
                booked=run.counts.booked,
                linked=run.counts.linked,
                skipped=run.counts.skipped,
                failed=run.counts.failed,
                already_done=run.counts.already_done,
                updated=run.counts.updated,
                payments=run.counts.payments,
            ),
            exact_calls=run.exact_calls,
        )


class RunDocumentOut(BaseModel):
    number: str
    outcome: Literal["booked", "linked", "skipped", "failed", "updated"]
    entry_number: int | None = Field(description="The entry's number in Exact.")
    reason_code: str | None
    reason: str | None = Field(description="Why, and what to do, in plain words.")
    exact_message: str | None = Field(description="Exact's own message, if any.")

    @classmethod
    def of(cls, result: DocumentResult) -> RunDocumentOut:
        return cls(
            number=result.number,
            outcome=result.outcome.value,
            entry_number=result.entry_number,
            reason_code=result.reason_code,
            reason=result.reason,
            exact_message=result.exact_message,
        )


class RunDetailOut(RunOut):
    documents: list[RunDocumentOut]


class RunRefusedOut(ErrorOut):
    run_id: int | None = Field(
        default=None, description="409: the company's run that is still going."
    )
    terms_version: str | None = Field(
        default=None, description="terms_not_accepted: the version to accept."
    )


# Preview


class PreviewLineOut(BaseModel):
    gl_account: str
    vat_code: str
    description: str
    net: Decimal
    vat: Decimal


class PreviewProblemOut(BaseModel):
    code: str
    sentence: str
    where: str


class PreviewDocumentOut(BaseModel):
    number: str
    date: date
    party: str
    party_code: str | None
    journal: str | None
    total: Decimal
    currency: str
    will: Literal["book", "link", "skip", "fail", "done"]
    entry_number: int | None = Field(description="link: the entry found in Exact.")
    create_party: bool = Field(
        description="The customer or supplier is created in Exact first."
    )
    lines: list[PreviewLineOut]
    problems: list[PreviewProblemOut]

    @classmethod
    def of(cls, document: PreviewDocument) -> PreviewDocumentOut:
        return cls(
            number=document.number,
            date=document.issue_date,
            party=document.party,
            party_code=document.party_code,
            journal=document.journal,
            total=document.total,
            currency=document.currency,
            will=document.will,
            entry_number=document.entry_number,
            create_party=document.create_party,
            lines=[
                PreviewLineOut(
                    gl_account=line.gl_account,
                    vat_code=line.vat_code,
                    description=line.description,
                    net=line.net,
                    vat=line.vat,
                )
                for line in document.lines
            ],
            problems=[
                PreviewProblemOut(code=code, sentence=sentence, where=where)
                for code, sentence, where in document.problems
            ],
        )


class PreviewOut(_Out):
    company: str
    flow: ExportFlowName
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    counts: dict[str, int] = Field(
        description="How many documents the export would book, link, skip or fail."
    )
    documents: list[PreviewDocumentOut]

    @classmethod
    def of(cls, preview: Preview) -> PreviewOut:
        return cls(
            company=preview.company_ref,
            flow=preview.flow.value,
            first=preview.first,
            last=preview.last,
            counts={will: preview.count(will) for will in WILLS},
            documents=[PreviewDocumentOut.of(d) for d in preview.documents],
        )


# Terms


class TermsOut(BaseModel):
    version: str = Field(description="Send it back to accept these terms.")
    text: str
    accepted: bool = Field(description="The company accepted this version.")
    accepted_version: str | None = Field(description="The version it last accepted.")
    accepted_by: str | None
    accepted_at: datetime | None

    @classmethod
    def of(cls, terms: Terms, latest: tuple[str, str, datetime] | None) -> TermsOut:
        version, by, at = latest or (None, None, None)
        return cls(
            version=terms.version,
            text=terms.text,
            accepted=version == terms.version,
            accepted_version=version,
            accepted_by=by,
            accepted_at=at,
        )
