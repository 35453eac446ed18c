"""The OData v2 subset Exact Online speaks, for the sandbox (pure: no I/O).

What is implemented, after `shared/exact-online/API.md`:

* `$filter` (§6.4): `eq ne gt ge lt le`, `and`, `or`, `not`, parentheses, with
  the OData precedence `not` > comparisons > `and` > `or`; the functions
  `substringof`, `startswith` and `endswith` (bare or compared with `true`/`false`);
  the literals `guid'…'`, `datetime'…'` (no time zone: Exact's local time),
  single-quoted strings with `''` for a quote, Int32, Int64 (`123L`), decimals
  and doubles (`1.5`, `1.5M`, `1.5d`, `1.5f`, `1e3`), `true`, `false`, `null`.
  Not implemented, so refused with 400: arithmetic, other functions, navigation
  paths (`Lines/X`) and property-against-property comparisons (§6.4 says Exact
  supports neither of the last two).
* `$select`, `$expand`, `$orderby`, `$top`, `$skip`, `$skiptoken` and
  `$inlinecount` (§6.4, §11); any other `$` option is refused.
* Server paging with `$skiptoken` continuation (§6.3) and the two collection
  envelopes, wrapped `{"d": {"results": …}}` and bare `{"d": […]}` (§6.2).
* `/Date(ms)/` values: Exact's local wall-clock time written as if it were UTC
  (§6.5).
* Error bodies, pretty-printed with CRLF like Exact's (§6.7).

Null semantics follow C# (what WCF Data Services and Entity Framework give
Exact): `eq`/`ne` treat null as an ordinary value, an ordering comparison with
null is false, and `not` negates plainly, so `not (X gt 1)` holds when X is null.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

SYNTAX_ERROR = "Bad Request - Error in query syntax."
EMPTY_FILTER = "This $filter parameter is not supported for this resource"

BOOLEAN = "Edm.Boolean"
DATETIME = "Edm.DateTime"
GUID = "Edm.Guid"
STRING = "Edm.String"
INT32 = "Edm.Int32"
INT64 = "Edm.Int64"
# The type of the `null` literal: comparable with anything.
_NULL = "null"

_NUMERIC = frozenset(
    {"Edm.Int16", INT32, INT64, "Edm.Double", "Edm.Decimal", "Edm.Single"}
)
# Edm.Byte is binary (base64) in the sandbox's property maps, so it is left out.
_FILTERABLE = _NUMERIC | {STRING, GUID, BOOLEAN, DATETIME}

_INT_RANGES = {INT32: 2**31, INT64: 2**63}


class ODataError(Exception):
    """A query the sandbox refuses with HTTP 400; `message` is Exact's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _syntax_error() -> ODataError:
    return ODataError(SYNTAX_ERROR)


def _unrecognized(edm: str, text: str, position: int) -> ODataError:
    # WCF Data Services' wording, which Exact passes through (API.md §6.4).
    return ODataError(f"Unrecognized '{edm}' literal '{text}' in '{position}'.")


# --- tokens -----------------------------------------------------------------

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[MmDdFfLl]?")
_GUID_RE = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_CANONICAL_GUID_RE = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}")
_ISO_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?(Z)?)?"
)
_WIRE_DATE_RE = re.compile(r"/Date\((-?\d+)\)/")
_EPOCH = datetime.combine(date(1970, 1, 1), time())


@dataclass(frozen=True)
class _Token:
    kind: str  # "ident", "literal", "(", ")", ",", "end"
    text: str
    position: int
    value: Any = None
    edm: str = ""


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            tokens.append(_Token("end", "", position))
            return tokens
        token = _next_token(text, position)
        tokens.append(token)
        position += len(token.text)


def _next_token(text: str, position: int) -> _Token:
    char = text[position]
    if char in "(),":
        return _Token(char, char, position)
    if char == "'":
        return _string_token(text, position)
    number = _NUMBER_RE.match(text, position)
    if number:
        end = number.end()
        # "5eq" or "12abc" would otherwise lex as two tokens; WCF refuses them.
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            raise _syntax_error()
        return _number_token(number.group(), position)
    ident = _IDENT_RE.match(text, position)
    if ident:
        if ident.end() < len(text) and text[ident.end()] == "'":
            return _typed_token(text, position, ident.group())
        return _Token("ident", ident.group(), position)
    raise _syntax_error()


