"""The Exact Online REST API under /api/v1, as Exact serves it.

One ASGI endpoint takes every call, and in order: checks the bearer token
(401), the division grant (403 `NoDivisionAccess`), the rate limits (429)
and the error budget, applies any injected fault, then reads, writes or
refuses as Exact would (API.md §3-§8).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import anyio
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from ledgerbridge.sandbox import ledger, payload
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.sandbox.errors import ExactError, bad_request
from ledgerbridge.sandbox.ledger import PURCHASE, SALES, SIDES, Context
from ledgerbridge.sandbox.oauth import AuthError, Grant
from ledgerbridge.sandbox.odata import (
    ODataError,
    Query,
    collection_body,
    error_bytes,
    page,
    parse_query,
    use_bare_array,
)
from ledgerbridge.sandbox.render import entity_json
from ledgerbridge.sandbox.resources import ENDPOINTS, ENTITIES, Endpoint, Entity
from ledgerbridge.sandbox.state import Division, Record

KEYED = re.compile(
    r"^(?P<path>[A-Za-z/]+?)"
    r"(?:\((?P<key>[^)]*)\)(?P<rest>/[A-Za-z]+)?|(?P<count>/\$count))?$"
)
JSON_TYPE = "application/json;charset=utf-8"
DELETED_TYPES = {"accounts": 2, "documents": 6, "attachments": 4}


class ConnectionDropped(Exception):
    """Raised after a response was started: the connection ends mid-answer,
    like a load balancer cutting it (fault `drop_after_commit`)."""


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = JSON_TYPE
    drop: bool = False
    delay_seconds: float = 0.0


def json_answer(status: int, data: Any) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode())


def error_answer(error: ExactError) -> Answer:
    if error.status == 429:
        return Answer(429, b"", dict(error.headers), content_type=None)
    if error.status == 401:
        return Answer(401, b"", dict(error.headers), content_type=None)
    if error.status == 403:
        return Answer(403, b"Forbidden", dict(error.headers), "text/plain")
    return Answer(error.status, error_bytes(error.message), dict(error.headers))


class ExactApi:
    """The ASGI app behind /api/v1/{path}."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        answer = self.handle(request, body)
        if answer.delay_seconds:
            await anyio.sleep(answer.delay_seconds)
        headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        if answer.content_type:
            headers.append((b"content-type", answer.content_type.encode()))
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": headers}
        )
        if answer.drop:
            raise ConnectionDropped(
                "the sandbox dropped the connection after committing"
            )
        await send({"type": "http.response.body", "body": answer.body})

    def handle(self, request: Request, body: bytes) -> Answer:
        path = request.path_params.get("rest", "")
        method = request.method
        try:
            grant = self.sandbox.oauth.authenticate(
                request.headers.get("authorization")
            )
        except AuthError as exc:
            return Answer(401, b"", {"WWW-Authenticate": exc.www_authenticate}, None)

        if path.rstrip("/") == "current/Me":
            return self._me(request, grant)

        division_text, _, resource = path.partition("/")
        if not division_text.isdigit():
            return error_answer(ExactError(404, "Not found"))
        code = int(division_text)
        with self.sandbox.lock:
            division = self.sandbox.divisions.get(code)
            is_listing = resource.startswith("system/Divisions")
            if not is_listing and (division is None or code not in grant.divisions):
                return error_answer(
                    ExactError(403, "Forbidden", {"Reason": "NoDivisionAccess"})
                )
            return self._division_call(
                request, body, grant, code, division, resource, method
            )

    def _division_call(
        self,
        request: Request,
        body: bytes,
        grant: Grant,
        code: int,
        division: Division | None,
        resource: str,
        method: str,
    ) -> Answer:
        sandbox = self.sandbox
        stats = sandbox.stats_for(code)
        match = KEYED.match(resource)
        endpoint_path = match.group("path") if match else resource
        label = f"{method} {endpoint_path}"
        minutely = division.minutely_limit if division else 60
        daily = division.daily_limit if division else 5000
        try:
            rate_headers = sandbox.limits.admit(grant.client_id, code, minutely, daily)
        except ExactError as limited:
            stats.rate_limited += 1
            return error_answer(limited)
        stats.calls += 1
        stats.by_endpoint[label] += 1

        try:
            sandbox.limits.check_error_budget(grant.client_id, code, endpoint_path)
            answer = self._faulted_or_served(
                request, body, grant, code, division, resource, method, endpoint_path
            )
        except ExactError as error:
            answer = error_answer(error)
        except ODataError as error:
            answer = error_answer(bad_request(error.message))
        if answer.status >= 400:
            stats.errors += 1
        sandbox.limits.record_status(
            grant.client_id, code, endpoint_path, answer.status
        )
        answer.headers.update(rate_headers)
        return answer

    def _faulted_or_served(
        self,
        request: Request,
        body: bytes,
        grant: Grant,
        code: int,
        division: Division | None,
        resource: str,
        method: str,
        endpoint_path: str,
    ) -> Answer:
        fault = self.sandbox.take_fault(endpoint_path, method)
        if fault is not None and fault.kind == "error_500":
            return Answer(
                500, b"<html><body>Internal Server Error</body></html>", {}, "text/html"
            )
        if fault is not None and fault.kind == "error_503":
            return Answer(
                503, b"<html><body>Service Unavailable</body></html>", {}, "text/html"
            )

        if not _accepts_json(request):
            answer = Answer(
                200, _ATOM, {}, "application/atom+xml;type=feed;charset=utf-8"
            )
        else:
            answer = self._serve(request, body, grant, code, division, resource, method)

        if fault is not None and fault.kind == "drop_after_commit":
            answer.drop = True
        elif fault is not None and fault.kind in ("timeout", "slow"):
            answer.delay_seconds = fault.delay_seconds
        return answer

    # Serving

    def _serve(
        self,
        request: Request,
        body: bytes,
        grant: Grant,
        code: int,
        division: Division | None,
        resource: str,
        method: str,
    ) -> Answer:
        match = KEYED.match(resource)
        if match is None:
            raise bad_request()
        path, key = match.group("path"), match.group("key")
        rest = match.group("rest") or match.group("count")
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            raise ExactError(404, self._not_found(grant))
        if method not in endpoint.methods:
            raise ExactError(405, "Method Not Allowed")
        entity = ENTITIES[endpoint.entity]
        base = _base_url(request)
        collection_url = f"{base}/api/v1/{code}/{path}"
        language = self._language(grant)

        if endpoint.collection == "divisions":
            return self._divisions(request, grant, collection_url)
        assert division is not None
        ctx = Context(division, language, division.local_now(self.sandbox.clock))

        if method == "GET":
            if key is None:
                if rest == "/$count":
                    return self._count(request, division, endpoint, entity)
                return self._list(request, division, endpoint, entity, collection_url)
            record = self._by_key(division, endpoint, entity, key, grant)
            if rest == f"/{entity.lines}" and entity.lines:
                return self._lines_of(request, division, entity, record, collection_url)
            if rest:
                raise bad_request()
            query = parse_query(
                _system_options(request), entity.types, expandable=_expandable(entity)
            )
            return json_answer(
                200,
                {"d": self._render(division, entity, record, collection_url, query)},
            )

        if method == "POST":
            if key is not None:
                raise bad_request()
            record = self._create(ctx, endpoint, entity, _json_body(body), base)
            self.sandbox.save(divisions=[code])
            query = Query(None, None, None, None, (), frozenset(), False, None)
            return json_answer(
                201,
                {"d": self._render(division, entity, record, collection_url, query)},
            )

        if key is None or rest:
            raise bad_request()
        guid = self._by_key(division, endpoint, entity, key, grant)[entity.key]
        if method == "PUT":
            self._update(ctx, endpoint, entity, str(guid), _json_body(body))
        else:
            self._delete(ctx, endpoint, str(guid))
        self.sandbox.save(divisions=[code])
        return Answer(204, b"", {}, None)

    def _list(
        self,
        request: Request,
        division: Division,
        endpoint: Endpoint,
        entity: Entity,
        collection_url: str,
    ) -> Answer:
        options = _system_options(request)
        query = parse_query(options, entity.types, expandable=_expandable(entity))
        _check_restrictions(endpoint, query, options)
        records = _records(division, endpoint)
        rows, next_token, count = page(
            records, query, key=entity.key, page_size=endpoint.page_size
        )
        rendered = [
            self._render(division, entity, r, collection_url, query) for r in rows
        ]
        next_url = None
        if next_token is not None:
            top_left = None if query.top is None else query.top - len(rows)
            next_url = _next_url(request, collection_url, next_token, top_left)
        # A `$skiptoken` continues a server-paged (so wrapped) answer; its
        # lowered `$top` must not turn the next page into the bare form.
        bare = (
            use_bare_array(query, endpoint.page_size)
            and next_url is None
            and query.skiptoken is None
        )

        body = collection_body(
            rendered,
            next_url=next_url,
            count=count if query.inlinecount else None,
            bare=bare,
        )
        return json_answer(200, body)

    def _count(
        self, request: Request, division: Division, endpoint: Endpoint, entity: Entity
    ) -> Answer:
        query = parse_query(_system_options(request), entity.types)
        records = _records(division, endpoint)
        matching = [
            r for r in records if query.filter is None or query.filter.matches(r)
        ]
        return Answer(200, str(len(matching)).encode(), {}, "text/plain;charset=utf-8")

    def _render(
        self,
        division: Division,
        entity: Entity,
        record: Mapping[str, Any],
        collection_url: str,
        query: Query,
    ) -> dict[str, Any]:
        lines = None
        if entity.lines and entity.lines in query.expand:
            line_entity = ENTITIES[entity.line_entity or ""]
            side = SALES if entity.name == "SalesEntry" else PURCHASE
            sub = tuple(
                s.split("/", 1)[1]
                for s in query.select or ()
                if s.startswith(entity.lines + "/")
            )
            line_url = collection_url.rsplit("/", 1)[0] + "/" + entity.lines
            lines = [
                entity_json(line, line_entity, line_url, select=sub or None)
                for line in sorted(
                    division.find(side.line_records, EntryID=record[entity.key]),
                    key=lambda line: line["LineNumber"],
                )
            ]
        return entity_json(
            record, entity, collection_url, select=query.select, lines=lines
        )

    def _lines_of(
        self,
        request: Request,
        division: Division,
        entity: Entity,
        record: Record,
        collection_url: str,
    ) -> Answer:
        side = SALES if entity.name == "SalesEntry" else PURCHASE
        line_entity = ENTITIES[entity.line_entity or ""]
        line_url = collection_url.rsplit("/", 1)[0] + "/" + (entity.lines or "")
        rows = sorted(
            division.find(side.line_records, EntryID=record[entity.key]),
            key=lambda r: r["LineNumber"],
        )
        return json_answer(
            200,
            {"d": {"results": [entity_json(r, line_entity, line_url) for r in rows]}},
        )

    def _by_key(
        self,
        division: Division,
        endpoint: Endpoint,
        entity: Entity,
        key: str,
        grant: Grant,
    ) -> Record:
        literal = key.strip()
        if entity.fields[entity.key].edm == "Edm.Guid":
            found = re.fullmatch(r"guid'([0-9a-fA-F-]{36})'", literal)
            if not found:
                raise bad_request(
                    f"Unrecognized 'Edm.Guid' literal '{literal}' in '0'."
                )
            value: Any = found.group(1).lower()
        elif literal.isdigit():
            value = int(literal)
        else:
            raise bad_request()
        for record in _records(division, endpoint):
            if record.get(entity.key) == value:
                return record
        raise ExactError(404, self._not_found(grant))

    def _create(
        self, ctx: Context, endpoint: Endpoint, entity: Entity, body: Any, base: str
    ) -> Record:
        data = payload.top_level_object(body)
        navigation = frozenset({entity.lines}) if entity.lines else frozenset()
        values = payload.read(data, entity, ctx.language, navigation=navigation)
        if endpoint.collection in SIDES:
            side = SIDES[endpoint.collection]
            raw_lines = values.pop(side.lines, None)
            if raw_lines is not None and not isinstance(raw_lines, list):
                raise ExactError(
                    400,
                    payload.STREAM
                    + f"The property '{side.lines}' must be a collection.",
                )
            line_entity = ENTITIES[entity.line_entity or ""]
            lines = [
                payload.read(payload.top_level_object(line), line_entity, ctx.language)
                for line in raw_lines or []
            ]
            return ledger.post_entry(ctx, side, values, lines)
        if endpoint.collection == "accounts":
            return ledger.post_account(ctx, values)
        if endpoint.collection == "documents":
            return ledger.post_document(ctx, values, base)
        if endpoint.collection == "attachments":
            return ledger.post_attachment(ctx, values, base)
        if endpoint.collection in ("sales_lines", "purchase_lines"):
            raise ExactError(
                400,
                "Adding a line to a booked entry is not supported by the sandbox; "
                "post the entry with all its lines.",
            )
        raise ExactError(405, "Method Not Allowed")

    def _update(
        self, ctx: Context, endpoint: Endpoint, entity: Entity, guid: str, body: Any
    ) -> None:
        data = payload.top_level_object(body)
        navigation = frozenset({entity.lines}) if entity.lines else frozenset()
        values = payload.read(data, entity, ctx.language, navigation=navigation)
        if endpoint.collection in SIDES:
            ledger.update_entry(ctx, SIDES[endpoint.collection], guid, values)
        elif endpoint.collection == "accounts":
            ledger.update_account(ctx, guid, values)
        elif endpoint.collection in ("receivables", "payables"):
            record = ctx.division.records(endpoint.collection)[guid]
            for name in ("PaymentMethod", "PaymentReference", "Description"):
                if name in values:
                    record[name] = values[name]
        elif endpoint.collection == "documents":
            record = ctx.division.records("documents")[guid]
            for name in (
                "Subject",
                "DocumentDate",
                "Account",
                "FinancialTransactionEntryID",
            ):
                if name in values:
                    record[name] = values[name]
        else:
            raise ExactError(405, "Method Not Allowed")

    def _delete(self, ctx: Context, endpoint: Endpoint, guid: str) -> None:
        if endpoint.collection in SIDES:
            ledger.delete_entry(ctx, SIDES[endpoint.collection], guid)
        elif endpoint.collection in DELETED_TYPES:
            ledger.delete_record(
                ctx, endpoint.collection, guid, DELETED_TYPES[endpoint.collection]
            )
        else:
            raise ExactError(405, "Method Not Allowed")

    # current/Me and system/Divisions

    def _me(self, request: Request, grant: Grant) -> Answer:
        """Not rate-counted: its URL holds no division (API.md §4.1)."""
        sandbox = self.sandbox
        user = sandbox.oauth.users[grant.username]
        with sandbox.lock:
            granted = sorted(c for c in grant.divisions if c in sandbox.divisions)
            current = granted[0] if granted else 0
            division = sandbox.divisions.get(current)
        now = (
            division.local_now(sandbox.clock)
            if division
            else sandbox.clock.now().replace(tzinfo=None)
        )
        record = {
            "UserID": _user_guid(grant.username),
            "CurrentDivision": current,
            "UserName": user.username,
            "FullName": user.full_name,
            "Email": user.email,
            "LanguageCode": user.language,
            "Legislation": 1 if division is None or division.template == "BE" else 2,
            "ServerTime": now.replace(microsecond=0).isoformat(),
            "ServerUtcOffset": division.utc_offset_seconds(sandbox.clock)
            if division
            else 0.0,
        }
        url = f"{_base_url(request)}/api/v1/current/Me"
        query = parse_query(_system_options(request), ENTITIES["Me"].types)
        row = entity_json(record, ENTITIES["Me"], url, select=query.select)
        return json_answer(200, {"d": {"results": [row]}})

    def _divisions(self, request: Request, grant: Grant, collection_url: str) -> Answer:
        entity = ENTITIES["SystemDivision"]
        records = [
            {
                "Code": d.code,
                "Description": d.name,
                "HID": d.code,
                "Country": d.template,
                "Currency": d.currency,
                "Status": 1,
                "Current": False,
            }
            for d in self.sandbox.divisions.values()
            if d.code in grant.divisions
        ]
        query = parse_query(_system_options(request), entity.types)
        rows, _, count = page(records, query, key="Code", page_size=60)

        rendered = [
            entity_json(r, entity, collection_url, select=query.select) for r in rows
        ]
        return json_answer(
            200,
            collection_body(
                rendered,
                next_url=None,
                count=count if query.inlinecount else None,
                bare=False,
            ),
        )

    def _language(self, grant: Grant) -> str:
        user = self.sandbox.oauth.users.get(grant.username)
        return user.language if user else "nl-NL"

    def _not_found(self, grant: Grant) -> str:
        if self._language(grant).lower().startswith("nl"):
            return "De gevraagde gegevens zijn niet gevonden"
        return "The requested data was not found"


