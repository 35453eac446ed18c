"""Client-side OData: literals, padded codes, values, envelopes and paging
(API.md §6.2-§6.5, §7.1)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.exact.odata import (
    PagingLoop,
    UnexpectedPayload,
    datetime_literal,
    guid,
    int64,
    pad_account_code,
    pages,
    parse_date,
    string,
    to_decimal,
    unpad,
    unwrap,
    unwrap_one,
)
from ledgerbridge.sandbox.odata import format_datetime, parse_filter

ENTRY_ID = "3c534e79-c4fe-44d2-9765-00b30573c2de"
BASE = "https://start.exactonline.nl/api/v1/1001/crm/Accounts"


def parse_string_literal(literal: str) -> str:
    """The reading side of OData's quoting, to check `string` against."""
    assert literal[0] == literal[-1] == "'"
    inner = literal[1:-1]
    assert "'" not in inner.replace("''", "")  # no lone quote ends it early
    return inner.replace("''", "'")


# guid


def test_guid_lower_case():
    assert guid(ENTRY_ID.upper()) == f"guid'{ENTRY_ID}'"


def test_guid_braces_dropped():
    assert guid("{" + ENTRY_ID + "}") == f"guid'{ENTRY_ID}'"


def test_guid_from_uuid():
    assert guid(uuid.UUID(ENTRY_ID)) == f"guid'{ENTRY_ID}'"


@pytest.mark.parametrize(
    "value", ["dsadsds", "", "3c534e79-c4fe-44d2-9765", "1' or '1"]
)
def test_guid_invalid_raises(value):
    with pytest.raises(ValueError, match="not a GUID"):
        guid(value)


def test_guid_not_text_raises():
    with pytest.raises(ValueError, match="not a GUID"):
        guid(123)  # type: ignore[arg-type]


# datetime_literal


def test_datetime_literal_date_is_midnight():
    assert datetime_literal(date(2024, 1, 1)) == "datetime'2024-01-01T00:00:00'"


def test_datetime_literal_naive_datetime():
    moment = datetime(2024, 8, 12, 16, 31, 5)  # noqa: DTZ001

    assert datetime_literal(moment) == "datetime'2024-08-12T16:31:05'"


def test_datetime_literal_sub_second_cut_to_milliseconds():
    moment = datetime(2024, 8, 12, 16, 31, 5, 220_999)  # noqa: DTZ001

    assert datetime_literal(moment) == "datetime'2024-08-12T16:31:05.220'"


@pytest.mark.parametrize("zone", [UTC, timezone(timedelta(hours=2))])
def test_datetime_literal_aware_refused(zone):
    with pytest.raises(ValueError, match="naive local"):
        datetime_literal(datetime(2024, 1, 1, tzinfo=zone))


# int64


@pytest.mark.parametrize(("n", "literal"), [(53402735, "53402735L"), (0, "0L")])
def test_int64_suffix_l(n, literal):
    assert int64(n) == literal


def test_int64_bool_refused():
    with pytest.raises(TypeError):
        int64(True)


@pytest.mark.parametrize("n", [2**63, -(2**63) - 1])
def test_int64_out_of_range_refused(n):
    with pytest.raises(ValueError, match="Int64"):
        int64(n)


# string


def test_string_quote_doubled():
    assert string("O'Brien") == "'O''Brien'"


def test_string_empty():
    assert string("") == "''"


@settings(max_examples=300)
@given(st.text())
def test_string_round_trip_any_text(text):
    assert parse_string_literal(string(text)) == text


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
def test_string_sandbox_filter_finds_exactly_that_text(text):
    expression = f"Name eq {string(text)}"

    matched = parse_filter(expression, {"Name": "Edm.String"})

    assert matched.matches({"Name": text})
    assert not matched.matches({"Name": text + "x"})


def test_literals_read_by_sandbox_filter():
    properties = {
        "ID": "Edm.Guid",
        "Code": "Edm.String",
        "EntryDate": "Edm.DateTime",
        "Timestamp": "Edm.Int64",
    }
    expression = (
        f"ID eq {guid(ENTRY_ID.upper())} and Code eq {string(pad_account_code('255'))}"
        f" and EntryDate ge {datetime_literal(date(2024, 8, 12))}"
        f" and Timestamp gt {int64(53402735)}"
    )
    record = {
        "ID": ENTRY_ID,
        "Code": " " * 15 + "255",
        "EntryDate": datetime(2024, 8, 12),  # noqa: DTZ001
        "Timestamp": 53402736,
    }

    assert parse_filter(expression, properties).matches(record)


# Padded codes