def _string_token(text: str, start: int) -> _Token:
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char != "'":
            chars.append(char)
            position += 1
        elif text.startswith("''", position):
            chars.append("'")
            position += 2
        else:
            return _Token(
                "literal", text[start : position + 1], start, "".join(chars), STRING
            )
    raise _syntax_error()


def _number_token(text: str, position: int) -> _Token:
    body, suffix = (text[:-1], text[-1].upper()) if text[-1].isalpha() else (text, "")
    is_integral = body.lstrip("-").isdigit()
    if suffix == "L":
        if not is_integral:
            raise _unrecognized(INT64, text, position)
        return _Token("literal", text, position, int(body), INT64)
    if is_integral and not suffix:
        return _Token("literal", text, position, int(body), INT32)
    edm = {"M": "Edm.Decimal", "F": "Edm.Single"}.get(suffix, "Edm.Double")
    # Decimal, not float, so `Amount eq 1.1` is exact against stored values.
    return _Token("literal", text, position, Decimal(body), edm)


def _typed_token(text: str, start: int, prefix: str) -> _Token:
    content_start = start + len(prefix) + 1
    end = text.find("'", content_start)
    if end < 0:
        raise _syntax_error()
    raw = text[start : end + 1]
    content = text[content_start:end]
    if prefix == "guid":
        if not _GUID_RE.fullmatch(content):
            raise _unrecognized(GUID, raw, start)
        return _Token("literal", raw, start, content.lower(), GUID)
    if prefix == "datetime":
        moment = _parse_iso(content, allow_utc_marker=False)
        if moment is None:
            raise _unrecognized(DATETIME, raw, start)
        return _Token("literal", raw, start, moment, DATETIME)
    # X'…', binary'…', time'…', datetimeoffset'…': Exact's entities have no use.
    raise _syntax_error()


# --- values -----------------------------------------------------------------


def _normalize(value: Any) -> Any:
    """A record value in the form the comparisons expect."""
    if isinstance(value, float):
        # Through repr so 1.1 equals the literal 1.1 (Decimal(1.1) would not).
        return Decimal(repr(value))
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return bool(left == right)


def _compare_values(left: Any, right: Any) -> int:
    """-1, 0 or 1 for sorting; null sorts first as in SQL Server and .NET."""
    if left is None or right is None:
        return (left is not None) - (right is not None)
    try:
        return int(left > right) - int(left < right)
    except InvalidOperation:  # NaN: no order, call it a tie
        return 0


# --- expressions ------------------------------------------------------------


class _Expr(ABC):
    edm: str

    @abstractmethod
    def evaluate(self, record: Mapping[str, Any]) -> Any: ...

    @abstractmethod
    def names(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class _Literal(_Expr):
    value: Any
    edm: str

    def evaluate(self, record: Mapping[str, Any]) -> Any:
        return self.value

    def names(self) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True)
class _Property(_Expr):
    name: str
    edm: str

    def evaluate(self, record: Mapping[str, Any]) -> Any:
        value = _normalize(record.get(self.name))
        if self.edm == GUID and isinstance(value, str):
            return value.lower()
        return value

    def names(self) -> frozenset[str]:
        return frozenset({self.name})


_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_COMPARISONS = frozenset({"eq", "ne", *_ORDERINGS})


@dataclass(frozen=True)
class _Compare(_Expr):
    op: str
    left: _Expr
    right: _Expr
    edm: str = BOOLEAN

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        left = self.left.evaluate(record)
        right = self.right.evaluate(record)
        if self.op == "eq":
            return _equal(left, right)
        if self.op == "ne":
            return not _equal(left, right)
        if left is None or right is None:
            return False
        try:
            return _ORDERINGS[self.op](left, right)
        except InvalidOperation:  # NaN compares false, as in IEEE
            return False

    def names(self) -> frozenset[str]:
        return self.left.names() | self.right.names()


@dataclass(frozen=True)
class _Logical(_Expr):
    op: str  # "and" or "or"
    left: _Expr
    right: _Expr
    edm: str = BOOLEAN

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        left = self.left.evaluate(record) is True
        if self.op == "and":
            return left and self.right.evaluate(record) is True
        return left or self.right.evaluate(record) is True

    def names(self) -> frozenset[str]:
        return self.left.names() | self.right.names()


