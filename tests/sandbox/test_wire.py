"""Envelopes, paging, query options and value formats (API.md §6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tests.sandbox.conftest import BE, NL, Signed, customer, error_of, sales_entry


def accounts(exact: Signed, count: int) -> list[str]:
    """`count` customers, with room in the rate limit to make them."""
    exact.http.put(
        f"/_sandbox/divisions/{BE}/limits", json={"minutely": 10_000, "daily": 50_000}
    )
    return [customer(exact, BE, str(2000 + n)) for n in range(count)]


def test_collection_pages_by_60_with_an_absolute_next(exact: Signed) -> None:
    made = set(accounts(exact, 130))

    first = exact.get(
        f"{BE}/crm/Accounts", **{"$select": "ID,Code", "$filter": "Status eq 'C'"}
    ).json()["d"]
    seen = [row["ID"] for row in first["results"]]
    next_url = first["__next"]
    pages = 1
    while next_url:
        parts = urlsplit(next_url)
        assert parts.scheme == "http" and parts.netloc == "sandbox.test"
        assert "$skiptoken=guid'" in next_url
        page = exact.call("GET", next_url.split("/api/v1/", 1)[1]).json()["d"]
        seen += [row["ID"] for row in page["results"]]
        next_url = page.get("__next")
        pages += 1

    assert len(first["results"]) == 60
    assert pages == 3
    assert len(seen) == len(set(seen)) == 130
    assert set(seen) == made


def test_bulk_pages_by_1000_and_needs_select(exact: Signed) -> None:
    accounts(exact, 70)

    page = exact.get(f"{BE}/bulk/CRM/Accounts", **{"$select": "ID"}).json()["d"]
    unselected = exact.get(f"{BE}/bulk/CRM/Accounts")

    assert len(page["results"]) == 70
    assert "__next" not in page
    assert unselected.status_code == 400


def test_small_top_without_select_is_a_bare_array(exact: Signed) -> None:
    bare = exact.get(f"{BE}/vat/VATCodes", **{"$top": "5"}).json()
    wrapped = exact.get(f"{BE}/vat/VATCodes", **{"$top": "5", "$select": "Code"}).json()

    assert isinstance(bare["d"], list) and len(bare["d"]) == 5
    assert len(wrapped["d"]["results"]) == 5


def test_single_entity_and_post_envelopes(exact: Signed) -> None:
    posted = exact.post(f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE))
    entry = posted.json()["d"]
    url = f"{BE}/salesentry/SalesEntries(guid'{entry['EntryID']}')"

    single = exact.get(url).json()

    assert posted.status_code == 201
    assert entry["__metadata"] == {
        "uri": f"http://sandbox.test/api/v1/{url}",
        "type": "Exact.Web.Api.Models.SalesEntry",
    }
    assert single["d"]["EntryID"] == entry["EntryID"]
    assert single["d"]["SalesEntryLines"] == {
        "__deferred": {"uri": f"http://sandbox.test/api/v1/{url}/SalesEntryLines"}
    }


def test_expand_brings_the_lines_inline(exact: Signed) -> None:
    entry = exact.post(f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE)).json()
    entry_id = entry["d"]["EntryID"]

    rows = exact.get(
        f"{BE}/salesentry/SalesEntries",
        **{
            "$select": "EntryID,SalesEntryLines/AmountFC",
            "$expand": "SalesEntryLines",
            "$filter": f"EntryID eq guid'{entry_id}'",
        },
    ).json()["d"]["results"]

    lines = rows[0]["SalesEntryLines"]["results"]
    assert [line["AmountFC"] for line in lines] == [100.0, 25.5]
    assert set(lines[0]) == {"__metadata", "AmountFC"}


def test_inlinecount_and_count(exact: Signed) -> None:
    accounts(exact, 3)

    counted = exact.get(
        f"{BE}/crm/Accounts",
        **{"$select": "ID", "$filter": "Status eq 'C'", "$inlinecount": "allpages"},
    ).json()["d"]
    bare = exact.call(
        "GET", f"{BE}/crm/Accounts/$count", params={"$filter": "Status eq 'C'"}
    )

    assert counted["__count"] == "3"
    assert bare.text == "3"


def test_filters_with_exacts_literals(exact: Signed) -> None:
    customer(exact, BE, "10", Name="O'Brien & Zn")
    customer(exact, BE, "11", Name="Peeters")

    def names(expression: str) -> list[str]:
        rows = exact.get(
            f"{BE}/crm/Accounts", **{"$select": "Name", "$filter": expression}
        ).json()["d"]["results"]
        return sorted(row["Name"] for row in rows)

    assert names("Name eq 'O''Brien & Zn'") == ["O'Brien & Zn"]
    assert names("substringof('eet', Name) eq true") == ["Peeters"]
    assert names("startswith(Name, 'O') or Name eq 'Peeters'") == [
        "O'Brien & Zn",
        "Peeters",
    ]
    assert names("not (Status eq 'C')") == []
    assert names("Created ge datetime'2000-01-01T00:00:00'") == [
        "O'Brien & Zn",
        "Peeters",
    ]


def test_query_errors_are_400_with_exacts_text(exact: Signed) -> None:
    syntax = exact.get(f"{BE}/crm/Accounts", **{"$filter": "Name eq"})
    unknown = exact.get(f"{BE}/crm/Accounts", **{"$filter": "Colour eq 'red'"})
    unfiltered = exact.get(f"{BE}/crm/Accounts", **{"$select": "ID"})
    unrestricted = exact.get(f"{BE}/salesentry/SalesEntries")
    guid = exact.get(f"{BE}/crm/Accounts", **{"$filter": "ID eq guid'dsadsds'"})

    assert {r.status_code for r in (syntax, unknown, unfiltered, unrestricted)} == {400}
    assert error_of(syntax) == "Bad Request - Error in query syntax."
    assert error_of(unfiltered).startswith(
        "This endpoint has mandatory filtering applied."
    )
    assert error_of(unrestricted) == (
        "Please add a $select or a $top=1 statement to the query string."
    )
    assert error_of(guid).startswith("Unrecognized 'Edm.Guid' literal")
    assert "\r\n" in guid.text


def test_dates_are_local_wall_clock_written_as_utc(exact: Signed) -> None:
    entry = exact.post(f"{BE}/salesentry/SalesEntries", sales_entry(exact, BE)).json()
    created_ms = int(entry["d"]["Created"][6:-2])
    local = exact.sandbox.divisions[BE].local_now(exact.sandbox.clock)

    created = datetime.utcfromtimestamp(created_ms / 1000)  # noqa: DTZ004
    assert abs((created - local).total_seconds()) < 5
    assert entry["d"]["EntryDate"] == "/Date(1794614400000)/"  # 2026-11-14


def test_without_accept_json_the_answer_is_atom(exact: Signed) -> None:
    response = exact.call(
        "GET", f"{NL}/vat/VATCodes", headers={"Accept": "application/xml"}
    )

    assert response.headers["content-type"].startswith("application/atom+xml")


def test_me_answers_in_the_results_form(exact: Signed) -> None:
    me = exact.get("current/Me").json()["d"]["results"]

    assert me[0]["CurrentDivision"] == BE
    assert me[0]["LanguageCode"] == "nl-NL"
    assert me[0]["__metadata"]["type"] == "Exact.Web.Api.Models.Me"


def test_system_divisions_lists_the_granted_ones(exact: Signed) -> None:
    rows: list[dict[str, Any]] = exact.get(
        f"{BE}/system/Divisions", **{"$select": "Code,Description"}
    ).json()["d"]["results"]

    assert sorted(row["Code"] for row in rows) == [BE, NL]


def test_top_above_the_page_size_continues_with_what_is_left(exact: Signed) -> None:
    accounts(exact, 130)

    first = exact.get(
        f"{BE}/crm/Accounts",
        **{"$select": "ID", "$filter": "Status eq 'C'", "$top": "100"},
    ).json()["d"]
    rest = exact.call("GET", first["__next"].split("/api/v1/", 1)[1]).json()["d"]

    assert len(first["results"]) == 60
    assert "$top=40" in first["__next"]
    assert len(rest["results"]) == 40
    assert "__next" not in rest
