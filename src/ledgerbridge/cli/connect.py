"""`ledgerbridge connect` and `ledgerbridge connections list`: connecting a
company to Exact Online, and how each company's connection stands.

`connect` prints Exact's authorization URL and, by default, catches Exact's
redirect on a one-shot local HTTP server at LEDGERBRIDGE_EXACT_REDIRECT_URI
(stdlib `http.server`, in a thread); with `--paste` the person pastes the
address their browser was sent to instead. The sign-in itself is
`ledgerbridge.exact.connect`, stored by `ledgerbridge.wiring.connect_company`.

Neither tokens nor the authorization code are printed or logged: the
callback server's request log (whose request line holds the code) is off.
"""

from __future__ import annotations

import html
import json
import socket
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Annotated, NoReturn
from urllib.parse import parse_qs, urlsplit

import httpx2
import typer
from rich.console import Console
from rich.table import Table

from ledgerbridge import wiring
from ledgerbridge.exact.connect import DivisionNotChosen
from ledgerbridge.exact.errors import ExactError
from ledgerbridge.exact.limits import RateLimits
from ledgerbridge.exact.oauth import StateMismatch
from ledgerbridge.settings import MissingSetting, Settings
from ledgerbridge.storage.secrets import SecretKeyError, UndecryptableSecret
from ledgerbridge.storage.tokens import ConnectionInfo

connections_app = typer.Typer(
    help="Companies' connections to Exact Online.", no_args_is_help=True
)

out = Console()
err = Console(stderr=True)

DEFAULT_TIMEOUT = 300.0
VERDICT_WAIT = 60.0
"""How long the browser's request waits for the outcome of the sign-in."""
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NOTHING_STORED = "Nothing was stored."


class CallbackUnavailable(Exception):
    """The redirect cannot be caught on this machine."""


class CallbackTimeout(Exception):
    """Exact's redirect did not arrive in time."""


class CallbackCatcher:
    """A one-shot HTTP server on the redirect URI's host, port and path.

    `start` listens; `wait` returns the full URL of the first request that
    carries a sign-in answer (`code`, `error` or `state`); `decide` gives the
    outcome, which that request then shows in the browser; `close` stops.
    """

    def __init__(self, redirect_uri: str, verdict_wait: float = VERDICT_WAIT) -> None:
        parts = urlsplit(redirect_uri)
        try:
            port = parts.port or 80
        except ValueError:
            port = 0
        if (
            parts.scheme != "http"
            or parts.hostname not in LOCAL_HOSTS
            or not 0 < port < 65536
        ):
            raise CallbackUnavailable(
                f"The redirect URI {redirect_uri} (LEDGERBRIDGE_EXACT_REDIRECT_URI) "
                "is not a plain http address on this machine, so Exact's answer "
                "cannot be caught here. Run again with --paste and paste the "
                "address your browser ends up on."
            )
        self.redirect_uri = redirect_uri
        self.host = parts.hostname
        self.port = port
        self.path = parts.path or "/"
        self.verdict_wait = verdict_wait
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._lock = threading.Lock()
        self._received: str | None = None
        self._arrived = threading.Event()
        self._verdict: tuple[bool, str] = (False, "")
        self._decided = threading.Event()
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        server_class = _IPv6Server if ":" in self.host else HTTPServer
        try:
            server = server_class((self.host, self.port), _handler_for(self))
        except OSError as exc:
            raise CallbackUnavailable(
                f"Cannot listen on {self.host}:{self.port} for Exact's answer "
                f"({exc.strerror or exc}). Stop what uses that port, or run "
                "again with --paste."
            ) from exc
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="exact-callback",
            daemon=True,
        )
        self._thread.start()

    def wait(self, timeout: float) -> str:
        if not self._arrived.wait(timeout) or self._received is None:
            raise CallbackTimeout(
                f"No answer from Exact arrived at {self.redirect_uri} within "
                f"{timeout:g} s. {NOTHING_STORED} Run the command again, or use "
                "--paste."
            )
        return self._received

    def decide(self, connected: bool, message: str) -> None:
        """The outcome the waiting browser request shows."""
        if not self._decided.is_set():
            self._verdict = (connected, message)
            self._decided.set()

    def close(self) -> None:
        self.decide(False, "ledgerbridge stopped before finishing; see its output.")
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # Called by the request handler's thread

    def _take(self, request_path: str) -> bool:
        with self._lock:
            if self._received is not None:
                return False
            self._received = f"{self._origin}{request_path}"
        self._arrived.set()
        return True

    def _outcome(self) -> tuple[bool, str]:
        if not self._decided.wait(self.verdict_wait):
            return False, "Still working; see ledgerbridge's output."
        return self._verdict