@dataclass(frozen=True)
class _Not(_Expr):
    operand: _Expr
    edm: str = BOOLEAN

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        return self.operand.evaluate(record) is not True

    def names(self) -> frozenset[str]:
        return self.operand.names()


_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "substringof": lambda needle, haystack: needle in haystack,
    "startswith": str.startswith,
    "endswith": str.endswith,
}


@dataclass(frozen=True)
class _Call(_Expr):
    function: str
    first: _Expr
    second: _Expr
    edm: str = BOOLEAN

    def evaluate(self, record: Mapping[str, Any]) -> bool:
        first = self.first.evaluate(record)
        second = self.second.evaluate(record)
        if first is None or second is None:
            return False
        return _FUNCTIONS[self.function](first, second)

    def names(self) -> frozenset[str]:
        return self.first.names() | self.second.names()


def _family(edm: str) -> str:
    return "number" if edm in _NUMERIC else edm


def _comparable(left: _Expr, right: _Expr) -> bool:
    if isinstance(left, _Property) and isinstance(right, _Property):
        return False  # Exact has no field-against-field filters (API.md §6.4)
    if _NULL in (left.edm, right.edm):
        return True
    return _family(left.edm) == _family(right.edm)


def _boolean(expr: _Expr) -> _Expr:
    if expr.edm != BOOLEAN:
        raise _syntax_error()
    return expr


class _Parser:
    """Recursive descent over the tokens, one method per precedence level."""

    def __init__(self, tokens: list[_Token], properties: Mapping[str, str]) -> None:
        self._tokens = tokens
        self._index = 0
        self._properties = properties

    def parse(self) -> _Expr:
        expr = self._or()
        self._expect("end")
        return _boolean(expr)

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _advance(self) -> _Token:
        token = self._tokens[self._index]
        if token.kind != "end":
            self._index += 1
        return token

    def _expect(self, kind: str) -> None:
        if self._advance().kind != kind:
            raise _syntax_error()

    def _keyword(self, words: Collection[str]) -> str | None:
        token = self._peek()
        if token.kind == "ident" and token.text in words:
            self._index += 1
            return token.text
        return None

    def _or(self) -> _Expr:
        left = self._and()
        while self._keyword({"or"}):
            left = _Logical("or", _boolean(left), _boolean(self._and()))
        return left

    def _and(self) -> _Expr:
        left = self._comparison()
        while self._keyword({"and"}):
            left = _Logical("and", _boolean(left), _boolean(self._comparison()))
        return left

    def _comparison(self) -> _Expr:
        left = self._unary()
        while op := self._keyword(_COMPARISONS):
            right = self._unary()
            if not _comparable(left, right):
                raise _syntax_error()
            left = _Compare(op, left, right)
        return left

    def _unary(self) -> _Expr:
        if self._keyword({"not"}):
            return _Not(_boolean(self._unary()))
        return self._primary()

    def _primary(self) -> _Expr:
        token = self._advance()
        if token.kind == "(":
            expr = self._or()
            self._expect(")")
            return expr
        if token.kind == "literal":
            return _literal(token)
        if token.kind != "ident":
            raise _syntax_error()
        if token.text in ("true", "false"):
            return _Literal(token.text == "true", BOOLEAN)
        if token.text == "null":
            return _Literal(None, _NULL)
        if self._peek().kind == "(":
            return self._call(token.text)
        return self._property(token.text)

    def _property(self, name: str) -> _Property:
        edm = self._properties.get(name)
        if edm is None or edm not in _FILTERABLE:
            raise _syntax_error()
        return _Property(name, edm)

    def _call(self, name: str) -> _Call:
        if name not in _FUNCTIONS:
            raise _syntax_error()
        self._expect("(")
        first = self._or()
        self._expect(",")
        second = self._or()
        self._expect(")")
        if not all(arg.edm in (STRING, _NULL) for arg in (first, second)):
            raise _syntax_error()
        if isinstance(first, _Property) and isinstance(second, _Property):
            raise _syntax_error()
        return _Call(name, first, second)


def _literal(token: _Token) -> _Literal:
    limit = _INT_RANGES.get(token.edm)
    if limit is not None and not -limit <= token.value < limit:
        raise _unrecognized(token.edm, token.text, token.position)
    return _Literal(token.value, token.edm)


