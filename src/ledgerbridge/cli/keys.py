"""`ledgerbridge keys …`: the keys that encrypt stored Exact tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from ledgerbridge.settings import Settings
from ledgerbridge.storage.secrets import (
    SecretKeyError,
    UndecryptableSecret,
    add_new_key,
    key_file,
    load_keys,
)
from ledgerbridge.storage.tokens import DbTokenStore, TokenLockTimeout

keys_app = typer.Typer(
    help="The keys that encrypt stored Exact tokens (LEDGERBRIDGE_SECRET_KEYS "
    "or the key file secret.keys in the data folder).",
    no_args_is_help=True,
)

out = Console()
err = Console(stderr=True)


@keys_app.command("rotate")
def keys_rotate(
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help="First put a fresh key in front of the key file's keys "
            "(the older ones are kept, so what they encrypted still decrypts).",
        ),
    ] = False,
) -> None:
    """Re-encrypt every stored Exact token with the first key."""
    # `ledgerbridge.cli.app` imports this module: import it when it is complete.
    from ledgerbridge.cli.app import _database

    settings = Settings()
    database = _database()
    try:
        if new_key:
            add_new_key(settings)
        box = load_keys(settings)
        count = DbTokenStore(database.engine, box).reencrypt_all()
    except (SecretKeyError, UndecryptableSecret, TokenLockTimeout) as exc:
        err.print(str(exc), style="red", markup=False, highlight=False)
        raise typer.Exit(1) from exc

    if new_key:
        out.print(
            f"Added a new first key to {key_file(settings)}; the older keys stay "
            "there until you remove them.",
            markup=False,
            highlight=False,
        )
    noun = "connection" if count == 1 else "connections"
    out.print(f"Re-encrypted the tokens of {count} {noun} with the first key.")
    if new_key:
        out.print(
            "Restart running ledgerbridge processes so they encrypt with it too.",
            highlight=False,
        )
