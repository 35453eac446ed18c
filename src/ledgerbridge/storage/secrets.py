"""Encryption of secrets at rest (Exact tokens), with keys kept out of the
database.

Keys are Fernet keys. They come from `LEDGERBRIDGE_SECRET_KEYS` (comma
separated) or, when that is not set, from the key file `secret.keys` in the
data folder: one key a line, created with a fresh key and mode 0600 on first
use. The first key encrypts; every key decrypts, so a new key can be put in
front and the old ones kept until `ledgerbridge keys rotate` has re-encrypted
every stored secret with it.

No message here ever contains a key, a secret or a ciphertext.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ledgerbridge.settings import Settings

KEYS_VARIABLE = "LEDGERBRIDGE_SECRET_KEYS"
KEY_FILE_NAME = "secret.keys"
KEY_FILE_MODE = 0o600


class SecretKeyError(Exception):
    """The keys cannot be used: missing, malformed, or readable by others."""


class UndecryptableSecret(Exception):
    """A stored secret was not encrypted with any of the configured keys."""


class SecretBox:
    """Encrypts with the first key and decrypts with any of them."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise SecretKeyError("a SecretBox needs at least one key")
        self._fernet = MultiFernet([Fernet(key) for key in keys])
        self._count = len(keys)

    def __repr__(self) -> str:  # never show a key
        return f"SecretBox({self._count} key{'s' if self._count != 1 else ''})"

    @property
    def key_count(self) -> int:
        return self._count

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise UndecryptableSecret(
                "A stored secret cannot be decrypted with any configured key "
                f"(was a key removed from {KEYS_VARIABLE} or {KEY_FILE_NAME}?)."
            ) from exc

    def rotate(self, token: str) -> str:
        """The same secret, encrypted again with the first key."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise UndecryptableSecret(
                "A stored secret cannot be re-encrypted: no configured key "
                f"decrypts it (was a key removed from {KEYS_VARIABLE} or "
                f"{KEY_FILE_NAME}?)."
            ) from exc


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE_NAME


def load_keys(settings: Settings) -> SecretBox:
    """The keys of `LEDGERBRIDGE_SECRET_KEYS`, else of the key file (created
    with one fresh key on first use)."""
    if settings.secret_keys is not None:
        return SecretBox(_env_keys(settings.secret_keys.get_secret_value()))
    path = key_file(settings)
    if not path.exists():
        _create_key_file(path, [Fernet.generate_key().decode("ascii")])
    return SecretBox(_file_keys(path))


def add_new_key(settings: Settings) -> None:
    """Put a fresh key in front of the key file's keys (which are kept, so
    what they encrypted still decrypts)."""
    if settings.secret_keys is not None:
        raise SecretKeyError(
            f"The keys come from {KEYS_VARIABLE}, so ledgerbridge cannot add one: "
            "put a new key first in that variable (make one with "
            "'python -c \"from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())\"') and run "
            "'ledgerbridge keys rotate' without --new-key."
        )
    path = key_file(settings)
    keys = _file_keys(path) if path.exists() else []
    _write_key_file(path, [Fernet.generate_key().decode("ascii"), *keys])


def _env_keys(value: str) -> list[str]:
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise SecretKeyError(
            f"{KEYS_VARIABLE} is set but holds no key; set it to comma-separated "
            f"Fernet keys, or unset it to use the key file {KEY_FILE_NAME} in the "
            "data folder."
        )
    for number, key in enumerate(keys, start=1):
        if not _is_fernet_key(key):
            raise SecretKeyError(
                f"{KEYS_VARIABLE}: key {number} of {len(keys)} is not a Fernet key "
                "(32 bytes in URL-safe base64, 44 characters)."
            )
    return keys


def _file_keys(path: Path) -> list[str]:
    try:
        info = path.stat()
    except OSError as exc:
        raise SecretKeyError(
            f"Cannot read the key file {path}: {exc.strerror}."
        ) from exc
    if not stat.S_ISREG(info.st_mode):
        raise SecretKeyError(f"The key file {path} is not a regular file.")
    if info.st_mode & 0o077:
        raise SecretKeyError(
            f"The key file {path} can be read or changed by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); run 'chmod 600 {path}' "
            "and try again."
        )
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeError) as exc:
        raise SecretKeyError(
            f"Cannot read the key file {path}: it must hold one Fernet key a line."
        ) from exc
    keys: list[str] = []
    for number, line in enumerate(lines, start=1):
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        if not _is_fernet_key(key):
            raise SecretKeyError(
                f"The key file {path}, line {number}, is not a Fernet key "
                "(32 bytes in URL-safe base64, 44 characters)."
            )
        keys.append(key)
    if not keys:
        raise SecretKeyError(f"The key file {path} holds no key.")
    return keys


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        return False
    return True


def _key_file_text(keys: Sequence[str]) -> bytes:
    header = (
        "# ledgerbridge secret keys: the first encrypts, all decrypt.\n"
        "# Keep this file private (mode 600) and backed up; without it the\n"
        "# stored Exact tokens cannot be read.\n"
    )
    return (header + "".join(f"{key}\n" for key in keys)).encode("ascii")


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to a new file `path` readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        os.fchmod(descriptor, KEY_FILE_MODE)  # whatever the umask
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")


def _create_key_file(path: Path, keys: Sequence[str]) -> None:
    """Create the key file unless another process just did: the file appears
    whole (hard link of a finished file) or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        _write_private(temporary, _key_file_text(keys))
        # the other process's keys win
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file at once: readers see the old keys or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        _write_private(temporary, _key_file_text(keys))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