def _records(division: Division, endpoint: Endpoint) -> list[Record]:
    return list(division.records(endpoint.collection).values())


def _expandable(entity: Entity) -> frozenset[str]:
    return frozenset({entity.lines}) if entity.lines else frozenset()


def _system_options(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k.startswith("$")}


def _check_restrictions(
    endpoint: Endpoint, query: Query, options: Mapping[str, str]
) -> None:
    """The per-endpoint rules of API.md §6.4 and §8."""
    if endpoint.select_required and not query.select:
        raise bad_request(
            "Please add a $select or a $top=1 statement to the query string."
        )
    if endpoint.unrestricted_refused and not query.select and query.top != 1:
        raise bad_request(
            "Please add a $select or a $top=1 statement to the query string."
        )
    if endpoint.mandatory_filter and (
        query.filter is None or not (query.filter.fields & endpoint.mandatory_filter)
    ):
        raise bad_request(
            "This endpoint has mandatory filtering applied. A GET request for this "
            "endpoint must have a $filter parameter with one of the following fields "
            "in the url:" + ",".join(sorted(endpoint.mandatory_filter)) + "."
        )
    if endpoint.collection in SIDES and "$skip" in options:
        raise bad_request(
            "The query parameter '$skip' is not supported on this endpoint."
        )


def _next_url(
    request: Request, collection_url: str, token: str, top_left: int | None
) -> str:
    """`__next` repeats the caller's options with a new `$skiptoken`, without
    `$skip` (already applied) and with `$top` lowered to what is left of it
    (see `odata.page`)."""
    params = [
        (k, str(top_left) if k == "$top" and top_left is not None else v)
        for k, v in request.query_params.multi_items()
        if k not in ("$skiptoken", "$skip")
    ]
    params.append(("$skiptoken", token))
    query = urlencode(params, safe="$,'()/:")
    return f"{collection_url}?{query}"


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ExactError(
            400,
            payload.STREAM + "The request should be a valid top-level resource object.",
        ) from None


def _accepts_json(request: Request) -> bool:
    """Without `Accept: application/json` Exact answers Atom XML (API.md §6.1)."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept or request.url.path.endswith("/$count")


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _user_guid(username: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-user:{username}"))


_ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<feed xmlns="http://www.w3.org/2005/Atom" '
    b'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    b'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
    b'<title type="text">Send Accept: application/json for JSON</title></feed>'
)
