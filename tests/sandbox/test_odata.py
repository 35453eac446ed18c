"""The sandbox's OData subset (API.md §6.2-§6.7): filters, options, paging,
envelopes, dates and error bodies."""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.sandbox.odata import (
    EMPTY_FILTER,
    SYNTAX_ERROR,
    ODataError,
    Query,
    collection_body,
    error_body,
    error_bytes,
    format_datetime,
    page,
    parse_datetime,
    parse_filter,
    parse_query,
    project,
    use_bare_array,
)

PROPERTIES = {
    "ID": "Edm.Guid",
    "Code": "Edm.String",
    "Name": "Edm.String",
    "EntryNumber": "Edm.Int32",
    "Status": "Edm.Int16",
    "Timestamp": "Edm.Int64",
    "AmountDC": "Edm.Double",
    "EntryDate": "Edm.DateTime",
    "IsSupplier": "Edm.Boolean",
    "Attachment": "Edm.Byte",
}
GUID = "3c534e79-c4fe-44d2-9765-00b30573c2de"
RECORD: dict[str, Any] = {
    "ID": GUID,
    "Code": "               255",
    "Name": "O'Brien & Zonen",
    "EntryNumber": 24600006,
    "Status": 20,
    "Timestamp": 53402736,
    "AmountDC": Decimal("50.80"),
    "EntryDate": datetime.fromisoformat("2024-05-30T10:15:00"),
    "IsSupplier": False,
    "Attachment": "aGVsbG8=",
}


def matches(text: str, record: Mapping[str, Any] = RECORD) -> bool:
    return parse_filter(text, PROPERTIES).matches(record)


def refused(text: str) -> str:
    with pytest.raises(ODataError) as caught:
        parse_filter(text, PROPERTIES)
    return caught.value.message