@dataclass(frozen=True)
class Filter:
    """A parsed `$filter`; `fields` names every property it references."""

    fields: frozenset[str]
    _root: _Expr = field(repr=False)

    def matches(self, record: Mapping[str, Any]) -> bool:
        return self._root.evaluate(record) is True


def parse_filter(text: str, properties: Mapping[str, str]) -> Filter:
    """Parse a `$filter` against the entity's property map (name → Edm type)."""
    if not text.strip():
        raise ODataError(EMPTY_FILTER)  # API.md §6.4, picqer PR #468
    root = _Parser(_tokenize(text), properties).parse()
    return Filter(fields=root.names(), _root=root)


# --- query options ----------------------------------------------------------

_OPTIONS = frozenset(
    {
        "$select",
        "$filter",
        "$top",
        "$skip",
        "$skiptoken",
        "$orderby",
        "$expand",
        "$inlinecount",
    }
)


@dataclass(frozen=True)
class Query:
    """The system query options of one collection GET, validated.

    `select` keeps `*` and `Nav/Field` entries as given (None: no `$select`),
    because the envelope rule of API.md §6.2 depends on `$select` being present.
    """

    select: tuple[str, ...] | None
    filter: Filter | None
    top: int | None
    skiptoken: str | None
    orderby: tuple[tuple[str, bool], ...]
    expand: frozenset[str]
    inlinecount: bool
    skip: int | None


def parse_query(
    params: Mapping[str, str],
    properties: Mapping[str, str],
    *,
    expandable: Collection[str] = (),
) -> Query:
    """Validate the `$` options of a request; other parameters are ignored."""
    for name in params:
        if name.startswith("$") and name not in _OPTIONS:
            # WCF Data Services' wording for an unknown system query option.
            raise ODataError(
                f"The query parameter '{name}' begins with a system-reserved '$' "
                "character but is not recognized."
            )
    expand = _parse_expand(params.get("$expand"), expandable)
    orderby = _parse_orderby(params.get("$orderby"), properties)
    raw_filter = params.get("$filter")
    skiptoken = params.get("$skiptoken")
    if skiptoken is not None:
        _parse_skiptoken(skiptoken, len(orderby))
    return Query(
        select=_parse_select(params.get("$select"), properties, expand, expandable),
        filter=None if raw_filter is None else parse_filter(raw_filter, properties),
        top=_parse_count(params.get("$top")),
        skiptoken=skiptoken,
        orderby=orderby,
        expand=expand,
        inlinecount=_parse_inlinecount(params.get("$inlinecount")),
        skip=_parse_count(params.get("$skip")),
    )


def _split(value: str) -> list[str]:
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise _syntax_error()  # "A,,B" or a trailing comma
    return items


def _parse_expand(value: str | None, expandable: Collection[str]) -> frozenset[str]:
    if value is None or not value.strip():
        return frozenset()
    items = _split(value)
    if any(item not in expandable for item in items):
        raise _syntax_error()
    return frozenset(items)


def _parse_select(
    value: str | None,
    properties: Mapping[str, str],
    expand: frozenset[str],
    expandable: Collection[str],
) -> tuple[str, ...] | None:
    if value is None or not value.strip():
        return None
    items = tuple(_split(value))
    for item in items:
        if not _selectable(item, properties, expand, expandable):
            raise _syntax_error()
    return items


def _selectable(
    item: str,
    properties: Mapping[str, str],
    expand: frozenset[str],
    expandable: Collection[str],
) -> bool:
    if item == "*" or item in properties:
        return True
    navigation, slash, rest = item.partition("/")
    if not slash:
        return item in expandable  # the link itself comes back as __deferred
    # WCF only lets $select reach into a navigation property that is expanded;
    # the line entity's own fields are the caller's to check.
    return navigation in expand and (rest == "*" or bool(_IDENT_RE.fullmatch(rest)))


def _parse_orderby(
    value: str | None, properties: Mapping[str, str]
) -> tuple[tuple[str, bool], ...]:
    if value is None or not value.strip():
        return ()
    return tuple(_orderby_item(item, properties) for item in _split(value))


def _orderby_item(item: str, properties: Mapping[str, str]) -> tuple[str, bool]:
    words = item.split()
    if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
        raise _syntax_error()
    if properties.get(words[0]) not in _FILTERABLE:
        raise _syntax_error()
    return words[0], words[-1] == "desc"


