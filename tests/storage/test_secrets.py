"""Secrets at rest: the SecretBox, and where its keys come from."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ledgerbridge.settings import Settings
from ledgerbridge.storage.secrets import (
    KEY_FILE_NAME,
    SecretBox,
    SecretKeyError,
    UndecryptableSecret,
    add_new_key,
    load_keys,
)


def _key() -> str:
    return Fernet.generate_key().decode("ascii")


def _file_keys(path: Path) -> list[str]:
    lines = path.read_text(encoding="ascii").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secretbox_round_trip() -> None:
    box = SecretBox([_key()])

    ciphertext = box.encrypt("refresh-token-é")

    assert "refresh-token" not in ciphertext
    assert box.decrypt(ciphertext) == "refresh-token-é"


def test_secretbox_new_key_keeps_old_ciphertext_readable() -> None:
    old_key, new_key = _key(), _key()
    ciphertext = SecretBox([old_key]).encrypt("secret")

    assert SecretBox([new_key, old_key]).decrypt(ciphertext) == "secret"


def test_secretbox_rotate_moves_ciphertext_to_the_first_key() -> None:
    old_key, new_key = _key(), _key()
    ciphertext = SecretBox([old_key]).encrypt("secret")

    rotated = SecretBox([new_key, old_key]).rotate(ciphertext)

    assert SecretBox([new_key]).decrypt(rotated) == "secret"
    with pytest.raises(UndecryptableSecret):
        SecretBox([old_key]).decrypt(rotated)


def test_secretbox_unknown_key_refused_with_a_sentence() -> None:
    ciphertext = SecretBox([_key()]).encrypt("secret")

    with pytest.raises(UndecryptableSecret, match="cannot be decrypted") as caught:
        SecretBox([_key()]).decrypt(ciphertext)
    with pytest.raises(UndecryptableSecret):
        SecretBox([_key()]).rotate(ciphertext)

    assert ciphertext not in str(caught.value)


def test_secretbox_repr_shows_no_key() -> None:
    key = _key()

    assert repr(SecretBox([key, _key()])) == "SecretBox(2 keys)"
    assert key not in repr(SecretBox([key]))


def test_load_keys_key_file_created_0600_on_first_use(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    old_umask = os.umask(0o000)  # the file's mode must not depend on the umask
    try:
        box = load_keys(settings)
    finally:
        os.umask(old_umask)

    path = tmp_path / "data" / KEY_FILE_NAME
    assert _mode(path) == 0o600
    assert len(_file_keys(path)) == 1
    assert load_keys(settings).decrypt(box.encrypt("secret")) == "secret"
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE_NAME]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_load_keys_key_file_readable_by_others_refused(
    tmp_path: Path, mode: int
) -> None:
    settings = Settings(data_dir=tmp_path)
    load_keys(settings)
    path = tmp_path / KEY_FILE_NAME
    key = _file_keys(path)[0]
    path.chmod(mode)

    with pytest.raises(SecretKeyError) as caught:
        load_keys(settings)

    message = str(caught.value)
    assert f"run 'chmod 600 {path}'" in message
    assert f"mode {mode:04o}" in message
    assert key not in message


def test_load_keys_env_keys_come_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_box = load_keys(Settings(data_dir=tmp_path))
    env_key = _key()
    monkeypatch.setenv("LEDGERBRIDGE_SECRET_KEYS", f" {env_key} , {_key()} ")
    monkeypatch.setenv("LEDGERBRIDGE_DATA_DIR", str(tmp_path))

    box = load_keys(Settings())

    assert SecretBox([env_key]).decrypt(box.encrypt("secret")) == "secret"
    with pytest.raises(UndecryptableSecret):
        file_box.decrypt(box.encrypt("secret"))


def test_load_keys_env_keys_create_no_key_file(tmp_path: Path) -> None:
    load_keys(Settings(data_dir=tmp_path, secret_keys=_key()))

    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_load_keys_bad_env_key_refused_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = _key()
    bad = "not-a-fernet-key-but-maybe-a-password"
    monkeypatch.setenv("LEDGERBRIDGE_SECRET_KEYS", f"{good},{bad}")
    monkeypatch.setenv("LEDGERBRIDGE_DATA_DIR", str(tmp_path))
    settings = Settings()

    with pytest.raises(SecretKeyError) as caught:
        load_keys(settings)

    message = str(caught.value)
    assert message.startswith("LEDGERBRIDGE_SECRET_KEYS: key 2 of 2 is not a Fernet")
    for text in (message, repr(settings), str(settings.model_dump())):
        assert good not in text
        assert bad not in text


def test_load_keys_empty_env_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="LEDGERBRIDGE_SECRET_KEYS is set but"):
        load_keys(Settings(data_dir=tmp_path, secret_keys=" , "))


def test_load_keys_malformed_key_file_refused_naming_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_text(f"# keys\n{_key()}\n\nwrong-key-text\n", encoding="ascii")
    path.chmod(0o600)

    with pytest.raises(SecretKeyError) as caught:
        load_keys(Settings(data_dir=tmp_path))

    assert str(caught.value).startswith(f"The key file {path}, line 4, is not a")
    assert "wrong-key-text" not in str(caught.value)


def test_load_keys_empty_key_file_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_text("# no keys yet\n", encoding="ascii")
    path.chmod(0o600)

    with pytest.raises(SecretKeyError, match="holds no key"):
        load_keys(Settings(data_dir=tmp_path))


def test_add_new_key_puts_a_fresh_key_first_and_keeps_the_old(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    old_box = load_keys(settings)
    path = tmp_path / KEY_FILE_NAME
    old_keys = _file_keys(path)
    ciphertext = old_box.encrypt("secret")

    add_new_key(settings)

    keys = _file_keys(path)
    assert keys[1:] == old_keys
    assert keys[0] not in old_keys
    assert _mode(path) == 0o600
    new_box = load_keys(settings)
    assert new_box.decrypt(ciphertext) == "secret"
    assert SecretBox([keys[0]]).decrypt(new_box.encrypt("x")) == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE_NAME]


def test_add_new_key_without_key_file_creates_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")

    add_new_key(settings)

    path = tmp_path / "data" / KEY_FILE_NAME
    assert len(_file_keys(path)) == 1
    assert _mode(path) == 0o600


def test_add_new_key_refused_when_keys_come_from_env(tmp_path: Path) -> None:
    key = _key()
    settings = Settings(data_dir=tmp_path, secret_keys=key)

    with pytest.raises(SecretKeyError, match="come from LEDGERBRIDGE_SECRET_KEYS") as c:
        add_new_key(settings)

    assert key not in str(c.value)
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_add_new_key_refuses_a_key_file_readable_by_others(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    load_keys(settings)
    path = tmp_path / KEY_FILE_NAME
    path.chmod(0o644)
    before = path.read_bytes()

    with pytest.raises(SecretKeyError, match="chmod 600"):
        add_new_key(settings)

    assert path.read_bytes() == before


def test_load_keys_first_use_from_many_threads_yields_one_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    barrier = threading.Barrier(8)
    boxes: list[SecretBox] = []

    def load() -> None:
        barrier.wait(10)
        boxes.append(load_keys(settings))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    ciphertext = load_keys(settings).encrypt("secret")
    assert len(boxes) == 8
    assert all(box.decrypt(ciphertext) == "secret" for box in boxes)
    assert [p.name for p in (tmp_path / "data").iterdir()] == [KEY_FILE_NAME]