# --- filters: operators and literals ----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EntryNumber eq 24600006", True),
        ("EntryNumber eq 24600007", False),
        ("EntryNumber ne 24600007", True),
        ("EntryNumber ne 24600006", False),
        ("EntryNumber gt 24600005", True),
        ("EntryNumber gt 24600006", False),
        ("EntryNumber ge 24600006", True),
        ("EntryNumber ge 24600007", False),
        ("EntryNumber lt 24600007", True),
        ("EntryNumber lt 24600006", False),
        ("EntryNumber le 24600006", True),
        ("EntryNumber le 24600005", False),
        ("24600006 eq EntryNumber", True),
        ("24600007 gt EntryNumber", True),
        ("Status eq 20", True),
        ("Status gt -1", True),
    ],
)
def test_filter_comparison_operators(text: str, expected: bool) -> None:
    assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"ID eq guid'{GUID}'", True),
        (f"ID eq guid'{GUID.upper()}'", True),
        ("ID eq guid'00000000-0000-0000-0000-000000000000'", False),
        (f"ID ne guid'{GUID}'", False),
        ("Name eq 'O''Brien & Zonen'", True),
        ("Name eq 'O'Brien & Zonen'", None),
        ("Name eq 'o''brien & zonen'", False),
        ("Name gt 'N'", True),
        ("Timestamp gt 53402735L", True),
        ("Timestamp gt 53402736L", False),
        ("Timestamp eq 53402736", True),
        ("EntryNumber eq 24600006L", True),
        ("AmountDC eq 50.8", True),
        ("AmountDC eq 50.80M", True),
        ("AmountDC eq 50.8d", True),
        ("AmountDC eq 50.8f", True),
        ("AmountDC eq 508e-1", True),
        ("AmountDC gt 50", True),
        ("AmountDC lt -1.5", False),
        ("IsSupplier eq false", True),
        ("IsSupplier eq true", False),
        ("IsSupplier", False),
        ("not IsSupplier", True),
        ("true", True),
        ("Name ne null", True),
        ("Name eq null", False),
    ],
)
def test_filter_literals(text: str, expected: bool | None) -> None:
    if expected is None:
        assert refused(text) == SYNTAX_ERROR
    else:
        assert matches(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("EntryDate gt datetime'2024-05-30'", True),
        ("EntryDate lt datetime'2024-05-31'", True),
        ("EntryDate eq datetime'2024-05-30T10:15:00'", True),
        ("EntryDate eq datetime'2024-05-30T10:15'", True),
        ("EntryDate eq datetime'2024-05-30T10:15:00.000'", True),
        ("EntryDate eq datetime'2024-05-30T10:15:00.0000001'", True),
        ("EntryDate lt datetime'2024-05-30T10:15:00.001'", True),
        ("EntryDate ge datetime'2024-05-30T10:15:01'", False),
        ("EntryDate le datetime'2024-05-30T10:14:59'", False),
    ],
)
def test_filter_datetime_comparisons(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_filter_date_only_record_value_compares_as_midnight() -> None:
    record = {**RECORD, "EntryDate": date(2024, 5, 30)}
    assert matches("EntryDate eq datetime'2024-05-30T00:00:00'", record)


def test_filter_padded_code_matches_exactly() -> None:
    assert matches("Code eq '               255'")
    assert not matches("Code eq '255'")
    assert not matches("Code eq '              255'")
    vat = {**RECORD, "Code": "VN "}
    assert matches("Code eq 'VN '", vat)
    assert not matches("Code eq 'VN'", vat)


def test_filter_double_record_value_as_float_compares_numerically() -> None:
    record = {**RECORD, "AmountDC": 1.1}
    assert matches("AmountDC eq 1.1", record)
    assert matches("AmountDC gt 1.09 and AmountDC lt 1.11", record)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("substringof('Brien', Name)", True),
        ("substringof('Brien',Name) eq true", True),
        ("substringof('Brien', Name) eq false", False),
        ("substringof('brien', Name)", False),
        ("substringof('O''B', Name)", True),
        ("substringof('', Name)", True),
        ("not substringof('xyz', Name)", True),
        ("startswith(Name, 'O''Brien')", True),
        ("startswith(Name, 'Brien')", False),
        ("endswith(Name,'Zonen')", True),
        ("endswith(Name, 'O')", False),
        ("startswith(Code, '   ') and endswith(Code, '255')", True),
        ("substringof(Name, 'Mr O''Brien & Zonen Ltd')", True),
    ],
)
def test_filter_string_functions(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_filter_functions_on_null_are_false() -> None:
    record = {**RECORD, "Name": None}
    assert not matches("substringof('a', Name)", record)
    assert not matches("startswith(Name, 'a')", record)
    assert matches("not endswith(Name, 'a')", record)


def test_filter_null_values_follow_csharp_semantics() -> None:
    record = dict.fromkeys(RECORD)
    assert matches("Name eq null", record)
    assert matches("null eq EntryNumber", record)
    assert not matches("Name ne null", record)
    assert matches("EntryNumber ne 5", record)
    assert not matches("EntryNumber eq 5", record)
    for op in ("gt", "ge", "lt", "le"):
        assert not matches(f"EntryNumber {op} 5", record)
    assert matches("not (EntryNumber gt 5)", record)
    assert not matches("IsSupplier", record)


def test_filter_and_binds_tighter_than_or() -> None:
    text = "Status eq 20 or EntryNumber eq 1 and Status eq 99"
    assert matches(text)  # Status eq 20 or (… and …)
    assert not matches("(Status eq 20 or EntryNumber eq 1) and Status eq 99")


def test_filter_not_binds_tighter_than_comparison() -> None:
    # (not IsSupplier) eq true, not not (IsSupplier eq true)
    assert matches("not IsSupplier eq true")
    assert refused("not Status eq 20") == SYNTAX_ERROR
    assert matches("not (Status eq 21)")
    assert not matches("not (Status eq 20)")
    assert matches("not not (Status eq 20)")


def test_filter_nested_parentheses_and_whitespace() -> None:
    assert matches("((Status eq 20))and(EntryNumber gt 0)")
    assert matches("  ( Status eq 20 or ( IsSupplier and Status eq 1 ) )  ")
    assert matches("Status eq 20\tand\nEntryNumber gt 0")


def test_filter_fields_lists_every_referenced_property() -> None:
    parsed = parse_filter(
        "Status eq 20 and (substringof('x', Name) or not IsSupplier)", PROPERTIES
    )
    assert parsed.fields == frozenset({"Status", "Name", "IsSupplier"})
    assert parse_filter("true", PROPERTIES).fields == frozenset()


# --- filters: errors ------------------------------------------------------------


def test_filter_bad_guid_literal_error_names_literal_and_position() -> None:
    assert refused("ID eq guid'dsadsds'") == (
        "Unrecognized 'Edm.Guid' literal 'guid'dsadsds'' in '6'."
    )
    assert refused("Status eq 20 and ID eq guid'xyz'") == (
        "Unrecognized 'Edm.Guid' literal 'guid'xyz'' in '23'."
    )
    assert refused("ID eq guid'{3c534e79-c4fe-44d2-9765-00b30573c2de}'").startswith(
        "Unrecognized 'Edm.Guid' literal"
    )


@pytest.mark.parametrize(
    "literal",
    [
        "datetime'2024-13-01'",
        "datetime'2024-02-30'",
        "datetime'2024-01-01T00:00:00Z'",
        "datetime'2024-01-01T00:00:00+01:00'",
        "datetime'01-01-2024'",
        "datetime''",
    ],
)
def test_filter_bad_datetime_literal_is_unrecognized(literal: str) -> None:
    assert refused(f"EntryDate eq {literal}") == (
        f"Unrecognized 'Edm.DateTime' literal '{literal}' in '13'."
    )


def test_filter_integer_literal_out_of_range_is_unrecognized() -> None:
    assert refused("EntryNumber eq 2147483648") == (
        "Unrecognized 'Edm.Int32' literal '2147483648' in '15'."
    )
    assert matches("Timestamp lt 2147483648L")
    assert refused("Timestamp lt 9223372036854775808L") == (
        "Unrecognized 'Edm.Int64' literal '9223372036854775808L' in '13'."
    )
    assert refused("Timestamp lt 1.5L").startswith("Unrecognized 'Edm.Int64'")


@pytest.mark.parametrize("text", ["", " ", "\t\n"])
def test_filter_empty_is_refused(text: str) -> None:
    assert refused(text) == EMPTY_FILTER


@pytest.mark.parametrize(
    "text",
    [
        "Unknown eq 1",
        "code eq '1'",  # property names are case-sensitive
        "Attachment eq null",  # binary: not filterable
        "Lines/AmountFC gt 0",  # no navigation paths (API.md §6.4)
        "ID eq '3c534e79-c4fe-44d2-9765-00b30573c2de'",  # guid against string
        "Code eq 255",
        "EntryNumber eq '1'",
        "EntryDate eq '2024-01-01'",
        "IsSupplier eq 1",
        "EntryNumber eq Status",  # property against property
        "substringof(Name, Code)",
        "Status eq 20 and",
        "and Status eq 20",
        "Status eq",
        "Status 20",
        "(Status eq 20",
        "Status eq 20)",
        "Status EQ 20",
        "Status eq 20 AND Status eq 20",
        "Name eq 'unterminated",
        "Name eq guid'unterminated",
        "Status eq 20 Status eq 20",
        "Status eq 20L5",
        "Status eq 5eq",
        "Status add 1 eq 21",
        "tolower(Name) eq 'x'",
        "substringof('x')",
        "substringof('x', Name, Name)",
        "substringof(1, Name)",
        "Status eq 20 and Name",  # a string is not a condition
        "Name",
        "not Name",
        "Status eq 20 or 5",
        "EntryDate eq time'PT10H'",
        "Status eq $1",
        'Name eq "x"',
    ],
)
def test_filter_malformed_is_a_syntax_error(text: str) -> None:
    assert refused(text) == SYNTAX_ERROR


# --- filters: properties --------------------------------------------------------

FUZZ_PROPERTIES = {
    "ID": "Edm.Guid",
    "Code": "Edm.String",
    "Count": "Edm.Int32",
    "Stamp": "Edm.Int64",
    "Amount": "Edm.Double",
    "Day": "Edm.DateTime",
    "Flag": "Edm.Boolean",
}
FUZZ_GUIDS = [GUID, "00000000-0000-0000-0000-00000000000a"]
FUZZ_STRINGS = ["", "a", "ab", "O'B", "  7", "b"]
FUZZ_AMOUNTS = [Decimal("1.5"), Decimal("-2"), Decimal("0.25"), Decimal("0")]
FUZZ_DAYS = [
    datetime.fromisoformat("2024-01-01"),
    datetime.fromisoformat("2024-01-01T12:30:00"),
    datetime.fromisoformat("2023-12-31T23:59:59.250000"),
]
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}

