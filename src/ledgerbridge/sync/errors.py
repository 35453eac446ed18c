"""The sync engine's error tree.

```
SyncError                  refused before anything was sent; `str()` is a
 │                         sentence for the user saying what to do
 ├── UnknownCompany
 ├── UnknownRun
 ├── FlowDisabled          *Accountancy export* / *Payments Import* unticked
 ├── TermsNotAccepted      the company has not accepted the current terms
 ├── RunInProgress         the company already runs something: `run_id`
 ├── BadPeriod             first day after last day
 ├── NotAnExport           a preview asked of the payments import
 └── TermsChanged          accepting a version that is no longer current
GatewayError               raised by an `ExactGateway`, caught by the use cases
 ├── ExactRefused          Exact refused this one document: `kind`, `message`
 ├── OutcomeLost           a write whose outcome is unknown
 └── StopRun               nothing more can be sent in this run: `sentence`
      ├── SignInNeeded
      ├── LimitReached     the day's calls are used up (or the reserve)
      ├── ExactBlocked     our guard against Exact's 10 errors an hour
      └── ExactUnavailable Exact does not answer
```
"""

from __future__ import annotations

from ledgerbridge.sync.model import Flow


class SyncError(Exception):
    """A request the sync engine refuses; the message says what to do."""


class UnknownCompany(SyncError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"No company has the reference {ref!r}.")


class UnknownRun(SyncError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"There is no run {run_id}.")


class FlowDisabled(SyncError):
    def __init__(self, company_ref: str, flow: Flow) -> None:
        self.flow = flow
        super().__init__(
            f"The {flow.label} is switched off for company {company_ref}: tick "
            f"{_SWITCH[flow]} to switch it on."
        )


_SWITCH = {
    Flow.CUSTOMER_INVOICES: "'Accountancy export' on Financial settings > "
    "Accounting settings > Customer invoice tab",
    Flow.SUPPLIER_INVOICES: "'Accountancy export' on Financial settings > "
    "Accounting settings > Supplier invoice tab",
    Flow.PAYMENTS: "'Payments Import' on Financial settings > Accounting "
    "settings > Payments tab",
}


class TermsNotAccepted(SyncError):
    def __init__(self, company_ref: str, version: str, *, renewed: bool) -> None:
        self.version = version
        what = "new terms and conditions" if renewed else "terms and conditions"
        super().__init__(
            f"Company {company_ref} has not accepted the {what} (version "
            f"{version}) yet; nothing is sent to Exact Online until it does: "
            f"read them and run 'ledgerbridge terms accept --company {company_ref}' "
            "or accept them on the first sync in the web application."
        )


class RunInProgress(SyncError):
    def __init__(self, company_ref: str, run_id: int, flow: Flow, status: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"Company {company_ref} already has a run {status}: run {run_id} "
            f"({flow.label}). Wait for it to finish; 'ledgerbridge runs show "
            f"{run_id}' follows it."
        )


class BadPeriod(SyncError):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class NotAnExport(SyncError):
    def __init__(self, flow: Flow) -> None:
        super().__init__(
            f"The {flow.label} exports nothing, so it has no preview: preview the "
            "customer or supplier invoice export."
        )


class TermsChanged(SyncError):
    def __init__(self, accepted: str, current: str) -> None:
        self.version = current
        super().__init__(
            f"The terms changed while they were being read (version {accepted} "
            f"is now {current}): read the new terms and accept them again."
        )


class GatewayError(Exception):
    """What an `ExactGateway` raises."""


class ExactRefused(GatewayError):
    """Exact refused the document: a business rule (a 4xx or its 500 with an
    error message). `kind` classifies it (`exact.errors.ValidationKind`)."""

    def __init__(self, message: str, kind: str = "other") -> None:
        self.message = message
        self.kind = kind
        super().__init__(message)


class OutcomeLost(GatewayError):
    """The answer to a write was lost: it may or may not have been done."""


class StopRun(GatewayError):
    """Nothing more can be sent in this run."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        super().__init__(sentence)


class SignInNeeded(StopRun):
    pass


class LimitReached(StopRun):
    pass


class ExactBlocked(StopRun):
    pass


class ExactUnavailable(StopRun):
    pass
