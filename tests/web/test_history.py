"""*History*: runs made by the real runner against the sandbox, read and acted
on through the pages (both databases); and the flow in a real Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select, update

from ledgerbridge.jobs.queue import EmbeddedQueue
from ledgerbridge.queries import history
from ledgerbridge.storage.tables import PartyRow, RunDocumentRow
from ledgerbridge.sync.model import Flow, Outcome, RunRequest, RunStatus, Trigger
from tests.sync.conftest import BE, NL, Env, env  # noqa: F401 - the fixture
from tests.web.conftest import (
    BOOKKEEPER,
    DESKTOP,
    TABLET,
    VIEWER,
    Screens,
    add_users,
    client_sign_in,
    form_token,
    sign_in,
    web_app,
)
from tests.web.site import Site

MISSING = "missing_customer_code"


@pytest.fixture
def web(env: Env) -> Iterator[Env]:  # noqa: F811 - uses the imported fixture
    add_users(env.database)
    yield env


def client_for(world: Env, username: str) -> TestClient:
    app = web_app(world.database)
    app.state.runner = world.runner
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    return client_sign_in(client, username)


@pytest.fixture
def bob(web: Env) -> Iterator[TestClient]:
    client = client_for(web, BOOKKEEPER)
    yield client
    client.__exit__(None, None, None)


@pytest.fixture
def vera(web: Env) -> Iterator[TestClient]:
    client = client_for(web, VIEWER)
    yield client
    client.__exit__(None, None, None)


def export(world: Env, company: str = BE, flow: Flow = Flow.CUSTOMER_INVOICES):  # type: ignore[no-untyped-def]
    world.accept_terms(company)
    return world.run(flow, company)


def missing_code_problem(world: Env, run_id: int):  # type: ignore[no-untyped-def]
    return next(
        result
        for result in world.runner.results(run_id)
        if result.reason_code == MISSING and "c-1013" in (result.reason or "")
    )


def outcome_id(world: Env, run_id: int, number: str) -> int:
    with world.database.sessions() as session:
        found = session.scalar(
            select(RunDocumentRow.id).where(
                RunDocumentRow.run_id == run_id, RunDocumentRow.number == number
            )
        )
    assert found is not None
    return found


def open_problems_section(html: str) -> str:
    start = html.index('id="problems-title"')
    return html[start : html.index('id="runs-title"')]


def set_party_code(world: Env, ref: str, code: str) -> None:
    with world.database.sessions.begin() as session:
        session.execute(
            update(PartyRow).where(PartyRow.ref == ref).values(exact_code=code)
        )


def test_history_lists_the_runs_newest_first(web: Env, bob: TestClient) -> None:
    sales = export(web)
    payments = web.run(Flow.PAYMENTS)

    page = bob.get(f"/history?company={BE}")

    assert page.status_code == 200
    html = page.text
    assert html.index(f"Open run {payments.id}") < html.index(f"Open run {sales.id}")
    assert "Customer invoice export" in html and "Payments import" in html
    row = html[html.index(f"Open run {sales.id}") :].split("</tr>")[0]
    assert f'<td class="num">{sales.counts.booked}</td>' in row
    assert f'<td class="num">{sales.counts.failed}</td>' in row
    assert "partial" in row and "tests" in row


def test_history_pages_the_runs(
    web: Env, bob: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "RUNS_PER_PAGE", 1)
    older = export(web)
    newer = web.run(Flow.PAYMENTS)

    first = bob.get(f"/history?company={BE}").text
    second = bob.get(f"/history?company={BE}&page=2").text

    assert f"Open run {newer.id}" in first and f"Open run {older.id}" not in first
    assert "Page 1 of 2" in first and "Older runs" in first
    assert f"Open run {older.id}" in second and f"Open run {newer.id}" not in second
    assert "Page 2 of 2" in second and "Newer runs" in second


def test_a_failed_document_shows_its_sentence_and_where_to_fix_it(
    web: Env, bob: TestClient
) -> None:
    run = export(web)
    failed = missing_code_problem(web, run.id)
    results = web.runner.results(run.id)

    problems = open_problems_section(bob.get(f"/history?company={BE}").text)
    detail = bob.get(f"/history/runs/{run.id}").text

    party = web.document(failed.number).party_id
    unmapped = next(r for r in results if r.reason_code == "vat_scenario_unmapped")
    for html in (problems, detail):
        assert failed.number in html
        assert "has no code in Exact" in html
        assert (
            f'href="/leads-prospect/contacts/{party}?company={BE}&amp;tab=settings"'
        ) in html
        assert unmapped.number in html and "has no Exact VAT code" in html
        assert (
            f'href="/financial-settings/accounting-settings?company={BE}'
            '#customer-invoice"'
        ) in html
    assert "Leads/Prospect &gt; Contact" in problems
    assert "Financial settings &gt; Accounting settings &gt; Customer invoice tab" in (
        problems
    )
    # The link leads to the contact's edit page, with its booking codes.
    contact = bob.get(f"/leads-prospect/contacts/{party}?company={BE}")
    assert contact.status_code == 200 and "Accountancy booking codes" in contact.text


def test_retry_after_fixing_books_the_document_in_exact(
    web: Env, bob: TestClient
) -> None:
    run = export(web)
    failed = missing_code_problem(web, run.id)
    set_party_code(web, "c-1013", "1013")
    page = bob.get(f"/history/runs/{run.id}").text
    problem = outcome_id(web, run.id, failed.number)

    answer = bob.post(
        f"/history/problems/{problem}/retry?company={BE}",
        data={"csrf_token": form_token(page)},
    )

    assert answer.status_code == 303
    retry_id = int(re.findall(r"/history/runs/(\d+)", answer.headers["location"])[0])
    retry = web.runner.store.run(retry_id)
    assert retry.status is RunStatus.SUCCEEDED
    assert retry.documents and retry.started_by == BOOKKEEPER
    [result] = web.runner.results(retry_id)
    assert (result.number, result.outcome) == (failed.number, Outcome.BOOKED)
    assert failed.number in {entry["YourRef"] for entry in web.entries()}
    shown = bob.get(answer.headers["location"]).text
    assert "booked" in shown and failed.number in shown
    assert failed.number not in open_problems_section(
        bob.get(f"/history?company={BE}").text
    )


def test_retry_goes_to_the_run_queue_when_the_app_has_one(
    web: Env, bob: TestClient
) -> None:
    run = export(web)
    failed = missing_code_problem(web, run.id)
    set_party_code(web, "c-1013", "1013")
    queue = EmbeddedQueue(web.runner)
    bob.app.state.run_queue = queue  # type: ignore[attr-defined]
    page = bob.get(f"/history?company={BE}").text

    answer = bob.post(
        f"/history/problems/{outcome_id(web, run.id, failed.number)}/retry"
        f"?company={BE}",
        data={"csrf_token": form_token(page)},
    )

    assert answer.status_code == 303
    assert queue.wait(timeout=60)
    queue.close()
    [retry] = [r for r in web.runner.store.runs(BE) if r.id != run.id]
    assert retry.status is RunStatus.SUCCEEDED and retry.counts.booked == 1
    assert failed.number in {entry["YourRef"] for entry in web.entries()}


def test_retry_while_another_run_goes_on_says_so(web: Env, bob: TestClient) -> None:
    run = export(web)
    failed = missing_code_problem(web, run.id)
    first, last = web.period()
    going = web.runner.start(
        RunRequest(BE, Flow.PAYMENTS, first, last, Trigger.MANUAL, "tests")
    )
    page = bob.get(f"/history?company={BE}").text

    answer = bob.post(
        f"/history/problems/{outcome_id(web, run.id, failed.number)}/retry"
        f"?company={BE}",
        data={"csrf_token": form_token(page)},
    )

    assert answer.status_code == 409
    assert f"run {going.id}" in answer.text and "Wait for it to finish" in answer.text


def test_mark_as_handled_leaves_the_open_problems_not_the_history(
    web: Env, bob: TestClient
) -> None:
    run = export(web)
    failed = missing_code_problem(web, run.id)
    problem = outcome_id(web, run.id, failed.number)
    page = bob.get(f"/history?company={BE}").text
    assert failed.number in open_problems_section(page)

    answer = bob.post(
        f"/history/problems/{problem}/handled?company={BE}",
        data={"csrf_token": form_token(page)},
    )

    assert answer.status_code == 303
    after = bob.get(answer.headers["location"]).text
    assert "Marked as handled" in after
    assert failed.number not in open_problems_section(after)
    detail = bob.get(f"/history/runs/{run.id}").text
    assert failed.number in detail
    assert f"Handled by {BOOKKEEPER}" in detail

    # The next run fails it for the same reason: it stays handled.
    again = web.run(Flow.CUSTOMER_INVOICES)
    assert again.counts.failed == run.counts.failed
    assert failed.number not in open_problems_section(
        bob.get(f"/history?company={BE}").text
    )


def test_a_viewer_reads_but_cannot_retry_mark_or_dismiss(
    web: Env, vera: TestClient
) -> None:
    run = export(web, NL)
    [failed, *_] = [
        r for r in web.runner.results(run.id) if r.outcome is Outcome.FAILED
    ]
    problem = outcome_id(web, run.id, failed.number)
    page = vera.get(f"/history?company={NL}").text
    assert failed.number in open_problems_section(page)
    assert "/handled?" not in page and "/retry?" not in page
    assert "<button" not in open_problems_section(page)
    token = form_token(page)

    for action in ("retry", "handled"):
        answer = vera.post(
            f"/history/problems/{problem}/{action}?company={NL}",
            data={"csrf_token": token},
        )
        assert answer.status_code == 403, action
        assert "bookkeeper" in answer.text
    with web.database.sessions() as session:
        assert session.get_one(RunDocumentRow, problem).handled_at is None
    assert [r.id for r in web.runner.store.runs(NL)] == [run.id]

    notice = web.runner.notice(NL, "run", "The daily run needs you.", run.id)
    page = vera.get(f"/history?company={NL}").text
    assert "The daily run needs you." in page and "/dismiss" not in page
    refused = vera.post(
        f"/history/notices/{notice.id}/dismiss?company={NL}", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    assert "The daily run needs you." in vera.get(f"/history?company={NL}").text


def test_a_bookkeeper_of_one_company_cannot_see_or_touch_anothers_runs(
    web: Env, bob: TestClient
) -> None:
    run = export(web, NL)
    [failed, *_] = [
        r for r in web.runner.results(run.id) if r.outcome is Outcome.FAILED
    ]
    problem = outcome_id(web, run.id, failed.number)
    token = form_token(bob.get(f"/history?company={BE}").text)

    assert bob.get(f"/history?company={NL}").status_code == 404
    hidden = bob.get(f"/history/runs/{run.id}")
    assert hidden.status_code == 404 and failed.number not in hidden.text
    for company in (BE, NL):
        answer = bob.post(
            f"/history/problems/{problem}/handled?company={company}",
            data={"csrf_token": token},
        )
        assert answer.status_code == 404
    with web.database.sessions() as session:
        assert session.get_one(RunDocumentRow, problem).handled_at is None


def test_a_change_without_the_csrf_token_is_refused(web: Env, bob: TestClient) -> None:
    run = export(web)
    failed = missing_code_problem(web, run.id)
    problem = outcome_id(web, run.id, failed.number)

    for data in ({}, {"csrf_token": "forged"}):
        answer = bob.post(
            f"/history/problems/{problem}/handled?company={BE}", data=data
        )
        assert answer.status_code == 403
        retried = bob.post(f"/history/problems/{problem}/retry?company={BE}", data=data)
        assert retried.status_code == 403

    with web.database.sessions() as session:
        assert session.get_one(RunDocumentRow, problem).handled_at is None
    assert [r.id for r in web.runner.store.runs(BE)] == [run.id]


def test_notices_of_failed_daily_runs_show_until_dismissed(
    web: Env, bob: TestClient
) -> None:
    web.accept_terms()
    first, last = web.period()
    daily = web.runner.run(
        RunRequest(BE, Flow.CUSTOMER_INVOICES, first, last, Trigger.DAILY, "daily")
    )
    assert daily.status is RunStatus.PARTIAL
    page = bob.get(f"/history?company={BE}").text
    assert "Notices of automatic runs" in page
    assert f"see run {daily.id}" in page
    notice = re.search(r"/history/notices/(\d+)/dismiss", page)
    assert notice is not None

    answer = bob.post(
        f"/history/notices/{notice.group(1)}/dismiss?company={BE}",
        data={"csrf_token": form_token(page)},
    )

    assert answer.status_code == 303
    after = bob.get(answer.headers["location"]).text
    assert "Notice dismissed" in after and f"see run {daily.id}" not in after


# In the browser


def test_history_flow_in_the_browser(
    site: Site, browser: Browser, shoot: Screens
) -> None:
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
    failed = next(
        r
        for r in site.runner.results(run.id)
        if r.reason_code == MISSING and "c-1013" in (r.reason or "")
    )
    context = browser.new_context(base_url=site.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, BOOKKEEPER)

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="History"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("History")
    expect(
        page.get_by_role("heading", name=re.compile("Open problems"))
    ).to_be_visible()
    shoot(page, "history")

    page.get_by_role("link", name=f"Open run {run.id}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Run {run.id}")
    shoot(page, "run")
    page.get_by_role("navigation", name="Show documents").get_by_role(
        "link", name=f"Failed ({run.counts.failed})"
    ).click()
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(
        run.counts.failed + 1
    )
    row = page.get_by_role("row").filter(has_text=failed.number)
    expect(row).to_contain_text("has no code in Exact")
    shoot(page, "run failed documents")

    row.get_by_role("link", name="Fix it on Leads/Prospect > Contact").click()
    expect(page).to_have_url(re.compile(r"/leads-prospect/contacts/\d+\?company="))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dirk Van den Broeck")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Run {run.id}")

    row = page.get_by_role("row").filter(has_text=failed.number)
    row.get_by_role("button", name=f"Mark {failed.number} as handled").click()
    expect(page.get_by_role("status")).to_contain_text("Marked as handled")
    expect(page.get_by_role("row").filter(has_text=failed.number)).to_contain_text(
        f"Handled by {BOOKKEEPER}"
    )
    shoot(page, "handled")

    page.set_viewport_size(TABLET)
    page.get_by_role("link", name="History", exact=True).first.click()
    problems = page.get_by_role("table", name="Open problems")
    expect(problems).not_to_contain_text(failed.number)
    shoot(page, "history tablet")
    context.close()
