"""Property: whatever invoices the application sends, what Exact books
equals them to the cent, line by line and in total."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledgerbridge import intake
from ledgerbridge.domain.documents import Document, DocumentType, Line, Side
from ledgerbridge.storage import repositories as repo
from ledgerbridge.storage.tables import PartyRow
from ledgerbridge.sync.model import Flow
from tests.sync.conftest import BE, Env

SCENARIOS = ["BE-21", "BE-06", "BE-06-RENOVATION", "BE-00-INTRA-EU", "BE-00-EXPORT"]
LINE = st.tuples(
    st.sampled_from(SCENARIOS),
    st.integers(min_value=1, max_value=10**6),  # quantity, ten-thousandths
    st.integers(min_value=0, max_value=10**8),  # unit price, ten-thousandths
    st.integers(min_value=0, max_value=100_00),  # discount, hundredths of a %
)
INVOICE = st.tuples(
    st.sampled_from(DocumentType), st.lists(LINE, min_size=1, max_size=6)
)
numbers = itertools.count(1)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=st.lists(INVOICE, min_size=20, max_size=40))
def test_booked_entries_equal_generated_invoices_to_the_cent(
    env: Env, drawn: list[tuple[DocumentType, list[tuple[str, int, int, int]]]]
) -> None:
    env.accept_terms()
    _first, last = env.period()
    with env.database.sessions.begin() as session:
        company = repo.get_company(session, BE)
        assert company is not None
        party = session.scalar(
            select(PartyRow).where(
                PartyRow.company_id == company.id,
                PartyRow.role == intake.CUSTOMER,
                PartyRow.exact_code.is_not(None),
            )
        )
        assert party is not None
        stored = []
        for kind, lines in drawn:
            number = f"P-{next(numbers):06d}"
            document = Document(
                side=Side.SALES,
                type=kind,
                number=number,
                party_ref=party.ref,
                issue_date=last,
                currency="EUR",
                validated=True,
                lines=tuple(
                    Line(
                        description=f"line {index}",
                        quantity=Decimal(quantity).scaleb(-4),
                        unit_price=Decimal(price).scaleb(-4),
                        vat_scenario=scenario,
                        discount_percent=Decimal(discount).scaleb(-2),
                    )
                    for index, (scenario, quantity, price, discount) in enumerate(lines)
                ),
            )
            intake.upsert_document(session, company, f"prop-{number}", document, None)
            stored.append(document)

    run = env.run(Flow.CUSTOMER_INVOICES, first=last, last=last)

    entries = {entry["YourRef"]: entry for entry in env.entries()}
    assert run.counts.failed == 0, env.runner.results(run.id)
    for document in stored:
        entry = entries[document.number]
        amounts = document.amounts()
        sign = document.sign
        assert _money(entry["AmountFC"]) == sign * amounts.total
        assert _money(entry["VATAmountFC"]) == sign * amounts.vat_total
        lines = entry["SalesEntryLines"]
        assert [_money(line["AmountFC"]) for line in lines] == [
            sign * net for net in amounts.line_nets
        ]
        assert [_money(line["VATAmountFC"]) for line in lines] == [
            sign * vat for vat in amounts.line_vats
        ]


def _money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))
