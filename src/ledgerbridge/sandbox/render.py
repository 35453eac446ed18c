"""Turning records into Exact's verbose OData JSON (API.md §6.2, §6.5)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.sandbox.odata import format_datetime
from ledgerbridge.sandbox.resources import MODEL_PREFIX, Entity


def key_literal(entity: Entity, value: Any) -> str:
    """How a key appears in a URL: `guid'...'` or a bare number."""
    if entity.fields[entity.key].edm == "Edm.Guid":
        return f"guid'{value}'"
    return str(value)


def value(raw: Any) -> Any:
    if isinstance(raw, Decimal):
        return float(raw)
    if isinstance(raw, datetime):
        return format_datetime(raw)
    return raw


def entity_json(
    record: Mapping[str, Any],
    entity: Entity,
    collection_url: str,
    *,
    select: tuple[str, ...] | None = None,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One record with `__metadata`, deferred or expanded lines, and only
    the selected fields."""
    uri = f"{collection_url}({key_literal(entity, record[entity.key])})"
    wanted = None if select is None else {s for s in select if "/" not in s}
    body: dict[str, Any] = {
        "__metadata": {"uri": uri, "type": MODEL_PREFIX + entity.name}
    }
    for name in entity.fields:
        if name == entity.lines:
            continue
        if wanted is not None and "*" not in wanted and name not in wanted:
            continue
        body[name] = value(record.get(name))
    if entity.lines and (
        wanted is None or "*" in wanted or entity.lines in wanted or lines is not None
    ):
        if lines is None:
            body[entity.lines] = {"__deferred": {"uri": f"{uri}/{entity.lines}"}}
        else:
            body[entity.lines] = {"results": lines}
    return body
