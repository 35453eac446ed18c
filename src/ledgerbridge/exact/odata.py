"""Exact's OData on the client side: filter literals, padded codes, values
and envelopes (API.md §6.2-§6.5, §7.1, §10).

* Literals for `$filter` (§6.4): `guid'…'` lower-case, `datetime'…'` naive
  in Exact's local time, `123L` for Int64, strings in single quotes with
  embedded quotes doubled.
* Account codes are stored 18 characters wide, right-aligned, and must be
  filtered padded (§7.1, §10.1).
* `/Date(ms)/` is Exact's local wall clock written as if it were UTC, so it
  becomes a naive date-time, never shifted (§6.5, §10.15).
* Amounts become `Decimal`, floats through `str()` so 151.86 stays 151.86.
* Answers come as `{"d": {"results": […], "__next": url}}`, bare
  `{"d": […]}` or one entity `{"d": {…}}` (§6.2); pages are followed through
  `__next`, one after another, never in parallel (§6.3, §10.20).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

ACCOUNT_CODE_WIDTH = 18
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - Exact's dates are naive wall clock
_DATE_MS = re.compile(r"/Date\((-?\d+)\)/")


class UnexpectedPayload(ValueError):
    """An answer that is not in any shape Exact is known to send."""


class PagingLoop(UnexpectedPayload):
    """`__next` pointed at a page that was already fetched."""


# Literals for $filter (§6.4)


def guid(value: str | uuid.UUID) -> str:
    """`guid'3c534e79-c4fe-44d2-9765-00b30573c2de'`: lower-case, no braces.

    Accepts a `UUID` or its text with or without braces or hyphens; raises
    `ValueError` for anything else.
    """
    if isinstance(value, uuid.UUID):
        parsed = value
    else:
        try:
            parsed = uuid.UUID(value.strip())
        except (ValueError, AttributeError):
            raise ValueError(f"not a GUID: {value!r}") from None
    return f"guid'{parsed}'"


def datetime_literal(value: date | datetime) -> str:
    """`datetime'2024-01-01T00:00:00'`, read by Exact in its local time.

    A date is its midnight. An aware date-time is refused: Exact has no zone
    in its literals, so the caller converts to the division's local time
    first. Sub-second parts are cut to milliseconds, Exact's precision.
    """
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            raise ValueError(
                f"{value.isoformat()} carries a time zone; Exact reads datetime "
                "literals as its local wall clock, so pass a naive local date-time"
            )
        moment = value
    else:
        moment = datetime(value.year, value.month, value.day)  # noqa: DTZ001
    spec = "milliseconds" if moment.microsecond else "seconds"
    return f"datetime'{moment.isoformat(timespec=spec)}'"


def int64(n: int) -> str:
    """`53402735L`: an Int64 literal, as sync `Timestamp` filters need (§8)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"an Int64 literal needs an int, not {n!r}")
    if not INT64_MIN <= n <= INT64_MAX:
        raise ValueError(f"{n} does not fit in an Int64")
    return f"{n}L"


def string(s: str) -> str:
    """`'O''Brien'`: single quotes, an embedded quote doubled."""
    if not isinstance(s, str):
        raise TypeError(f"a string literal needs a str, not {s!r}")
    return "'" + s.replace("'", "''") + "'"


# Padded codes (§6.5, §7.1)


def pad_account_code(code: str) -> str:
    """An account code as Exact stores it: right-aligned in 18 characters.

    Surrounding spaces are dropped first, so padding a padded code changes
    nothing; an empty code or one longer than 18 characters is refused.
    """
    bare = code.strip()
    if not bare:
        raise ValueError("an account code cannot be empty")
    if len(bare) > ACCOUNT_CODE_WIDTH:
        raise ValueError(
            f"account code {bare!r} is {len(bare)} characters; Exact allows "
            f"{ACCOUNT_CODE_WIDTH}"
        )
    return bare.rjust(ACCOUNT_CODE_WIDTH)