class _IPv6Server(HTTPServer):
    address_family = socket.AF_INET6


def _handler_for(catcher: CallbackCatcher) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ledgerbridge"
        sys_version = ""

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != catcher.path:
                self._page(404, "Not found", "This address only takes Exact's answer.")
                return
            query = parse_qs(parts.query)
            if not {"code", "error", "state"} & query.keys():
                self._page(
                    400, "No sign-in answer", "This address waits for Exact's answer."
                )
                return
            if not catcher._take(self.path):
                self._page(
                    409,
                    "Already answered",
                    "ledgerbridge has taken a sign-in answer already; see its output.",
                )
                return
            connected, message = catcher._outcome()
            if connected:
                self._page(200, "Connected", f"{message} You can close this tab.")
            else:
                self._page(400, "Not connected", f"{message} Return to the terminal.")

        def log_message(self, format: str, *args: object) -> None:
            """Silent: the request line holds the authorization code."""

        def _page(self, status: int, title: str, text: str) -> None:
            body = (
                '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>{html.escape(title)} - ledgerbridge</title></head>"
                f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
                "</body></html>\n"
            ).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def connect(
    company: Annotated[
        str,
        typer.Option(
            "--company", help="The company's reference (see 'companies list')."
        ),
    ],
    division: Annotated[
        int | None,
        typer.Option(
            help="The company's Exact division (administration) code; needed "
            "when the sign-in grants several.",
            min=1,
        ),
    ] = None,
    paste: Annotated[
        bool,
        typer.Option(
            "--paste",
            help="Paste the address Exact sends the browser to, instead of "
            "catching it on the local redirect URI.",
        ),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(help="Seconds to wait for Exact's redirect.", min=1),
    ] = DEFAULT_TIMEOUT,
) -> None:
    """Connect a company to Exact Online: sign in at Exact, pick its division."""
    # `ledgerbridge.cli.app` imports this module: import it when it is complete.
    from ledgerbridge.cli.app import _database

    settings = Settings()
    try:
        wiring.exact_app(settings)
        catcher = None if paste else CallbackCatcher(settings.exact_redirect_uri)
    except (MissingSetting, CallbackUnavailable) as exc:
        _fail(str(exc))
    database = _database()

    def redirect_from(url: str) -> str:
        if catcher is not None:
            catcher.start()
        out.print(
            "Open this address in a browser, sign in to Exact Online and tick "
            "the company's administration:"
        )
        out.print(url, soft_wrap=True, markup=False, highlight=False)
        if catcher is not None:
            out.print(
                f"Waiting up to {timeout:g} s for Exact's answer on "
                f"{catcher.redirect_uri} (Ctrl+C stops).",
                soft_wrap=True,
                markup=False,
                highlight=False,
            )
            return catcher.wait(timeout)
        answer: str = typer.prompt(
            "Paste the full address your browser was sent to after signing in"
        )
        return answer.strip()

    try:
        connected = wiring.connect_company(
            settings, database, company, redirect_from, division=division
        )
    except _EXPECTED as exc:
        message = _sentence(exc)
        if catcher is not None:
            catcher.decide(False, message)
        if isinstance(exc, DivisionNotChosen) and exc.divisions:
            _divisions_table(exc)
        _fail(message, exc)
    else:
        if catcher is not None:
            catcher.decide(
                True,
                f"{connected.company.name} is connected to Exact Online "
                f"division {connected.division}.",
            )
    finally:
        if catcher is not None:
            catcher.close()
        database.engine.dispose()

    info = connected.connection
    out.print(
        f"Connected company {connected.company.ref} ({connected.company.name}) "
        "to Exact Online.",
        markup=False,
        highlight=False,
    )
    lines = [
        ("division", str(connected.division)),
        ("host", info.base_url),
        ("signed in as", connected.user or "-"),
        ("status", _status(info)),
    ]
    for label, value in lines:
        out.print(f"  {label + ':':<14}{value}", markup=False, highlight=False)