def test_pad_account_code_right_aligned_18():
    assert pad_account_code("255") == "               255"


def test_pad_account_code_18_characters_kept():
    assert pad_account_code("1" * 18) == "1" * 18


def test_pad_account_code_padded_unchanged():
    assert pad_account_code("           1265594") == "           1265594"


def test_pad_account_code_surrounding_spaces_dropped():
    assert pad_account_code(" 255 ") == "               255"


def test_pad_account_code_too_long_refused():
    with pytest.raises(ValueError, match="19 characters"):
        pad_account_code("1" * 19)


@pytest.mark.parametrize("code", ["", "   "])
def test_pad_account_code_empty_refused(code):
    with pytest.raises(ValueError, match="empty"):
        pad_account_code(code)


@pytest.mark.parametrize(
    ("padded", "bare"),
    [("               255", "255"), ("           0000002", "0000002"), ("VN ", "VN")],
)
def test_unpad_drops_padding(padded, bare):
    assert unpad(padded) == bare


CODES = st.text(min_size=1, max_size=18).filter(lambda c: c == c.strip() and c)


@settings(max_examples=300)
@given(CODES)
def test_pad_account_code_round_trip(code):
    padded = pad_account_code(code)

    assert len(padded) == 18
    assert padded.endswith(code)
    assert unpad(padded) == code
    assert pad_account_code(padded) == padded


# parse_date


def test_parse_date_api_md_example():
    assert parse_date("/Date(1723420800000)/") == datetime(2024, 8, 12)  # noqa: DTZ001


def test_parse_date_ms_and_iso_date_agree():
    assert parse_date("/Date(1723420800000)/") == parse_date("2024-08-12")


def test_parse_date_local_wall_clock_not_shifted():
    # Recorded: 16:31:00 "UTC" while the Date header said 14:31 GMT (§6.5).
    value = parse_date("/Date(1782405060220)/")

    assert value == datetime(2026, 6, 25, 16, 31, 0, 220_000)  # noqa: DTZ001
    assert value.tzinfo is None


def test_parse_date_negative_before_1970():
    assert parse_date("/Date(-86400000)/") == datetime(1969, 12, 31)  # noqa: DTZ001


@pytest.mark.parametrize(
    "text", ["2024-05-30T00:00:00Z", "2024-05-30T00:00:00", "2024-05-30T00:00:00+00:00"]
)
def test_parse_date_iso_utc_suffix_dropped(text):
    assert parse_date(text) == datetime(2024, 5, 30)  # noqa: DTZ001


def test_parse_date_server_time():
    local = datetime(2026, 6, 25, 16, 30, 59)  # noqa: DTZ001 - Exact's local time
    assert parse_date("2026-06-25T16:30:59") == local


@pytest.mark.parametrize("value", [None, "", "  "])
def test_parse_date_empty_none(value):
    assert parse_date(value) is None


@pytest.mark.parametrize(
    "value",
    ["/Date(abc)/", "Date(1723420800000)", "yesterday", "2024-05-30T00:00:00+02:00"],
)
def test_parse_date_unknown_form_raises(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_parse_date_out_of_range_raises():
    with pytest.raises(ValueError, match="not a date"):
        parse_date("/Date(999999999999999999)/")


MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 1),  # noqa: DTZ001
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
).map(lambda m: m.replace(microsecond=m.microsecond // 1000 * 1000))


@settings(max_examples=200)
@given(MOMENTS)
def test_parse_date_reads_what_the_sandbox_writes(moment):
    assert parse_date(format_datetime(moment)) == moment


# to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (151.86, Decimal("151.86")),
        (26.36, Decimal("26.36")),
        (0.1, Decimal("0.1")),
        (50.8, Decimal("50.8")),
        (100, Decimal(100)),
        (-0.01, Decimal("-0.01")),
        ("100.00", Decimal("100.00")),
        (" 8.82 ", Decimal("8.82")),
        (Decimal("1.5"), Decimal("1.5")),
    ],
)
def test_to_decimal_exact_values(value, expected):
    result = to_decimal(value)

    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize("value", [None, ""])
def test_to_decimal_empty_none(value):
    assert to_decimal(value) is None