def unpad(code: str) -> str:
    """A code without Exact's padding: `"           255"` → `"255"`,
    `"VN "` → `"VN"`."""
    return code.strip()


# Values in answers (§6.5)


def parse_date(value: str | None) -> datetime | None:
    """A date-time from Exact, naive, as Exact's local wall clock.

    `/Date(1723420800000)/` is milliseconds from 1970 of the local time
    written as if it were UTC, so 2024-08-12T00:00:00 (negative values are
    before 1970). ISO text (`2024-08-12`, `2024-08-12T10:00:00Z`) is read
    the same way: a `Z` is dropped, not applied ("pretend we're in UTC").
    Any other offset is refused rather than guessed at. None or "" → None.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _DATE_MS.fullmatch(text)
    try:
        if match is not None:
            return _EPOCH + timedelta(milliseconds=int(match.group(1)))
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise ValueError(f"not a date Exact sends: {value!r}") from None
    if moment.utcoffset() not in (None, timedelta(0)):
        raise ValueError(f"a date with an offset other than UTC: {value!r}")
    return moment.replace(tzinfo=None)


def to_decimal(value: Any) -> Decimal | None:
    """An amount as `Decimal`: from a JSON number, a numeric string or a
    Decimal; None and "" → None. Floats go through `str()`, so 151.86
    stays 151.86. Booleans, NaN and infinities are refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not an amount: {value!r}")
        result = Decimal(str(value))
    elif isinstance(value, str):
        if not value.strip():
            return None
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    else:
        raise TypeError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return result


# Envelopes and pages (§6.2, §6.3)


def unwrap(payload: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of an answer and the URL of the next page (None on the last).

    Takes `{"d": {"results": […], "__next": url}}`, the bare `{"d": […]}`
    and a single entity `{"d": {…}}` (one row); raises `UnexpectedPayload`
    for anything else.
    """
    if not isinstance(payload, dict) or "d" not in payload:
        raise UnexpectedPayload(f"no OData envelope 'd' in {_sample(payload)}")
    envelope = payload["d"]
    next_url: Any = None
    if isinstance(envelope, list):
        rows: Any = envelope
    elif isinstance(envelope, dict) and isinstance(envelope.get("results"), list):
        rows = envelope["results"]
        next_url = envelope.get("__next")
    elif isinstance(envelope, dict):
        rows = [envelope]
    else:
        raise UnexpectedPayload(
            f"'d' holds neither rows nor an entity: {_sample(payload)}"
        )

    if not all(isinstance(row, dict) for row in rows):
        raise UnexpectedPayload(f"rows that are not objects in {_sample(payload)}")
    if next_url is not None and not isinstance(next_url, str):
        raise UnexpectedPayload(f"'__next' is not a URL: {next_url!r}")
    return list(rows), next_url or None


def unwrap_one(payload: Any) -> dict[str, Any]:
    """The one entity of an answer (`{"d": {…}}`, or a one-row list as
    `current/Me` sends); raises `UnexpectedPayload` for none or several."""
    rows, _ = unwrap(payload)
    if len(rows) != 1:
        raise UnexpectedPayload(f"expected one entity, got {len(rows)}")
    return rows[0]


def pages(fetch: Callable[[str | None], Any]) -> Iterator[list[dict[str, Any]]]:
    """Each page of a collection, fetched one after another (§6.3).

    `fetch(None)` gives the first page, `fetch(url)` the page `__next`
    named; the next page is fetched only when the caller asks for it. A
    `__next` seen before raises `PagingLoop` instead of looping forever.
    """
    seen: set[str] = set()
    url: str | None = None
    while True:
        rows, next_url = unwrap(fetch(url))
        yield rows
        if next_url is None:
            return
        if next_url in seen:
            raise PagingLoop(f"'__next' repeats a page already fetched: {next_url}")
        seen.add(next_url)
        url = next_url


def _sample(payload: Any) -> str:
    text = repr(payload)
    return text if len(text) <= 200 else f"{text[:200]}…"
