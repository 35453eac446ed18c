"""Typed settings, read once from `LEDGERBRIDGE_*` environment variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/exact/callback"
DEMO_APP_FILE = "demo-exact-app.json"
"""In the data folder: the sandbox app that `ledgerbridge demo` registered
(client ID and secret, readable by its owner only). Commands use it when the
environment sets neither LEDGERBRIDGE_EXACT_CLIENT_ID nor _SECRET."""


class MissingSetting(Exception):
    """A command needs a setting that is not set; the message names the
    environment variable and what to put in it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGERBRIDGE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the embedded SQLite database and key files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; postgresql+psycopg://... switches to PostgreSQL. "
        "Default: SQLite in the data folder.",
    )
    secret_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys that encrypt stored Exact tokens; "
        "the first one encrypts, all decrypt. Default: the key file "
        "'secret.keys' in the data folder, created on first use.",
    )
    session_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the web pages' session cookies (32 characters "
        "or more). Default: the key file 'session.key' in the data folder, "
        "created on first use.",
    )
    exact_client_id: str | None = Field(
        default=None,
        description="Client ID of the app registered in Exact's App Center.",
    )
    exact_client_secret: SecretStr | None = Field(
        default=None,
        description="Client secret of that app; keep it in the environment only.",
    )
    exact_redirect_uri: str = Field(
        default=DEFAULT_REDIRECT_URI,
        description="The redirect URI registered with the app, character for "
        "character; 'ledgerbridge connect' listens on it when it is local.",
    )
    exact_base_url: str | None = Field(
        default=None,
        description="Exact Online's base URL for every company, instead of the "
        "host of the company's country, e.g. the sandbox http://127.0.0.1:8700.",
    )
    exact_daily_reserve: int = Field(
        default=100,
        ge=0,
        description="Calls per company and day kept back: runs stop when Exact "
        "reports fewer remaining, until 00:00 UTC.",
    )
    terms_file: Path | None = Field(
        default=None,
        description="Text file with the operator's terms and conditions, which "
        "each company accepts before its first sync; a new text asks again. "
        "Default: a plain text saying what goes to Exact and why.",
    )
    scheduler: bool = Field(
        default=True,
        description="Run the daily exports and imports from 'ledgerbridge serve' "
        "(a tick a minute).",
    )
    queue: Literal["auto", "embedded", "procrastinate"] = Field(
        default="auto",
        description="Who carries out runs: 'embedded' (threads in the serving "
        "process, SQLite or PostgreSQL), 'procrastinate' (jobs for 'ledgerbridge "
        "worker' processes, PostgreSQL only) or 'auto' (procrastinate on "
        "PostgreSQL, embedded on SQLite).",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for notices of failed automatic runs; without "
        "it they are shown in the application only.",
    )
    smtp_port: int = Field(default=587, description="SMTP port.")
    smtp_starttls: bool = Field(default=True, description="Use STARTTLS.")
    smtp_username: str | None = Field(default=None, description="SMTP user.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(
        default="ledgerbridge@localhost", description="Sender of notice e-mails."
    )
    notify_to: str | None = Field(
        default=None,
        description="Comma-separated addresses that receive notices of failed "
        "automatic runs.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'ledgerbridge.sqlite3'}"

    def exact_credentials(self) -> tuple[str, str]:
        """The app's client ID and secret; `MissingSetting` names the first
        variable that is not set. With neither variable set, the demo's
        sandbox app (`DEMO_APP_FILE` in the data folder) if there is one."""
        if self.exact_client_id is None and self.exact_client_secret is None:
            demo = _demo_credentials(self.data_dir / DEMO_APP_FILE)
            if demo is not None:
                return demo
        client_id = (self.exact_client_id or "").strip()
        if not client_id:
            raise MissingSetting(_missing_exact("LEDGERBRIDGE_EXACT_CLIENT_ID", "ID"))
        secret = self.exact_client_secret
        if secret is None or not secret.get_secret_value().strip():
            raise MissingSetting(
                _missing_exact("LEDGERBRIDGE_EXACT_CLIENT_SECRET", "secret")
            )
        return client_id, secret.get_secret_value().strip()


def _demo_credentials(path: Path) -> tuple[str, str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    client_id, secret = data.get("client_id"), data.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str):
        return None
    if not client_id.strip() or not secret.strip():
        return None
    return client_id.strip(), secret.strip()


def _missing_exact(variable: str, what: str) -> str:
    return (
        f"{variable} is not set: set it to the client {what} of the app "
        "registered in Exact's App Center (see docs/exact-online.md)."
    )
