"""`ledgerbridge sandbox …`: run the local Exact Online simulator."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from ledgerbridge.sandbox.app import create_app
from ledgerbridge.sandbox.core import Sandbox
from ledgerbridge.sandbox.state import TEMPLATES

sandbox_app = typer.Typer(
    help="The Exact Online sandbox, a local simulator of Exact's API.",
    no_args_is_help=True,
)

MAX_DIVISION_CODE = 2_147_483_647  # as the admin API accepts

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)]


@dataclass(frozen=True)
class DivisionSpec:
    code: int
    template: str
    name: str


def parse_division(text: str) -> DivisionSpec:
    """`1001:BE:Demo BE` → code 1001, template BE, name "Demo BE"; the name
    may itself hold colons."""
    code_text, _, rest = text.partition(":")
    template, _, name = rest.partition(":")
    template = template.strip().upper()
    name = name.strip()
    code_text = code_text.strip()
    if not (code_text.isascii() and code_text.isdigit()) or not (
        1 <= int(code_text) <= MAX_DIVISION_CODE
    ):
        raise typer.BadParameter(
            f"{text!r}: the code must be a number from 1 to {MAX_DIVISION_CODE} "
            "(expected CODE:TEMPLATE:NAME, e.g. 1001:BE:Demo).",
            param_hint="--division",
        )
    if template not in TEMPLATES:
        raise typer.BadParameter(
            f"{text!r}: the template must be one of {', '.join(sorted(TEMPLATES))}.",
            param_hint="--division",
        )
    if not name or not name.isprintable() or len(name) > 100:
        raise typer.BadParameter(
            f"{text!r}: the name must be 1 to 100 printable characters.",
            param_hint="--division",
        )
    return DivisionSpec(int(code_text), template, name)


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


@sandbox_app.command("serve")
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8700,
    state: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file that keeps the sandbox's state across restarts "
            "(created if missing). Without it, the state lives in memory only.",
            dir_okay=False,
        ),
    ] = None,
    division: Annotated[
        list[str] | None,
        typer.Option(
            help="Create this division at start unless it exists: "
            "CODE:TEMPLATE:NAME, e.g. 1001:BE:Demo (repeatable).",
            metavar="CODE:TEMPLATE:NAME",
        ),
    ] = None,
) -> None:
    """Serve Exact's API, its OAuth endpoints, the admin API and a web view."""
    specs = [parse_division(text) for text in division or []]
    state_path = state.expanduser() if state is not None else None
    try:
        sandbox = Sandbox(state_path)
    # sqlite3.Error: not a database; OSError: the folder cannot be made;
    # ValueError (JSON too): a state file this version cannot read.
    except (sqlite3.Error, OSError, ValueError) as exc:
        typer.echo(f"Cannot open the sandbox state file {state_path}: {exc}", err=True)
        raise typer.Exit(1) from exc

    for spec in specs:
        existing = sandbox.divisions.get(spec.code)
        if existing is None:
            sandbox.add_division(spec.code, spec.template, spec.name)
            typer.echo(f"Created division {spec.code} ({spec.template}, {spec.name}).")
        else:
            typer.echo(
                f"Division {spec.code} exists already "
                f"({existing.template}, {existing.name}); left as it is."
            )

    base = base_url(host, port)
    typer.echo(f"Exact Online sandbox on {base}/")
    typer.echo(f"  Exact API:   {base}/api/v1/")
    typer.echo(f"  OAuth:       {base}/api/oauth2/auth and {base}/api/oauth2/token")
    typer.echo(f"  Admin API:   {base}/_sandbox/ (described at {base}/openapi.json)")
    typer.echo(f"  Web view:    {base}/_sandbox/ui/")
    typer.echo(
        f"  State file:  {state_path}"
        if state_path is not None
        else "  State:       in memory only (use --state FILE to keep it)"
    )
    typer.echo("Ctrl+C stops.")
    uvicorn.run(create_app(sandbox), host=host, port=port, log_config=None)
