"""The terms and conditions a company accepts before anything is sent.

The operator writes the text (a file named by `LEDGERBRIDGE_TERMS_FILE`);
without one, `DEFAULT_TERMS` says plainly what goes to Exact and why. The
version is a hash of the text, so any new wording asks again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DEFAULT_TERMS = """\
Terms for sending your bookkeeping to Exact Online

When you switch on the export or the payments import, ledgerbridge sends to
the Exact Online administration you connected:

- your customer and supplier invoices and credit notes: number, dates,
  amounts, VAT, description and, when you ask for it, the invoice PDF;
- the customers and suppliers on them: name, VAT number, address and country,
  when they must be created in Exact;

and reads back from Exact the payments made on those invoices.

It does so only for the companies, periods and flows you switch on, to book
your invoices once in your accounts and to show you what has been paid. Exact
Online keeps what it receives under its own terms with you. The connection
can be removed at any time in Financial settings > Accounting settings;
nothing is sent after that.
"""


@dataclass(frozen=True, slots=True)
class Terms:
    text: str

    @property
    def version(self) -> str:
        digest = hashlib.sha256(self.text.strip().encode("utf-8")).hexdigest()
        return digest[:12]


def default_terms() -> Terms:
    return Terms(DEFAULT_TERMS)
