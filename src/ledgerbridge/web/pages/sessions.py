"""Who is signed in to the pages, and whether a request that changes something
really comes from one of our forms.

* The session cookie `lb_session` carries a random token, signed with the
  session key (LEDGERBRIDGE_SESSION_KEY, else the key file `session.key` in
  the data folder, created with mode 0600 on first use). The database keeps
  the token's SHA-256 (`ledgerbridge.users`): the cookie alone is the
  credential, so it is HttpOnly, SameSite=Lax, Secure when the request came
  over HTTPS (or through a proxy saying so with `X-Forwarded-Proto` or
  `Forwarded`), and has no expiry of its own: the server ends it when idle.
* Every POST, PUT, PATCH and DELETE of a page must carry the session's CSRF
  token, in the form field `csrf_token` or the header `X-CSRF-Token` (the base
  layout gives htmx the header through `hx-headers`); without it, 403. The
  sign-in form, sent before there is a session, carries a token signed with
  the session key that must equal its cookie `lb_signin`.
* The pages read the session cookie only and the JSON API the API key only:
  neither accepts the other's credential.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request, Response
from itsdangerous import BadSignature, Signer, TimestampSigner
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ledgerbridge import users
from ledgerbridge.settings import Settings
from ledgerbridge.users import SignedIn, User
from ledgerbridge.web.api.deps import get_session

SESSION_COOKIE = "lb_session"
SIGN_IN_COOKIE = "lb_signin"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

KEY_VARIABLE = "LEDGERBRIDGE_SESSION_KEY"
KEY_FILE_NAME = "session.key"
KEY_FILE_MODE = 0o600
KEY_MIN_LENGTH = 32
SIGN_IN_FORM_SECONDS = 2 * 60 * 60

SIGN_IN_PATH = "/sign-in"


class SessionKeyError(Exception):
    """The session key cannot be used: too short, or its file readable by
    others."""


class SignInRequired(Exception):
    """The request needs a signed-in user; answered with a redirect to the
    sign-in page that comes back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state change without the session's CSRF token: answered with 403."""


@dataclass(frozen=True, slots=True)
class PageUser:
    """The signed-in user of a page request, with the session's CSRF token
    for the forms it renders."""

    user: User
    csrf_token: str


@dataclass(frozen=True, slots=True)
class Signers:
    session: Signer
    sign_in: TimestampSigner


# The key


def use_session_key(app: FastAPI, key: str) -> None:
    """Sign `app`'s cookies with `key` instead of the configured one."""
    if len(key) < KEY_MIN_LENGTH:
        raise SessionKeyError(
            f"The session key must be at least {KEY_MIN_LENGTH} characters long."
        )
    app.state.page_signers = Signers(
        Signer(key, salt="ledgerbridge.session"),
        TimestampSigner(key, salt="ledgerbridge.sign-in"),
    )


def signers(app: FastAPI) -> Signers:
    """The app's signers, made from the configured key on first use."""
    found = getattr(app.state, "page_signers", None)
    if found is None:
        use_session_key(app, load_session_key(Settings()))
        found = app.state.page_signers
    assert isinstance(found, Signers)
    return found