Oracle = Callable[[Mapping[str, Any]], bool]


def _nullable(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


fuzz_records = st.fixed_dictionaries(
    {
        "ID": _nullable(st.sampled_from(FUZZ_GUIDS)),
        "Code": _nullable(st.sampled_from(FUZZ_STRINGS)),
        "Count": _nullable(st.integers(-3, 3)),
        "Stamp": _nullable(st.integers(0, 2**40)),
        # floats that are exact in binary, so the oracle may compare directly
        "Amount": _nullable(
            st.sampled_from(FUZZ_AMOUNTS) | st.sampled_from([1.5, -2.0, 0.25])
        ),
        "Day": _nullable(st.sampled_from(FUZZ_DAYS)),
        "Flag": _nullable(st.booleans()),
    }
)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _datetime_literal(value: datetime) -> str:
    if value.time() == time():
        return f"datetime'{value.date().isoformat()}'"
    return f"datetime'{value.isoformat()}'"


# (property, strategy of (literal text, python value)) per type
_LITERALS: dict[str, st.SearchStrategy[tuple[str, Any]]] = {
    "ID": st.builds(
        lambda g, upper: (f"guid'{g.upper() if upper else g}'", g),
        st.sampled_from(FUZZ_GUIDS),
        st.booleans(),
    ),
    "Code": st.sampled_from(FUZZ_STRINGS).map(lambda s: (_quote(s), s)),
    "Count": st.integers(-4, 4).map(lambda n: (str(n), n))
    | st.integers(-4, 4).map(lambda n: (f"{n}L", n)),
    "Stamp": st.integers(0, 2**40).map(lambda n: (f"{n}L", n)),
    "Amount": st.builds(
        lambda d, suffix: (f"{d}{suffix}", d),
        st.sampled_from(FUZZ_AMOUNTS),
        st.sampled_from(["", "M", "d"]),
    ),
    "Day": st.sampled_from(FUZZ_DAYS).map(lambda d: (_datetime_literal(d), d)),
    "Flag": st.booleans().map(lambda b: ("true" if b else "false", b)),
}


def _compare_oracle(name: str, op: str, literal: Any) -> Oracle:
    def oracle(record: Mapping[str, Any]) -> bool:
        value = record[name]
        if op in ("eq", "ne"):
            equal = (
                value == literal
                if None not in (value, literal)
                else (value is None and literal is None)
            )
            return equal if op == "eq" else not equal
        if value is None or literal is None:
            return False
        return OPS[op](value, literal)

    return oracle


@st.composite
def comparisons(draw: st.DrawFn) -> tuple[str, Oracle]:
    name = draw(st.sampled_from(sorted(FUZZ_PROPERTIES)))
    op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"]))
    if draw(st.integers(0, 9)) == 0:
        text, value = "null", None
    else:
        text, value = draw(_LITERALS[name])
    if draw(st.booleans()):
        return f"{name} {op} {text}", _compare_oracle(name, op, value)
    flipped = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}.get(op, op)
    return f"{text} {flipped} {name}", _compare_oracle(name, op, value)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, Oracle]:
    function = draw(st.sampled_from(["substringof", "startswith", "endswith"]))
    needle = draw(st.sampled_from(FUZZ_STRINGS))
    if function == "substringof":
        text = f"substringof({_quote(needle)}, Code)"
    else:
        text = f"{function}(Code,{_quote(needle)})"

    def oracle(record: Mapping[str, Any]) -> bool:
        code = record["Code"]
        if code is None:
            return False
        if function == "substringof":
            return needle in code
        return bool(getattr(code, function)(needle))

    suffix = draw(st.sampled_from(["", " eq true", " eq false"]))
    if suffix == " eq false":
        return text + suffix, lambda record: not oracle(record)
    return text + suffix, oracle