def _parse_count(value: str | None) -> int | None:
    if value is None:
        return None
    # Int32 like WCF; no sign, so negative values are refused as well.
    if not value.isascii() or not value.isdigit() or int(value) >= 2**31:
        raise _syntax_error()
    return int(value)


def _parse_inlinecount(value: str | None) -> bool:
    if value is None or value == "none":
        return False
    if value == "allpages":
        return True
    raise _syntax_error()


def _parse_skiptoken(text: str, orderby_count: int) -> list[Any]:
    """The literal values of a skip token: one per `$orderby` item, then the key.

    With the default order the token is just the key (`guid'…'` or an integer,
    API.md §6.3). With `$orderby` it carries the sort values first, as WCF Data
    Services does, so continuation survives changes to the data between pages.
    """
    tokens = _tokenize(text)[:-1]  # without "end"
    literals, separators = tokens[0::2], tokens[1::2]
    if len(tokens) % 2 == 0 or any(token.kind != "," for token in separators):
        raise _syntax_error()  # empty, or not "literal(,literal)*"
    if len(literals) != orderby_count + 1:
        raise _syntax_error()
    if literals[-1].edm not in (GUID, INT32, INT64, STRING):
        raise _syntax_error()
    return [_skiptoken_value(token) for token in literals]


def _skiptoken_value(token: _Token) -> Any:
    if token.kind == "literal":
        return token.value
    if token.kind == "ident" and token.text in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[token.text]
    raise _syntax_error()


