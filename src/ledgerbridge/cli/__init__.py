"""The `ledgerbridge` command line."""

from ledgerbridge.cli.app import app, main

__all__ = ["app", "main"]
