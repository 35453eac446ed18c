"""OAuth2 with Exact Online: the authorization URL, the code exchange and
the refresh call (API.md §3).

Client credentials go in the form body, as Exact documents (§3.1); a
`state` is generated for every authorization and checked on return.
`expires_in` arrives as a string (§3.2).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2

from ledgerbridge.exact.clock import Clock
from ledgerbridge.exact.errors import ConnectionProblem, token_error
from ledgerbridge.exact.tokens import TokenPair


class StateMismatch(ConnectionProblem):
    """The redirect came back with another `state` than the one we sent."""


@dataclass(frozen=True)
class ExactApp:
    """An app registered in Exact's App Center (see docs/exact-online.md)."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def __repr__(self) -> str:
        return f"ExactApp({self.client_id!r}, redirect_uri={self.redirect_uri!r})"


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str


def authorization_url(app: ExactApp, base_url: str) -> Authorization:
    """Where to send the user to sign in and pick the administration."""
    state = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "response_type": "code",
            "state": state,
        }
    )
    return Authorization(f"{base_url.rstrip('/')}/api/oauth2/auth?{query}", state)


def code_from_redirect(redirect_url: str, expected_state: str) -> str:
    """The code in the URL Exact redirected to, after checking `state`."""
    params = parse_qs(urlsplit(redirect_url).query)
    if params.get("state", [""])[0] != expected_state:
        raise StateMismatch(
            "GET",
            "oauth2/auth",
            None,
            0,
            "the sign-in answer does not belong to this request; start again",
        )
    codes = params.get("code")
    if not codes:
        error = params.get("error", ["no code"])[0]
        raise ConnectionProblem(
            "GET", "oauth2/auth", None, 0, f"Exact did not grant access: {error}"
        )
    return codes[0]


class TokenEndpoint:
    """Exchanges codes and refresh tokens at `{base}/api/oauth2/token`."""

    def __init__(
        self, app: ExactApp, base_url: str, http: httpx2.Client, clock: Clock
    ) -> None:
        self.app = app
        self.url = f"{base_url.rstrip('/')}/api/oauth2/token"
        self.http = http
        self.clock = clock

    def exchange_code(self, code: str) -> TokenPair:
        return self._request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.app.redirect_uri,
            }
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        return self._request(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    def _request(self, form: dict[str, str]) -> TokenPair:
        # Both ends err on the safe side: expiry counts from before the
        # request (the token may be older than we think), the 570 s floor
        # from after the answer (it may be younger).
        sent_at = self.clock.now()
        response = self.http.post(
            self.url,
            data={
                **form,
                "client_id": self.app.client_id,
                "client_secret": self.app.client_secret,
            },
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise token_error(response.status_code, response.content, response.headers)
        body = response.json()
        lifetime = int(str(body.get("expires_in", "600")))
        return TokenPair(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            issued_at=self.clock.now(),
            expires_at=sent_at + timedelta(seconds=lifetime),
        )