def _format_literal(value: Any) -> str:
    """A value as a URI literal that `_parse_skiptoken` reads back."""
    value = _normalize(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return f"{value:f}M"
    if isinstance(value, datetime):
        return f"datetime'{value.isoformat()}'"
    if isinstance(value, str):
        if _CANONICAL_GUID_RE.fullmatch(value):
            return f"guid'{value}'"
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no OData literal for {type(value).__name__}")


# --- paging -----------------------------------------------------------------


@dataclass(frozen=True)
class _Ordering:
    """The total order of a collection: `$orderby` items, then the key."""

    orderby: tuple[tuple[str, bool], ...]
    key: str

    def values(self, record: Mapping[str, Any]) -> list[Any]:
        values = [_normalize(record.get(name)) for name, _ in self.orderby]
        return [*values, _normalize(record[self.key])]

    def compare(self, left: Sequence[Any], right: Sequence[Any]) -> int:
        directions = [descending for _, descending in self.orderby] + [False]
        for a, b, descending in zip(left, right, directions, strict=True):
            result = _compare_values(a, b)
            if result:
                return -result if descending else result
        return 0

    def token(self, record: Mapping[str, Any]) -> str:
        return ",".join(_format_literal(value) for value in self.values(record))


def page(
    records: Sequence[Mapping[str, Any]],
    query: Query,
    *,
    key: str,
    page_size: int,
) -> tuple[list[Mapping[str, Any]], str | None, int]:
    """One page of `records`: (rows, next skip token or None, count after filter).

    Order of work as in WCF: filter, order (by key when no `$orderby`), resume
    after the skip token, `$skip`, then `$top` capped at the page size. When a
    skip token is returned the caller builds `__next` from the request with that
    `$skiptoken`, without `$skip`, and with `$top` lowered by the rows returned.
    """
    if page_size < 1:
        raise ValueError("page_size must be positive")
    matching = [r for r in records if query.filter is None or query.filter.matches(r)]
    ordering = _Ordering(query.orderby, key)
    rank = functools.cmp_to_key(ordering.compare)
    ranked = sorted(
        ((ordering.values(r), r) for r in matching), key=lambda item: rank(item[0])
    )
    if query.skiptoken is not None:
        ranked = _after_token(ranked, ordering, query.skiptoken)
    remaining = [record for _, record in ranked][query.skip or 0 :]
    size = page_size if query.top is None else min(query.top, page_size)
    rows = remaining[:size]
    more = len(remaining) > len(rows) and (query.top is None or query.top > len(rows))
    next_token = ordering.token(rows[-1]) if more and rows else None
    return rows, next_token, len(matching)


def _after_token(
    ranked: list[tuple[list[Any], Mapping[str, Any]]],
    ordering: _Ordering,
    skiptoken: str,
) -> list[tuple[list[Any], Mapping[str, Any]]]:
    # Compare positions, not identities, so a deleted last row does not matter.
    token = _parse_skiptoken(skiptoken, len(ordering.orderby))
    try:
        return [item for item in ranked if ordering.compare(item[0], token) > 0]
    except TypeError:  # e.g. guid'…' against integer keys
        raise _syntax_error() from None


def use_bare_array(query: Query, page_size: int) -> bool:
    """API.md §6.2: `{"d": […]}` for a small `$top` without v2 options."""
    return (
        query.select is None
        and not query.inlinecount
        and query.top is not None
        and query.top <= page_size
    )


def collection_body(
    rows: list[dict[str, Any]],
    *,
    next_url: str | None,
    count: int | None,
    bare: bool,
) -> dict[str, Any]:
    """The JSON body of a collection GET (API.md §6.2)."""
    if bare:
        if next_url is not None or count is not None:
            # The bare form has nowhere to put them; dropping __next loses rows.
            raise ValueError("the bare array form has no __next or __count")
        return {"d": rows}
    body: dict[str, Any] = {}
    if count is not None:
        body["__count"] = str(count)  # a string in verbose OData JSON
    body["results"] = rows
    if next_url is not None:
        body["__next"] = next_url
    return {"d": body}


def project(
    record: Mapping[str, Any], select: tuple[str, ...] | None
) -> dict[str, Any]:
    """The top-level fields `select` names, in record order; all for None or `*`.

    `Nav/Field` entries are left to the caller; `__metadata` and other `__`
    entries always stay, as Exact returns them whatever `$select` says.
    """
    if select is None or "*" in select:
        return dict(record)
    chosen = {item for item in select if "/" not in item}
    return {
        name: value
        for name, value in record.items()
        if name in chosen or name.startswith("__")
    }


# --- dates ------------------------------------------------------------------


def format_datetime(value: date | datetime | None) -> str | None:
    """`/Date(ms)/` of a naive local wall-clock value written as if UTC (§6.5)."""
    if value is None:
        return None
    moment = _normalize(value)
    if moment.tzinfo is not None:
        raise ValueError("sandbox date-times are naive Exact local time")
    delta = moment - _EPOCH
    millis = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return f"/Date({millis})/"


def parse_datetime(value: Any) -> datetime:
    """A naive datetime from the forms clients send (API.md §6.5).

    A trailing `Z` is dropped without conversion: clients "pretend we're in
    UTC" for what is Exact's local time. Other offsets are refused.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("sandbox date-times are naive Exact local time")
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if not isinstance(value, str):
        raise ValueError(f"not a date-time: {value!r}")
    wire = _WIRE_DATE_RE.fullmatch(value)
    if wire:
        try:
            return _EPOCH + timedelta(milliseconds=int(wire.group(1)))
        except OverflowError:
            raise ValueError(f"date-time out of range: {value!r}") from None
    moment = _parse_iso(value, allow_utc_marker=True)
    if moment is None:
        raise ValueError(f"not a date-time: {value!r}")
    return moment


def _parse_iso(text: str, *, allow_utc_marker: bool) -> datetime | None:
    match = _ISO_RE.fullmatch(text)
    if not match or (match.group(8) and not allow_utc_marker):
        return None
    year, month, day, hour, minute, second, fraction, _ = match.groups()
    # .NET keeps 7 fractional digits; Python has microseconds, so cut the 7th.
    micro = int((fraction or "")[:6].ljust(6, "0"))
    try:
        return datetime.combine(
            date(int(year), int(month), int(day)),
            time(int(hour or 0), int(minute or 0), int(second or 0), micro),
        )
    except ValueError:
        return None


# --- errors -----------------------------------------------------------------


def error_body(message: str) -> dict[str, Any]:
    """Exact's error JSON (API.md §6.7); `code` and `lang` are always empty."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def error_bytes(message: str) -> bytes:
    """`error_body` laid out the way Exact's server writes it: CRLF, no indent."""
    value = json.dumps(message, ensure_ascii=False)
    text = (
        '{\r\n"error": {\r\n"code": "", "message": {\r\n'
        f'"lang": "", "value": {value}\r\n'
        "}\r\n}\r\n}"
    )
    return text.encode("utf-8")