atoms = (
    comparisons() | calls() | st.just(("Flag", lambda record: record["Flag"] is True))
)


def _combine(
    children: st.SearchStrategy[tuple[str, Oracle]],
) -> st.SearchStrategy[tuple[str, Oracle]]:
    def conjunction(a: tuple[str, Oracle], b: tuple[str, Oracle]) -> tuple[str, Oracle]:
        return f"({a[0]}) and ({b[0]})", lambda r: a[1](r) and b[1](r)

    def disjunction(a: tuple[str, Oracle], b: tuple[str, Oracle]) -> tuple[str, Oracle]:
        return f"({a[0]})or({b[0]})", lambda r: a[1](r) or b[1](r)

    def negation(a: tuple[str, Oracle]) -> tuple[str, Oracle]:
        return f"not ({a[0]})", lambda r: not a[1](r)

    return (
        st.builds(conjunction, children, children)
        | st.builds(disjunction, children, children)
        | st.builds(negation, children)
    )


expressions = st.recursive(atoms, _combine, max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(expression=expressions, record=fuzz_records)
def test_filter_agrees_with_a_reference_evaluation(
    expression: tuple[str, Oracle], record: Mapping[str, Any]
) -> None:
    # Composite oracles are `and`/`or`/`not` of their parts, so this also checks
    # matches(a and b) == matches(a) and matches(b), and the like.
    text, oracle = expression
    assert parse_filter(text, FUZZ_PROPERTIES).matches(record) is oracle(record)


FRAGMENTS = [
    "ID", "Code", "Count", "Stamp", "Amount", "Day", "Flag", "Nope", "eq", "ne",
    "gt", "le", "and", "or", "not", "(", ")", ",", "'a'", "'O''B'", "'", "guid'",
    f"guid'{GUID}'", "guid'x'", "datetime'2024-01-01'", "datetime'x'", "1", "-1",
    "2L", "1.5", "1.5M", "1e3", "99999999999", "null", "true", "false",
    "substringof", "startswith", "endswith", "tolower", "/", "-", "$", " ", "",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.sampled_from(FRAGMENTS), max_size=12),
    separator=st.sampled_from([" ", ""]),
    record=fuzz_records,
)
def test_filter_arbitrary_input_fails_only_with_odata_error(
    parts: list[str], separator: str, record: Mapping[str, Any]
) -> None:
    try:
        parsed = parse_filter(separator.join(parts), FUZZ_PROPERTIES)
    except ODataError:
        return
    assert parsed.matches(record) in (True, False)


