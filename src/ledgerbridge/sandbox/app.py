"""The sandbox's ASGI app: Exact's API, its OAuth endpoints, the admin API
and a small web view, on one port."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Route

from ledgerbridge.sandbox.admin import admin_router
from ledgerbridge.sandbox.api import ExactApi
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.sandbox.oauth_routes import oauth_router

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
    app.router.routes.append(
        Route("/api/v1/{rest:path}", ExactApi(sandbox), methods=METHODS)
    )
    return app