def load_session_key(settings: Settings) -> str:
    """LEDGERBRIDGE_SESSION_KEY, else the key file in the data folder (made
    with a fresh key on first use, readable by its owner only)."""
    if settings.session_key is not None:
        key = settings.session_key.get_secret_value().strip()
        if len(key) < KEY_MIN_LENGTH:
            raise SessionKeyError(
                f"{KEY_VARIABLE} must be at least {KEY_MIN_LENGTH} characters "
                "long; make one with 'python -c \"import secrets; "
                "print(secrets.token_urlsafe(48))\"'."
            )
        return key
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Create the key file whole, unless another process just did (its key
    wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE
        )
        try:
            os.fchmod(descriptor, KEY_FILE_MODE)  # whatever the umask
            os.write(descriptor, (secrets.token_urlsafe(48) + "\n").encode("ascii"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_key_file(path: Path) -> str:
    try:
        info = path.stat()
        if info.st_mode & 0o077:
            raise SessionKeyError(
                f"The session key file {path} can be read or changed by other "
                f"users (mode {stat.S_IMODE(info.st_mode):04o}); run "
                f"'chmod 600 {path}' and try again."
            )
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise SessionKeyError(f"Cannot read the session key file {path}.") from exc
    if len(key) < KEY_MIN_LENGTH:
        raise SessionKeyError(
            f"The session key file {path} must hold a key of at least "
            f"{KEY_MIN_LENGTH} characters; delete it to have a new one made "
            "(everyone is then signed out)."
        )
    return key


# Cookies


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS, directly or through a proxy
    that says so."""
    if request.url.scheme == "https":
        return True
    forwarded_proto = request.headers.get("x-forwarded-proto", "")
    if forwarded_proto.split(",")[0].strip().lower() == "https":
        return True
    forwarded = request.headers.get("forwarded", "").split(",")[0]
    return any(
        part.strip().lower() in {"proto=https", 'proto="https"'}
        for part in forwarded.split(";")
    )


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    value = signers(request.app).session.sign(token).decode("ascii")
    response.set_cookie(
        SESSION_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def session_token(request: Request) -> str | None:
    """The token of the request's session cookie when its signature holds."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value:
        return None
    try:
        return signers(request.app).session.unsign(value).decode("ascii")
    except (BadSignature, UnicodeError):
        return None


def new_sign_in_token(request: Request) -> tuple[str, str]:
    """A nonce for the sign-in form's cookie and the token, signed, for the
    form itself."""
    nonce = secrets.token_urlsafe(32)
    return nonce, signers(request.app).sign_in.sign(nonce).decode("ascii")


def set_sign_in_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE,
        nonce,
        max_age=SIGN_IN_FORM_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path=SIGN_IN_PATH,
    )


def check_sign_in_form(request: Request, token: str) -> bool:
    """Whether the sign-in form's token is ours, recent, and its cookie's."""
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    if not nonce or not token:
        return False
    try:
        signed = signers(request.app).sign_in.unsign(
            token, max_age=SIGN_IN_FORM_SECONDS
        )
    except (BadSignature, UnicodeError):
        return False
    return hmac.compare_digest(signed, nonce.encode("ascii", "replace"))


def clear_sign_in_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SIGN_IN_COOKIE,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path=SIGN_IN_PATH,
    )


# The dependency every page but sign-in stands on


async def page_user(
    request: Request, session: Annotated[Session, Depends(get_session)]
) -> PageUser:
    """The signed-in user (`SignInRequired` otherwise); for a POST, PUT,
    PATCH or DELETE also the session's CSRF token (`CsrfRefused`
    otherwise)."""
    token = session_token(request)
    found = await run_in_threadpool(_live_session, session, token)
    if found is None:
        raise SignInRequired(_here(request))
    user, csrf_token = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and _is_form(request):
            form = await request.form()
            field = form.get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
        if not sent or not hmac.compare_digest(
            sent.encode("utf-8", "replace"), csrf_token.encode("ascii")
        ):
            raise CsrfRefused()
    return PageUser(user, csrf_token)


CurrentUser = Annotated[PageUser, Depends(page_user)]


def start_session(
    request: Request, response: Response, session: Session, user: User
) -> SignedIn:
    """Sign `user` in: the browser's old session ends, a new one starts
    (committed), and its cookie is set on `response`."""
    signed_in = users.open_session(session, user, replacing=session_token(request))
    session.commit()
    set_session_cookie(request, response, signed_in.token)
    clear_sign_in_cookie(request, response)
    return signed_in


def end_session(request: Request, response: Response, session: Session) -> None:
    token = session_token(request)
    if token:
        users.close_session(session, token)
        session.commit()
    clear_session_cookie(request, response)


def safe_next(path: str | None) -> str:
    """`path` when it is a path of this site, else the start page: never a
    redirect elsewhere."""
    if (
        not path
        or not path.startswith("/")
        or path.startswith(("//", SIGN_IN_PATH))
        or "\\" in path
        or any(ord(char) < 0x20 for char in path)
    ):
        return "/"
    return path


def sign_in_url(next_path: str) -> str:
    target = safe_next(next_path)
    if target == "/":
        return SIGN_IN_PATH
    return f"{SIGN_IN_PATH}?next={quote(target, safe='/')}"


def _live_session(session: Session, token: str | None) -> tuple[User, str] | None:
    if not token:
        return None
    found = users.session_user(session, token)
    session.commit()  # an expired session removed, or the request noted
    return found


def _here(request: Request) -> str:
    if request.method not in SAFE_METHODS:
        return "/"
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in {"application/x-www-form-urlencoded", "multipart/form-data"}