# --- parse_query ------------------------------------------------------------------


def query(params: Mapping[str, str], expandable: tuple[str, ...] = ()) -> Query:
    return parse_query(params, PROPERTIES, expandable=expandable)


def query_error(params: Mapping[str, str], expandable: tuple[str, ...] = ()) -> str:
    with pytest.raises(ODataError) as caught:
        query(params, expandable)
    return caught.value.message


def test_parse_query_reads_every_option() -> None:
    parsed = query(
        {
            "$select": " ID,Code , SalesEntryLines/AmountFC",
            "$expand": "SalesEntryLines",
            "$filter": "Status eq 20",
            "$top": "5",
            "$skip": "10",
            "$orderby": "Code desc, EntryNumber asc,Status",
            "$inlinecount": "allpages",
            "$skiptoken": "'   255',24600006,20,guid'" + GUID + "'",
            "division": "797636",
        },
        expandable=("SalesEntryLines",),
    )
    assert parsed.select == ("ID", "Code", "SalesEntryLines/AmountFC")
    assert parsed.filter is not None
    assert parsed.filter.fields == frozenset({"Status"})
    assert parsed.top == 5
    assert parsed.skip == 10
    assert parsed.orderby == (("Code", True), ("EntryNumber", False), ("Status", False))
    assert parsed.expand == frozenset({"SalesEntryLines"})
    assert parsed.inlinecount is True
    assert parsed.skiptoken == "'   255',24600006,20,guid'" + GUID + "'"


def test_parse_query_defaults_without_options() -> None:
    assert query({"foo": "bar"}) == Query(
        select=None,
        filter=None,
        top=None,
        skiptoken=None,
        orderby=(),
        expand=frozenset(),
        inlinecount=False,
        skip=None,
    )


def test_parse_query_select_star_is_kept() -> None:
    assert query({"$select": "*"}).select == ("*",)
    assert project(RECORD, ("*",)) == RECORD


def test_parse_query_select_navigation_link_without_expand() -> None:
    parsed = query({"$select": "ID,SalesEntryLines"}, expandable=("SalesEntryLines",))
    assert parsed.select == ("ID", "SalesEntryLines")


@pytest.mark.parametrize(
    "params",
    [
        {"$select": "ID,Nope"},
        {"$select": "ID,,Code"},
        {"$select": "ID,"},
        {"$select": "id"},
        {"$select": "SalesEntryLines/AmountFC"},  # not expanded
        {"$select": "Other/AmountFC", "$expand": "SalesEntryLines"},
        {"$select": "SalesEntryLines/", "$expand": "SalesEntryLines"},
        {"$expand": "Nope"},
        {"$expand": "SalesEntryLines,"},
        {"$top": "-1"},
        {"$top": "abc"},
        {"$top": ""},
        {"$top": "1.5"},
        {"$top": "2147483648"},
        {"$skip": "-3"},
        {"$orderby": "Nope"},
        {"$orderby": "Code up"},
        {"$orderby": "Code desc asc"},
        {"$orderby": "Code,"},
        {"$orderby": "Attachment"},
        {"$inlinecount": "yes"},
        {"$inlinecount": "AllPages"},
        {"$filter": "Nope eq 1"},
        {"$skiptoken": ""},
        {"$skiptoken": "abc"},
        {"$skiptoken": "1.5"},
        {"$skiptoken": "true"},
        {"$skiptoken": "1,2"},
        {"$skiptoken": "guid'" + GUID + "'", "$orderby": "Code"},
        {"$skiptoken": "'x'guid'" + GUID + "'", "$orderby": "Code"},
    ],
)
def test_parse_query_invalid_option_is_a_syntax_error(params: dict[str, str]) -> None:
    assert query_error(params, expandable=("SalesEntryLines",)) == SYNTAX_ERROR


