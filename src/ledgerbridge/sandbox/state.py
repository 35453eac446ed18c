"""What the sandbox holds: divisions with their records, kept in memory and,
with a state file, in SQLite so a demo survives a restart.

Records are plain dicts keyed by Exact's field names, holding Python values:
GUIDs as lower-case strings, amounts as `Decimal`, dates as naive `datetime`
in the division's local time (API.md §6.5). `api.py` renders them.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ledgerbridge.sandbox.clock import Clock

Record = dict[str, Any]

COLLECTIONS = (
    "accounts",
    "gl_accounts",
    "vat_codes",
    "journals",
    "payment_conditions",
    "sales_entries",
    "sales_lines",
    "purchase_entries",
    "purchase_lines",
    "documents",
    "attachments",
    "receivables",
    "payables",
    "receivables_list",
    "payables_list",
    "transaction_lines",
    "payment_terms",
    "deleted",
)

TEMPLATES = {"BE": ("Europe/Brussels", 1), "NL": ("Europe/Amsterdam", 2)}
"""Template -> (time zone, Legislation code of current/Me)."""

GL_TYPE_NAMES = {
    10: "Cash",
    12: "Bank",
    20: "Accounts receivable",
    22: "Accounts payable",
    24: "VAT",
    27: "Accrued expenses",
    90: "General",
    110: "Revenue",
    111: "Cost of goods",
    120: "Other costs",
}


_guids = random.Random()  # noqa: S311 - record ids, not secrets


def new_guid() -> str:
    """A version 4 GUID for a record. Not `uuid4()`: its `os.urandom` call
    was a fifth of a POST's time, and record ids need no secrecy (tokens
    and codes come from `secrets`)."""
    return str(uuid.UUID(int=_guids.getrandbits(128), version=4))


@dataclass
class Division:
    code: int
    name: str
    template: str
    currency: str
    time_zone: str
    collections: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {name: {} for name in COLLECTIONS}
    )
    minutely_limit: int = 60
    daily_limit: int = 5000
    open_years: set[int] = field(default_factory=set)
    closed_periods: set[tuple[int, int]] = field(default_factory=set)
    sequences: dict[str, int] = field(default_factory=dict)
    timestamp: int = 0
    hid: int = 0
    _numbers: dict[str, set[tuple[Any, Any]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """Entries' collection -> their (Journal, EntryNumber): an index beside
    the records, derived from them, never saved."""

    def records(self, collection: str) -> dict[str, Record]:
        return self.collections[collection]

    def entry_numbers(self, collection: str) -> set[tuple[Any, Any]]:
        """The (Journal, EntryNumber) pairs in use in `collection`. Checking
        a new number against every entry made a POST slower with each entry
        booked; the index is built again whenever its size says it missed a
        change (records loaded from a state file, or set by hand)."""
        numbers = self._numbers.get(collection)
        entries = self.collections[collection]
        if numbers is None or len(numbers) != len(entries):
            numbers = {
                (e.get("Journal"), e.get("EntryNumber")) for e in entries.values()
            }
            self._numbers[collection] = numbers
        return numbers

    def local_now(self, clock: Clock) -> datetime:
        """Exact's wall-clock time for this division, naive (API.md §6.5)."""
        return clock.now().astimezone(ZoneInfo(self.time_zone)).replace(tzinfo=None)

    def next_timestamp(self) -> int:
        """The sync row version: one counter per division, always growing."""
        self.timestamp += 1
        return self.timestamp

    def next_hid(self) -> int:
        self.hid += 1
        return self.hid

    def find(self, collection: str, **where: Any) -> Iterator[Record]:
        for record in self.collections[collection].values():
            if all(record.get(k) == v for k, v in where.items()):
                yield record

    def first(self, collection: str, **where: Any) -> Record | None:
        return next(self.find(collection, **where), None)

    def utc_offset_seconds(self, clock: Clock) -> float:
        offset = clock.now().astimezone(ZoneInfo(self.time_zone)).utcoffset()
        return offset.total_seconds() if offset else 0.0


