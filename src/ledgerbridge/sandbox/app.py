"""The sandbox's ASGI app: Exact's API, its OAuth endpoints, the admin API
and a small web view, on one port."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from ledgerbridge.sandbox.admin import admin_router
from ledgerbridge.sandbox.api import ExactApi
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.sandbox.oauth_routes import oauth_router
from ledgerbridge.sandbox.ui import ui_router

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


def create_app(sandbox: Sandbox | None = None) -> FastAPI:
    """The sandbox app; a fresh in-memory sandbox unless one is given."""
    sandbox = sandbox or Sandbox()
    app = FastAPI(
        title="Exact Online sandbox",
        description=(
            "A local simulator of the Exact Online REST API. The Exact API itself "
            "(`/api/v1/...`) answers as Exact does and is described by Exact; this "
            "document covers the OAuth token endpoint and the sandbox-only admin "
            "API under `/_sandbox/`."
        ),
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.sandbox = sandbox

    def division_choices() -> list[tuple[int, str]]:
        with sandbox.lock:
            return [(d.code, d.name) for d in sandbox.divisions.values()]

    app.include_router(
        oauth_router(sandbox.oauth, division_choices, lambda: sandbox.save(oauth=True))
    )
    app.include_router(admin_router(sandbox))
    app.include_router(ui_router(sandbox))
    app.router.routes.append(
        Route("/api/v1/{rest:path}", ExactApi(sandbox), methods=METHODS)
    )

    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        """405 with every method the path has in `Allow`: Starlette lists only
        those of the first route on the path (GET and POST /_sandbox/divisions
        are two routes)."""
        assert isinstance(exc, HTTPException)
        allowed = [
            method
            for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if any(
                route.matches({**request.scope, "method": method})[0] is Match.FULL
                for route in app.router.routes
            )
        ]
        headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        return await http_exception_handler(
            request, HTTPException(405, exc.detail, headers)
        )

    app.add_exception_handler(405, method_not_allowed)
    return app