def test_parse_query_unknown_system_option_is_refused() -> None:
    assert query_error({"$format": "json"}) == (
        "The query parameter '$format' begins with a system-reserved '$' "
        "character but is not recognized."
    )
    assert query_error({"$Top": "1"}).startswith("The query parameter '$Top'")


def test_parse_query_empty_filter_is_refused() -> None:
    assert query_error({"$filter": ""}) == EMPTY_FILTER


def test_parse_query_bad_guid_skiptoken_names_the_literal() -> None:
    assert query_error({"$skiptoken": "guid'xyz'"}) == (
        "Unrecognized 'Edm.Guid' literal 'guid'xyz'' in '0'."
    )


@pytest.mark.parametrize("token", ["guid'" + GUID + "'", "1234", "1234L", "-5"])
def test_parse_query_skiptoken_key_forms(token: str) -> None:
    assert query({"$skiptoken": token}).skiptoken == token


def test_parse_query_inlinecount_none_and_empty_select_expand() -> None:
    parsed = query({"$inlinecount": "none", "$select": "", "$expand": " "})
    assert parsed.inlinecount is False
    assert parsed.select is None
    assert parsed.expand == frozenset()


# --- page ---------------------------------------------------------------------------


def guid_records(count: int) -> list[dict[str, Any]]:
    # uuid5 scatters the keys, so key order differs from creation order
    names = ["Alpha", "beta", "Gamma", "delta", "O'B", "", "Zed"]
    return [
        {
            "ID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"record-{n}")),
            "Name": names[n % len(names)] if n % 11 else None,
            "EntryNumber": n,
            "AmountDC": Decimal(n % 9) - 2,
            "EntryDate": datetime.fromisoformat(f"2024-0{1 + n % 3}-1{n % 10}"),
        }
        for n in range(count)
    ]


def follow(
    records: list[dict[str, Any]],
    params: dict[str, str],
    *,
    key: str = "ID",
    page_size: int = 60,
) -> list[list[Mapping[str, Any]]]:
    """Page like a client following `__next`, built as `page()` documents."""
    pages: list[list[Mapping[str, Any]]] = []
    params = dict(params)
    while True:
        rows, token, _ = page(records, query(params), key=key, page_size=page_size)
        pages.append(rows)
        if token is None:
            return pages
        params["$skiptoken"] = token
        params.pop("$skip", None)
        if "$top" in params:
            params["$top"] = str(int(params["$top"]) - len(rows))
        assert len(pages) < 50, "paging does not end"


def test_page_skiptoken_continuation_covers_every_record_once() -> None:
    records = guid_records(150)
    pages = follow(records, {})
    assert [len(rows) for rows in pages] == [60, 60, 30]
    keys = [row["ID"] for rows in pages for row in rows]
    assert keys == sorted(record["ID"] for record in records)


def test_page_next_token_is_the_guid_of_the_last_row() -> None:
    records = guid_records(150)
    rows, token, count = page(records, query({}), key="ID", page_size=60)
    assert token == f"guid'{rows[-1]['ID']}'"
    assert count == 150


def test_page_continuation_with_filter_and_orderby() -> None:
    records = guid_records(200)
    params = {
        "$filter": "EntryNumber ge 50",
        "$orderby": "Name desc,EntryDate",
    }
    pages = follow(records, params)
    assert [len(rows) for rows in pages] == [60, 60, 30]
    got = [row["ID"] for rows in pages for row in rows]
    chosen = [r for r in records if r["EntryNumber"] >= 50]
    chosen.sort(key=lambda r: r["ID"])
    chosen.sort(key=lambda r: r["EntryDate"])
    # nulls first ascending, so last when descending
    chosen.sort(key=lambda r: (r["Name"] is not None, r["Name"] or ""), reverse=True)
    assert got == [r["ID"] for r in chosen]


def test_page_orderby_continuation_survives_deleted_rows() -> None:
    records = guid_records(150)
    params = {"$orderby": "AmountDC desc"}
    full = [row["ID"] for rows in follow(records, params) for row in rows]
    first, token, _ = page(records, query(params), key="ID", page_size=60)
    assert token is not None
    gone = {first[-1]["ID"], full[60]}  # the token's row and the next one
    survivors = [r for r in records if r["ID"] not in gone]
    rest, _, _ = page(
        survivors, query({**params, "$skiptoken": token}), key="ID", page_size=60
    )
    assert [row["ID"] for row in rest] == full[61:121]