def create_division(code: int, template: str, name: str, clock: Clock) -> Division:
    """A division with the template's chart, VAT codes, journals, payment
    conditions, and open periods for this year and the previous one."""
    time_zone, _ = TEMPLATES[template]
    chart = _templates()[template]
    division = Division(code, name, template, chart["currency"], time_zone)
    now = division.local_now(clock)
    division.open_years = {now.year - 1, now.year}

    gl_by_code: dict[str, str] = {}
    for row in chart["gl_accounts"]:
        guid = new_guid()
        gl_by_code[row["Code"]] = guid
        division.records("gl_accounts")[guid] = {
            **row,
            "ID": guid,
            "VATCode": _pad_vat(row.get("VATCode")),
            "TypeDescription": row.get("TypeDescription")
            or GL_TYPE_NAMES.get(row["Type"], ""),
            "Division": code,
            "Created": now,
            "Modified": now,
        }
    for row in chart["vat_codes"]:
        guid = new_guid()
        fields = {k: v for k, v in row.items() if not k.endswith("Code")}
        division.records("vat_codes")[guid] = {
            **fields,
            "ID": guid,
            "Code": _pad_vat(row["Code"]),
            "Percentage": Decimal(str(row["Percentage"])),
            "GLToPay": gl_by_code.get(row.get("GLToPayCode") or ""),
            "GLToClaim": gl_by_code.get(row.get("GLToClaimCode") or ""),
            "Division": code,
            "Created": now,
            "Modified": now,
        }
    for row in chart["journals"]:
        guid = new_guid()
        division.records("journals")[guid] = {
            "ID": guid,
            "Code": row["Code"],
            "Description": row["Description"],
            "Type": row["Type"],
            "GLAccount": gl_by_code.get(row.get("GLAccountCode") or ""),
            "AllowVAT": row.get("AllowVAT", False),
            "AllowVariableCurrency": row.get("AllowVariableCurrency", False),
            "Currency": row.get("Currency") or chart["currency"],
            "IsBlocked": row.get("IsBlocked", False),
            "Division": code,
        }
    for row in chart["payment_conditions"]:
        guid = new_guid()
        division.records("payment_conditions")[guid] = {
            **row,
            "ID": guid,
            "DiscountPercentage": Decimal(str(row.get("DiscountPercentage", 0))),
            "Division": code,
        }
    return division


def _pad_vat(code: str | None) -> str | None:
    """VAT codes come back left-aligned in three characters (API.md §6.5)."""
    return None if code is None else code.strip().ljust(3)


_TEMPLATE_CACHE: dict[str, Any] = {}


def _templates() -> dict[str, Any]:
    if not _TEMPLATE_CACHE:
        text = (resources.files(__package__) / "templates.json").read_text("utf-8")
        _TEMPLATE_CACHE.update(json.loads(text))
    return _TEMPLATE_CACHE


# Persistence


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, (set, frozenset)):
        return {"$set": [_encode(v) for v in sorted(value)]}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$dec" in value:
            return Decimal(value["$dec"])
        if "$set" in value:
            return {_decode(v) for v in value["$set"]}
        if "$tuple" in value:
            return tuple(_decode(v) for v in value["$tuple"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def division_to_json(division: Division) -> str:
    data = {
        "code": division.code,
        "name": division.name,
        "template": division.template,
        "currency": division.currency,
        "time_zone": division.time_zone,
        "collections": division.collections,
        "minutely_limit": division.minutely_limit,
        "daily_limit": division.daily_limit,
        "open_years": division.open_years,
        "closed_periods": division.closed_periods,
        "sequences": division.sequences,
        "timestamp": division.timestamp,
        "hid": division.hid,
    }
    return json.dumps(_encode(data), separators=(",", ":"))


def division_from_json(text: str) -> Division:
    data = _decode(json.loads(text))
    return Division(**data)


class StateFile:
    """The sandbox's state in one SQLite file: a row per division, one for
    the OAuth server, one for the rest; only what changed is rewritten."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT)"
        )
        self._db.commit()

    def load(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM state").fetchall())

    def save(self, values: dict[str, str | None]) -> None:
        with self._db:
            for key, value in values.items():
                if value is None:
                    self._db.execute("DELETE FROM state WHERE key = ?", (key,))
                else:
                    self._db.execute(
                        "INSERT INTO state (key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (key, value),
                    )

    def close(self) -> None:
        self._db.close()
