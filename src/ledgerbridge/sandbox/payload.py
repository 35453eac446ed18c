"""Reading a POST or PUT body the way Exact's WCF data service does.

Unknown properties and values of the wrong type are refused with HTTP 400
and the data service's "Error processing request stream" texts (API.md
§6.7); read-only properties are dropped silently (§6.6: a line sent with
only `AmountDC` books zero); malformed GUIDs are a business error (§6.8).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ledgerbridge.sandbox.errors import BusinessError, ExactError, text
from ledgerbridge.sandbox.odata import parse_datetime
from ledgerbridge.sandbox.resources import MODEL_PREFIX, Entity

GUID = re.compile(r"^\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?$")
STREAM = "Error processing request stream. "

_CLR_TYPES = {
    "Edm.Guid": "System.Guid",
    "Edm.String": "System.String",
    "Edm.Int16": "System.Int16",
    "Edm.Int32": "System.Int32",
    "Edm.Int64": "System.Int64",
    "Edm.Double": "System.Double",
    "Edm.Boolean": "System.Boolean",
    "Edm.DateTime": "System.DateTime",
    "Edm.Binary": "System.Byte[]",
}


def top_level_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ExactError(
            400, STREAM + "The request should be a valid top-level resource object."
        )
    return body


def read(
    body: Mapping[str, Any],
    entity: Entity,
    language: str,
    *,
    navigation: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The writable properties of `body`, converted; navigation lists kept."""
    values: dict[str, Any] = {}
    for name, raw in body.items():
        if name in navigation:
            values[name] = raw
            continue
        spec = entity.fields.get(name)
        if spec is None:
            raise ExactError(
                400,
                STREAM + f"The property '{name}' does not exist on type "
                f"'{MODEL_PREFIX}{entity.name}'. Make sure to only use property "
                "names that are defined by the type.",
            )
        if spec.read_only and name != entity.key:
            continue
        values[name] = convert(name, spec.edm, raw, language)
    return values


def convert(name: str, edm: str, raw: Any, language: str) -> Any:
    if raw is None:
        return None
    try:
        return _CONVERTERS[edm](raw, language)
    except (ValueError, TypeError, InvalidOperation, binascii.Error) as exc:
        # UnicodeEncodeError is a ValueError
        raise ExactError(
            400,
            STREAM + "Error encountered in converting the value from request "
            f"payload for property '{name}' to type '{_CLR_TYPES[edm]}', which is "
            "the property's expected type. See inner exception for more detail.",
        ) from exc


def _guid(raw: Any, language: str) -> str:
    if not isinstance(raw, str):
        raise TypeError("not a guid")
    if not GUID.match(raw):
        raise BusinessError([text("guid_format", language)])
    return raw.strip("{}").lower()


def _string(raw: Any, _language: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise TypeError("not a string")
    text = str(raw)
    text.encode("utf-8")  # a lone surrogate cannot be stored or answered
    return text


def _integer(raw: Any, _language: str) -> int:
    if isinstance(raw, bool):
        raise TypeError("not an integer")
    if isinstance(raw, (float, Decimal)) and raw != int(raw):
        raise ValueError("not an integer")
    return int(raw)


def _double(raw: Any, _language: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise TypeError("not a number")
    value = Decimal(str(raw))
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value


def _boolean(raw: Any, _language: str) -> bool:
    if not isinstance(raw, bool):
        raise TypeError("not a boolean")
    return raw


def _binary(raw: Any, _language: str) -> bytes:
    if not isinstance(raw, str):
        raise TypeError("not base64")
    return base64.b64decode(raw, validate=True)


_CONVERTERS = {
    "Edm.Guid": _guid,
    "Edm.String": _string,
    "Edm.Int16": _integer,
    "Edm.Int32": _integer,
    "Edm.Int64": _integer,
    "Edm.Double": _double,
    "Edm.Boolean": _boolean,
    "Edm.DateTime": lambda raw, _language: parse_datetime(raw),
    "Edm.Binary": _binary,
}
