"""*Dashboard*: the figures in the charts and their tables equal the counts of
the runs the real runner made against the sandbox (both databases); and the
page in a real Chromium at desktop and tablet width."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from ledgerbridge.storage.tables import CompanyRow, DocumentRow, ExactConnectionRow
from ledgerbridge.sync.model import Flow, RunRequest, Trigger
from ledgerbridge.web.pages.dashboard import nice_top
from tests.sync.conftest import BE, NL, Env, env  # noqa: F401 - the fixture
from tests.web.conftest import (
    BOOKKEEPER,
    DESKTOP,
    TABLET,
    Screens,
    add_users,
    client_sign_in,
    sign_in,
    web_app,
)
from tests.web.site import Site


@pytest.fixture
def bob(env: Env) -> Iterator[TestClient]:  # noqa: F811 - uses the imported fixture
    add_users(env.database)
    app = web_app(env.database)
    app.state.runner = env.runner
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    yield client_sign_in(client, BOOKKEEPER)
    client.__exit__(None, None, None)


def total(html: str, name: str) -> int:
    found = re.search(rf'data-total="{name}">(\d+)<', html)
    assert found is not None, name
    return int(found.group(1))


def today_row(html: str, chart: str, day: str) -> list[int]:
    table = html[html.index(f'id="{chart}-table"') :].split("</table>")[0]
    row = table[table.index(f'<th scope="row">{day}</th>') :].split("</tr>")[0]
    return [int(value) for value in re.findall(r'<td class="num">(\d+)</td>', row)]


def test_dashboard_figures_equal_the_counts_of_the_runs(
    env: Env,  # noqa: F811
    bob: TestClient,
) -> None:
    env.accept_terms()
    sales = env.run(Flow.CUSTOMER_INVOICES)
    purchases = env.run(Flow.SUPPLIER_INVOICES)
    with env.database.sessions() as session:
        paid = session.scalars(
            select(DocumentRow)
            .join(CompanyRow)
            .where(
                CompanyRow.ref == BE,
                DocumentRow.booking_status == "booked",
                DocumentRow.side == "sales",
            )
            .limit(2)
        ).all()
    for invoice in paid:
        env.pay(str(invoice.booking_entry_id), str(invoice.total))
    payments = env.run(Flow.PAYMENTS)
    runs = (sales, purchases, payments)
    assert payments.counts.payments == 2

    html = bob.get(f"/dashboard?company={BE}").text

    booked = sum(run.counts.booked for run in runs)
    failed = sum(run.counts.failed for run in runs)
    calls = sum(run.exact_calls for run in runs)
    assert booked > 20 and failed > 0 and calls > 0
    assert total(html, "documents-booked") == booked
    assert total(html, "documents-failed") == failed
    assert total(html, "payments-payments") == 2
    assert total(html, "calls-calls") == calls
    day = str(sales.created_at.astimezone(ZoneInfo("Europe/Brussels")).date())
    assert today_row(html, "documents", day) == [booked, failed]
    assert today_row(html, "payments", day) == [2]
    assert today_row(html, "calls", day) == [calls]
    assert f"{booked} booked in all, {failed} failed in all" in html  # the SVG's desc

    with env.database.sessions() as session:
        connection = session.scalar(
            select(ExactConnectionRow)
            .join(CompanyRow, CompanyRow.id == ExactConnectionRow.company_id)
            .where(CompanyRow.ref == BE)
        )
        assert connection is not None and connection.daily_limit
        used = connection.daily_limit - (connection.daily_remaining or 0)
    assert f'data-figure="used">{used}<' in html
    assert f'data-figure="limit">{connection.daily_limit}<' in html
    assert "Exact reports only the current day's figure" in html


def test_dashboard_before_any_run_says_so(env: Env, bob: TestClient) -> None:  # noqa: F811
    html = bob.get(f"/dashboard?company={BE}").text

    assert total(html, "documents-booked") == 0
    assert "Exact has not reported this company's limits yet" in html
    assert html.count("<rect x=") == 0  # no bars, no gauge


def test_dashboard_of_another_company_is_not_found(
    env: Env,  # noqa: F811
    bob: TestClient,
) -> None:
    env.accept_terms(NL)
    env.run(Flow.CUSTOMER_INVOICES, NL)

    answer = bob.get(f"/dashboard?company={NL}")

    assert answer.status_code == 404
    assert "data-total" not in answer.text


def test_nice_top_rounds_the_scale_up() -> None:
    assert [nice_top(v) for v in (0, 1, 3, 7, 12, 99, 101, 4999)] == [
        1,
        1,
        5,
        10,
        20,
        100,
        200,
        5000,
    ]


def test_dashboard_in_the_browser(site: Site, browser: Browser, shoot: Screens) -> None:
    site.runner.accept_terms(BE, "tests")
    today = site.sandbox.clock.now().date()
    run = site.runner.run(
        RunRequest(
            BE,
            Flow.CUSTOMER_INVOICES,
            today - timedelta(days=200),
            today,
            Trigger.MANUAL,
            "tests",
        )
    )
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, BOOKKEEPER)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Dashboard"
    ).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    chart = page.get_by_role("img", name=re.compile("Documents booked and failed"))
    expect(chart).to_be_visible()
    legend = page.locator('[data-total="documents-booked"]')
    expect(legend).to_have_text(str(run.counts.booked))
    expect(page.get_by_role("img", name=re.compile("daily limit"))).to_be_visible()
    shoot(page, "dashboard")

    page.get_by_text("Documents booked and failed per day: the figures").click()
    expect(
        page.get_by_role("table", name="Documents booked and failed per day")
    ).to_be_visible()
    page.set_viewport_size(TABLET)
    box = chart.bounding_box()
    assert box is not None and box["width"] <= TABLET["width"]
    shoot(page, "dashboard tablet")
    context.close()