@pytest.mark.parametrize("value", [True, [1], {"a": 1}])
def test_to_decimal_not_a_number_type_error(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize(
    "value", ["abc", "NaN", "Infinity", float("nan"), float("inf"), Decimal("NaN")]
)
def test_to_decimal_not_an_amount_value_error(value):
    with pytest.raises(ValueError, match="not an amount"):
        to_decimal(value)


# unwrap


def test_unwrap_results_with_next():
    payload = {"d": {"results": [{"ID": 1}, {"ID": 2}], "__next": f"{BASE}?x=1"}}

    assert unwrap(payload) == ([{"ID": 1}, {"ID": 2}], f"{BASE}?x=1")


def test_unwrap_results_last_page_with_count():
    payload = {"d": {"results": [{"ID": 1}], "__count": "1"}}

    assert unwrap(payload) == ([{"ID": 1}], None)


def test_unwrap_bare_array():
    assert unwrap({"d": [{"Code": "VN "}, {"Code": "VB "}]}) == (
        [{"Code": "VN "}, {"Code": "VB "}],
        None,
    )


def test_unwrap_single_entity_one_row():
    entity = {"__metadata": {"type": "Exact.Web.Api.Models.SalesEntry"}, "EntryID": "x"}

    assert unwrap({"d": entity}) == ([entity], None)


def test_unwrap_empty_results():
    assert unwrap({"d": {"results": []}}) == ([], None)


def test_unwrap_empty_next_means_last_page():
    assert unwrap({"d": {"results": [], "__next": ""}}) == ([], None)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"error": {"message": {"value": "x"}}},
        {"d": None},
        {"d": "text"},
        {"d": [1, 2]},
        {"d": {"results": [{"ID": 1}], "__next": 5}},
    ],
)
def test_unwrap_unknown_shape_raises(payload):
    with pytest.raises(UnexpectedPayload):
        unwrap(payload)


def test_unexpected_payload_is_value_error():
    assert issubclass(UnexpectedPayload, ValueError)
    assert issubclass(PagingLoop, UnexpectedPayload)


def test_unwrap_one_entity():
    assert unwrap_one({"d": {"EntryID": "x"}}) == {"EntryID": "x"}


def test_unwrap_one_me_one_element_list():
    payload = {"d": {"results": [{"CurrentDivision": 1001}]}}

    assert unwrap_one(payload) == {"CurrentDivision": 1001}


@pytest.mark.parametrize("rows", [[], [{"a": 1}, {"a": 2}]])
def test_unwrap_one_none_or_several_raises(rows):
    with pytest.raises(UnexpectedPayload, match=f"got {len(rows)}"):
        unwrap_one({"d": {"results": rows}})


# pages


def _page(ids, next_url=None):
    body = {"results": [{"ID": i} for i in ids]}
    if next_url is not None:
        body["__next"] = next_url
    return {"d": body}


def test_pages_follows_next_one_after_another():
    answers = {
        None: _page([1, 2], f"{BASE}?$skiptoken=guid'2'"),
        f"{BASE}?$skiptoken=guid'2'": _page([3, 4], f"{BASE}?$skiptoken=guid'4'"),
        f"{BASE}?$skiptoken=guid'4'": _page([5]),
    }
    log = []

    def fetch(url):
        log.append(("fetch", url))
        return answers[url]

    for page in pages(fetch):
        log.append(("got", [row["ID"] for row in page]))

    assert log == [
        ("fetch", None),
        ("got", [1, 2]),
        ("fetch", f"{BASE}?$skiptoken=guid'2'"),
        ("got", [3, 4]),
        ("fetch", f"{BASE}?$skiptoken=guid'4'"),
        ("got", [5]),
    ]


def test_pages_single_page_one_fetch():
    calls = []

    def fetch(url):
        calls.append(url)
        return {"d": [{"ID": 1}]}

    assert list(pages(fetch)) == [[{"ID": 1}]]
    assert calls == [None]


def test_pages_nothing_fetched_until_asked():
    calls = []

    def fetch(url):
        calls.append(url)
        return _page([1])

    iterator = pages(fetch)

    assert calls == []
    next(iterator)
    assert calls == [None]


def test_pages_next_pointing_at_itself_raises():
    loop = f"{BASE}?$skiptoken=guid'1'"
    calls = []

    def fetch(url):
        calls.append(url)
        return _page([1], loop)

    with pytest.raises(PagingLoop, match="repeats"):
        list(pages(fetch))

    assert calls == [None, loop]


def test_pages_cycle_of_two_raises():
    first, second = f"{BASE}?$skiptoken=guid'1'", f"{BASE}?$skiptoken=guid'2'"
    answers = {None: _page([0], first), first: _page([1], second)}
    answers[second] = _page([2], first)

    with pytest.raises(PagingLoop):
        list(pages(answers.__getitem__))


def test_pages_bad_page_raises():
    with pytest.raises(UnexpectedPayload):
        list(pages(lambda url: {"odata.error": {}}))
