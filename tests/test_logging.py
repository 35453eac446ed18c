from __future__ import annotations

import json
import logging

import pytest
import structlog

from ledgerbridge.logging import REDACTED, configure, redact


def test_redact_blanks_secret_fields_only() -> None:
    event = {"event": "token.refreshed", "refresh_token": "abc", "division": 7}

    assert redact(None, "info", event) == {
        "event": "token.refreshed",
        "refresh_token": REDACTED,
        "division": 7,
    }


def test_json_logs_carry_context_and_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("INFO", "json")
    try:
        logger = structlog.get_logger("ledgerbridge.test")
        with structlog.contextvars.bound_contextvars(company="acme"):
            logger.info("connection.saved", access_token="s3cret", division=7)
        logging.getLogger("other.library").warning("plain %s", "stdlib")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "connection.saved"
    assert lines[0]["company"] == "acme"
    assert lines[0]["access_token"] == REDACTED
    assert "s3cret" not in json.dumps(lines)
    assert lines[1]["event"] == "plain stdlib"


def test_events_below_the_level_are_dropped_and_the_rest_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("WARNING", "json")
    try:
        logger = structlog.get_logger("ledgerbridge.test")
        logger.info("exact.call", division=7)
        logger.warning("exact.slow", division=7)
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["exact.slow"]
    assert lines[0]["level"] == "warning"


def test_exact_calls_are_logged_once_not_again_by_httpx2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("INFO", "json")
    try:
        logging.getLogger("httpx2").info("HTTP Request: GET http://x/ 200")
        structlog.get_logger("ledgerbridge.exact.client").info("exact.call")
        logging.getLogger("httpx2").warning("a warning still shows")
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
        logging.getLogger("httpx2").setLevel(logging.NOTSET)

    events = [
        json.loads(line)["event"] for line in capsys.readouterr().err.splitlines()
    ]
    assert events == ["exact.call", "a warning still shows"]