def test_page_integer_keys_give_integer_tokens() -> None:
    records = [{"HID": hid, "Amount": hid * 10} for hid in range(1000, 1150)]
    rows, token, _ = page(records[::-1], query({}), key="HID", page_size=60)
    assert [row["HID"] for row in rows] == list(range(1000, 1060))
    assert token == "1059"
    pages = follow(records, {}, key="HID")
    assert [len(rows) for rows in pages] == [60, 60, 30]


def test_page_guid_token_on_integer_keys_is_refused() -> None:
    records = [{"HID": hid} for hid in range(10)]
    with pytest.raises(ODataError):
        page(records, query({"$skiptoken": f"guid'{GUID}'"}), key="HID", page_size=60)


def test_page_top_smaller_than_page_size_has_no_next() -> None:
    rows, token, count = page(
        guid_records(150), query({"$top": "10"}), key="ID", page_size=60
    )
    assert len(rows) == 10
    assert token is None
    assert count == 150


def test_page_top_equal_to_page_size_has_no_next() -> None:
    rows, token, _ = page(
        guid_records(150), query({"$top": "60"}), key="ID", page_size=60
    )
    assert len(rows) == 60
    assert token is None


def test_page_top_larger_than_page_size_pages_up_to_top() -> None:
    records = guid_records(150)
    pages = follow(records, {"$top": "100"})
    assert [len(rows) for rows in pages] == [60, 40]
    keys = [row["ID"] for rows in pages for row in rows]
    assert keys == sorted(r["ID"] for r in records)[:100]


def test_page_top_larger_than_collection_ends_with_the_last_row() -> None:
    pages = follow(guid_records(150), {"$top": "500"})
    assert [len(rows) for rows in pages] == [60, 60, 30]


def test_page_top_zero_is_empty() -> None:
    assert page(guid_records(5), query({"$top": "0"}), key="ID", page_size=60) == (
        [],
        None,
        5,
    )


def test_page_skip_drops_rows_after_ordering() -> None:
    records = guid_records(150)
    ordered = sorted(r["ID"] for r in records)
    rows, token, count = page(records, query({"$skip": "100"}), key="ID", page_size=60)
    assert [row["ID"] for row in rows] == ordered[100:150]
    assert token is None
    assert count == 150
    pages = follow(records, {"$skip": "10"})
    assert [len(rows) for rows in pages] == [60, 60, 20]


def test_page_count_is_after_filter_before_paging() -> None:
    params = {"$filter": "EntryNumber lt 75", "$top": "5"}
    _, _, count = page(guid_records(150), query(params), key="ID", page_size=60)
    assert count == 75


def test_page_empty_collection() -> None:
    assert page([], query({}), key="ID", page_size=60) == ([], None, 0)


# --- envelopes and projection ---------------------------------------------------


@pytest.mark.parametrize(
    ("params", "bare"),
    [
        ({"$top": "1"}, True),
        ({"$top": "60"}, True),
        ({"$top": "61"}, False),
        ({}, False),
        ({"$top": "1", "$select": "ID"}, False),
        ({"$top": "1", "$select": "*"}, False),
        ({"$top": "1", "$inlinecount": "allpages"}, False),
        ({"$top": "1", "$inlinecount": "none"}, True),
        ({"$top": "50", "$orderby": "Code", "$skip": "0"}, True),  # nango VATCodes
    ],
)
def test_use_bare_array_rule(params: dict[str, str], bare: bool) -> None:
    assert use_bare_array(query(params), 60) is bare


def test_collection_body_wrapped_with_next_and_count() -> None:
    body = collection_body([{"a": 1}], next_url="https://x/next", count=150, bare=False)
    assert body == {
        "d": {"__count": "150", "results": [{"a": 1}], "__next": "https://x/next"}
    }


def test_collection_body_wrapped_last_page_has_no_next() -> None:
    body = collection_body([], next_url=None, count=None, bare=False)
    assert body == {"d": {"results": []}}


def test_collection_body_bare() -> None:
    assert collection_body([{"a": 1}], next_url=None, count=None, bare=True) == {
        "d": [{"a": 1}]
    }
    with pytest.raises(ValueError, match="bare"):
        collection_body([], next_url="https://x/next", count=None, bare=True)


