"""`ledgerbridge user …`: the people who sign in to the web pages."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledgerbridge import users
from ledgerbridge.users import Role

user_app = typer.Typer(
    help="People who sign in to the web pages.", no_args_is_help=True
)

out = Console()
err = Console(stderr=True)

FROM_STDIN = "-"


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="The name to sign in with.")],
    role: Annotated[
        Role,
        typer.Option(
            help="admin: every company, settings and users; bookkeeper: exports, "
            "imports and booking codes of their companies; viewer: reads their "
            "companies."
        ),
    ],
    password: Annotated[
        str | None,
        typer.Option(
            help="The password; '-' reads it from standard input (as does "
            "leaving it out when standard input is not a terminal). Left out "
            "on a terminal, it is asked twice, unseen.",
            show_default=False,
        ),
    ] = None,
    company: Annotated[
        list[str] | None,
        typer.Option(
            help="A company the user sees, by reference (repeatable; not for an "
            "admin, who sees all)."
        ),
    ] = None,
) -> None:
    """Create a user who signs in to the web pages."""
    # `ledgerbridge.cli.app` imports this module: import it when it is complete.
    from ledgerbridge.cli.app import _database

    secret = _password(password)
    database = _database()
    with database.sessions() as session:
        try:
            row = users.create_user(session, username, secret, role, company or [])
        except users.UserError as exc:
            err.print(str(exc), style="red", markup=False, highlight=False)
            raise typer.Exit(1) from exc
        session.commit()
        name = row.username
        refs = [c.company_ref for c in row.companies]
    if role == Role.ADMIN:
        reach = "every company"
    elif refs:
        reach = ", ".join(refs)
    else:
        reach = "no company yet"
    out.print(
        f"Created user {name!r} ({role.value}); sees {reach}.",
        markup=False,
        highlight=False,
    )


@user_app.command("list")
def user_list() -> None:
    """Users, their roles and companies (never their passwords)."""
    from ledgerbridge.cli.app import _database

    database = _database()
    with database.sessions() as session:
        table = Table("username", "role", "companies", "created", "disabled")
        for row in users.list_users(session):
            companies = (
                "all"
                if row.role == Role.ADMIN
                else ", ".join(sorted(c.company_ref for c in row.companies)) or "-"
            )
            table.add_row(
                row.username,
                row.role,
                companies,
                f"{row.created_at:%Y-%m-%d %H:%M}",
                "yes" if row.disabled else "no",
            )
    out.print(table)


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="The user's name.")],
) -> None:
    """Stop a user from signing in; their open sessions end at once."""
    _set_disabled(username, disabled=True)


@user_app.command("enable")
def user_enable(
    username: Annotated[str, typer.Argument(help="The user's name.")],
) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(username, disabled=False)


def _set_disabled(username: str, disabled: bool) -> None:
    from ledgerbridge.cli.app import _database

    database = _database()
    with database.sessions() as session:
        try:
            row = users.set_disabled(session, username, disabled)
        except users.UnknownUser as exc:
            err.print(str(exc), style="red", markup=False, highlight=False)
            raise typer.Exit(1) from exc
        session.commit()
        name = row.username
    what = "Disabled" if disabled else "Enabled"
    out.print(f"{what} user {name!r}.", markup=False, highlight=False)


def _password(given: str | None) -> str:
    """The password from the option, standard input or a prompt."""
    if given is not None and given != FROM_STDIN:
        err.print(
            "Note: a password on the command line can be seen by other users of "
            "this machine and stays in the shell's history; '--password -' reads "
            "it from standard input instead.",
            markup=False,
            highlight=False,
        )
        return given
    if given == FROM_STDIN or not _interactive():
        line = sys.stdin.readline()
        secret = line.removesuffix("\n").removesuffix("\r")
        if not secret:
            err.print(
                "No password on standard input: send it as the first line.",
                style="red",
            )
            raise typer.Exit(1)
        return secret
    secret = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(secret)


def _interactive() -> bool:
    """Whether standard input is a terminal (someone to ask)."""
    return sys.stdin.isatty()