@connections_app.command("list")
def connections_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each company's Exact connection: status, division, calls left today."""
    from ledgerbridge.cli.app import _database

    settings = Settings()
    database = _database()
    try:
        overview = wiring.connection_overview(settings, database)
    except SecretKeyError as exc:
        _fail(str(exc), exc)
    finally:
        database.engine.dispose()
    now = datetime.now(UTC)
    rows = [
        {
            "company": entry.company.ref,
            "name": entry.company.name,
            "status": _status(entry.connection),
            "reason": entry.connection.reason
            if entry.connection and entry.connection.needs_sign_in
            else None,
            "division": entry.connection.division if entry.connection else None,
            "host": entry.connection.base_url if entry.connection else None,
            "calls_left_today": _calls_left(entry.limits, now),
            "daily_limit": entry.limits.daily_limit if entry.limits else None,
        }
        for entry in overview
    ]
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table()
    table.add_column("company", no_wrap=True)
    table.add_column("name")
    table.add_column("status", no_wrap=True)
    table.add_column("division", no_wrap=True)
    table.add_column("host", overflow="fold")
    table.add_column("calls left today", no_wrap=True)
    for row in rows:
        left = row["calls_left_today"]
        limit = row["daily_limit"]
        table.add_row(
            str(row["company"]),
            str(row["name"]),
            str(row["status"]),
            "-" if row["division"] is None else str(row["division"]),
            str(row["host"] or "-"),
            "-" if left is None else f"{left} of {limit}" if limit else str(left),
        )
    out.print(table)
    for row in rows:
        if row["reason"]:
            out.print(
                f"{row['company']}: {row['reason']} Run 'ledgerbridge connect "
                f"--company {row['company']}'.",
                soft_wrap=True,
                markup=False,
                highlight=False,
            )


_EXPECTED = (
    MissingSetting,
    wiring.UnknownCompany,
    wiring.NoExactHost,
    SecretKeyError,
    UndecryptableSecret,
    CallbackUnavailable,
    CallbackTimeout,
    DivisionNotChosen,
    ExactError,
    httpx2.HTTPError,
)


def _sentence(exc: Exception) -> str:
    if isinstance(exc, StateMismatch):
        return (
            "The sign-in answer does not belong to this request (its state "
            f"differs), so it was refused. {NOTHING_STORED} Run the command "
            "again and open the address it prints."
        )
    if isinstance(exc, DivisionNotChosen):
        return f"{exc} {NOTHING_STORED}"
    if isinstance(exc, ExactError):
        return f"Exact Online did not connect the company: {exc}. {NOTHING_STORED}"
    if isinstance(exc, httpx2.HTTPError):
        return (
            f"Exact Online could not be reached ({type(exc).__name__}: {exc}). "
            f"{NOTHING_STORED}"
        )
    return str(exc)


def _status(info: ConnectionInfo | None) -> str:
    if info is None or not info.connected:
        return "not connected"
    if info.needs_sign_in:
        return "needs sign-in again"
    return "connected"


def _calls_left(limits: RateLimits | None, now: datetime) -> int | None:
    """What Exact last said remains today; the whole limit once its reset
    has passed; None when it never said."""
    if limits is None:
        return None
    if limits.daily_reset is not None and now >= limits.daily_reset:
        return limits.daily_limit
    return limits.daily_remaining


def _divisions_table(exc: DivisionNotChosen) -> None:
    table = Table("division", "name", "country", title="Granted at sign-in")
    for division in exc.divisions:
        table.add_row(str(division.code), division.name, division.country or "-")
    err.print(table)


def _fail(message: str, cause: BaseException | None = None) -> NoReturn:
    err.print(message, style="red", markup=False, highlight=False)
    raise typer.Exit(1) from cause