def test_project_keeps_selected_fields_and_metadata() -> None:
    record = {"__metadata": {"uri": "u"}, "ID": GUID, "Code": "1", "Name": "n"}
    selected = project(record, ("Name", "ID", "SalesEntryLines/AmountFC"))
    assert selected == {"__metadata": {"uri": "u"}, "ID": GUID, "Name": "n"}
    assert list(selected) == ["__metadata", "ID", "Name"]
    assert project(record, None) == record
    assert project(record, None) is not record


# --- dates ----------------------------------------------------------------------------


def test_format_datetime_api_example() -> None:
    assert format_datetime(date(2024, 8, 12)) == "/Date(1723420800000)/"
    assert format_datetime(datetime.fromisoformat("2024-08-12")) == (
        "/Date(1723420800000)/"
    )
    assert parse_datetime("/Date(1723420800000)/") == datetime.fromisoformat(
        "2024-08-12"
    )


def test_format_datetime_recorded_created_value() -> None:
    # nango: Created 16:31:00.220 local, written as if UTC (API.md §6.5)
    moment = datetime.fromisoformat("2026-06-25T16:31:00.220")
    assert format_datetime(moment) == "/Date(1782405060220)/"


def test_format_datetime_edges() -> None:
    assert format_datetime(None) is None
    assert format_datetime(datetime.fromisoformat("1969-12-31T23:59:59.999")) == (
        "/Date(-1)/"
    )
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime.fromisoformat("2024-01-01T00:00:00+00:00"))


@settings(max_examples=500, deadline=None)
@given(moment=st.datetimes())
def test_format_datetime_round_trips(moment: datetime) -> None:
    # /Date()/ carries milliseconds; ISO text carries microseconds
    millis = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_datetime(format_datetime(millis)) == millis
    assert parse_datetime(moment.isoformat()) == moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-30", "2024-05-30T00:00:00"),
        ("2024-05-30T10:00:00", "2024-05-30T10:00:00"),
        ("2024-05-30T10:00", "2024-05-30T10:00:00"),
        ("2024-05-30T00:00:00Z", "2024-05-30T00:00:00"),
        ("2024-05-30T00:00:00.000", "2024-05-30T00:00:00"),
        ("2024-05-30T00:00:00.1234567", "2024-05-30T00:00:00.123456"),
        ("2024-05-30T00:00:00.5Z", "2024-05-30T00:00:00.500000"),
        ("/Date(1723420800000)/", "2024-08-12T00:00:00"),
        ("/Date(-86400000)/", "1969-12-31T00:00:00"),
    ],
)
def test_parse_datetime_accepted_forms(text: str, expected: str) -> None:
    assert parse_datetime(text) == datetime.fromisoformat(expected)


def test_parse_datetime_accepts_date_objects() -> None:
    assert parse_datetime(date(2024, 5, 30)) == datetime.fromisoformat("2024-05-30")
    moment = datetime.fromisoformat("2024-05-30T10:00:00")
    assert parse_datetime(moment) == moment


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2024-5-30",
        "30-05-2024",
        "2024-05-30 10:00:00",
        "2024-05-30T10:00:00+02:00",
        "2024-05-30Z",
        "2024-02-30",
        "2024-05-30T24:00:00",
        "/Date(abc)/",
        "/Date(1723420800000+0000)/",
        "/Date(999999999999999999)/",
        1723420800000,
        None,
        True,
        datetime.fromisoformat("2024-05-30T10:00:00+00:00"),
    ],
)
def test_parse_datetime_refuses_other_values(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)


# --- error bodies ---------------------------------------------------------------


def test_error_body_shape() -> None:
    assert error_body(SYNTAX_ERROR) == {
        "error": {"code": "", "message": {"lang": "", "value": SYNTAX_ERROR}}
    }


def test_error_bytes_is_crlf_json_like_exact() -> None:
    message = "Unrecognized 'Edm.Guid' literal 'guid'dsadsds'' in '6'."
    raw = error_bytes(message)
    assert b"\r\n" in raw
    assert json.loads(raw) == error_body(message)
    # the layout of the recorded body quoted in API.md §6.7
    assert raw.startswith(b'{\r\n"error": {\r\n"code": "", "message": {\r\n')


def test_error_bytes_escapes_and_encodes_utf8() -> None:
    message = 'Ongeldig: "Dagboek" – één\nregel'
    raw = error_bytes(message)
    assert json.loads(raw.decode("utf-8")) == error_body(message)
    assert "één".encode() in raw
