"""The error tree and the one place that picks a class (API.md §3.3, §4.3,
§6.7, §6.8): every class from realistic answers."""

from __future__ import annotations

import inspect
import json
import pickle
import re
from datetime import UTC, datetime

import pytest

from ledgerbridge.exact import errors
from ledgerbridge.exact.errors import (
    DAILY_LIMIT_SENTENCE,
    BadRequest,
    ConnectionProblem,
    DailyLimitReached,
    ErrorBudgetExhausted,
    ExactError,
    Forbidden,
    NeedsSignIn,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RefreshTooEarly,
    Unauthorized,
    Unavailable,
    ValidationFailed,
    classify,
    error_for,
    exact_message,
    token_error,
)
from ledgerbridge.sandbox.errors import MESSAGES


def exact_body(message: str) -> bytes:
    """Exact's error JSON as its server writes it: CRLF, no indent (§6.7)."""
    value = json.dumps(message, ensure_ascii=False)
    return (
        '{\r\n"error": {\r\n"code": "", "message": {\r\n'
        f'"lang": "", "value": {value}\r\n'
        "}\r\n}\r\n}"
    ).encode()


def token_body(error: str, description: str | None = None) -> bytes:
    body = {"error": error}
    if description is not None:
        body["error_description"] = description
    return json.dumps(body).encode()


HTML_502 = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

# Recorded 2023 headers (picqer#609): 2023-05-13T00:00:00Z and 08:19:00Z.
DAILY_RESET_MS = "1683936000000"
MINUTELY_RESET_MS = "1683879540000"
MINUTELY_429 = {
    "X-RateLimit-Minutely-Limit": "60",
    "X-RateLimit-Minutely-Remaining": "0",
    "X-RateLimit-Minutely-Reset": MINUTELY_RESET_MS,
}
DAILY_429 = {
    "X-RateLimit-Limit": "5000",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Reset": DAILY_RESET_MS,
}


def post_entry(status: int, body: bytes = b"", headers=None) -> ExactError:
    return error_for(
        "POST", "salesentry/SalesEntries", 1001, status, body, headers or {}
    )


def get_accounts(status: int, body: bytes = b"", headers=None) -> ExactError:
    return error_for("GET", "crm/Accounts", 1001, status, body, headers or {})


# str() and evidence


def test_error_for_business_rule_str_names_the_call():
    error = post_entry(500, exact_body("Ongeldig: Dagboek"))

    assert str(error) == (
        "POST salesentry/SalesEntries (division 1001): 500 Ongeldig: Dagboek"
    )


def test_error_for_carries_method_path_division_status_message():
    error = post_entry(500, exact_body("Verplicht: Dagboek"), {"Reason": "X"})

    assert (error.method, error.path, error.division, error.status) == (
        "POST",
        "salesentry/SalesEntries",
        1001,
        500,
    )
    assert error.message == "Verplicht: Dagboek"
    assert error.reason == "X"
    assert error.body is not None and "Verplicht: Dagboek" in error.body


def test_error_for_body_evidence_trimmed():
    error = get_accounts(503, b"x" * 5000)

    assert error.body == "x" * 500


def test_error_for_no_body_no_evidence():
    assert get_accounts(404).body is None


def test_error_for_lower_case_method_upper_cased():
    error = error_for("post", "crm/Accounts", 1001, 503, b"", {})

    assert isinstance(error, OutcomeUnknown)
    assert str(error).startswith("POST crm/Accounts (division 1001): 503 ")


def test_error_str_without_division():
    error = ExactError("GET", "current/Me", None, 404)

    assert str(error) == "GET current/Me: 404 Not Found"


def test_error_str_without_status_leaves_it_out():
    error = OutcomeUnknown(
        "POST", "crm/Accounts", 7, 0, "the connection dropped after sending"
    )

    assert str(error) == (
        "POST crm/Accounts (division 7): the connection dropped after sending; "
        "outcome unknown, look it up before sending again"
    )


@pytest.mark.parametrize(
    "error",
    [
        NeedsSignIn("POST", "oauth2/token", None, 401, "Old refresh token used."),
        RateLimited(
            "GET", "x", 1, 429, reset=datetime(2024, 1, 1, tzinfo=UTC), limit="daily"
        ),
        DailyLimitReached("GET", "x", 1, 429, reset=datetime(2024, 1, 1, tzinfo=UTC)),
        ValidationFailed("POST", "x", 1, 500, "Verplicht: Dagboek\nReeds verwerkt"),
        ErrorBudgetExhausted("GET", "x", 1, 0, "8 errors in the last hour"),
    ],
)
def test_error_pickle_round_trip_keeps_everything(error):
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes

    assert type(copy) is type(error)
    assert vars(copy) == vars(error)
    assert str(copy) == str(error)


def test_error_tree_drawn_in_module_docstring():
    classes = [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, ExactError) and cls.__module__ == errors.__name__
    ]

    assert len(classes) == 14
    for cls in classes:
        assert re.search(rf"^[ │├└─]*{cls.__name__} ", errors.__doc__, re.M), cls


# 4xx


def test_error_for_400_bad_request_with_exacts_message():
    error = get_accounts(400, exact_body("Bad Request - Error in query syntax."))

    assert type(error) is BadRequest
    assert error.message == "Bad Request - Error in query syntax."


def test_error_for_400_mandatory_filter_message_verbatim():
    text = (
        "This endpoint has mandatory filtering applied. A GET request for this "
        "endpoint must have a $filter parameter with one of the following fields "
        "in the url:Accountant,AccountManager,VATNumber."
    )

    error = get_accounts(400, exact_body(text))

    assert type(error) is BadRequest
    assert error.message == text


@pytest.mark.parametrize("status", [405, 409, 413, 415])
def test_error_for_other_4xx_bad_request(status):
    assert type(post_entry(status)) is BadRequest


def test_error_for_401_unauthorized_with_www_authenticate():
    challenge = 'Bearer error="invalid_token", error_description="access token expired"'

    error = get_accounts(401, b"", {"WWW-Authenticate": challenge})

    assert type(error) is Unauthorized
    assert isinstance(error, ConnectionProblem)
    assert error.message == challenge


def test_error_for_401_object_moved_html():
    body = b"<html><head><title>Object moved</title></head></html>"

    error = get_accounts(401, body)

    assert type(error) is Unauthorized
    assert error.message is None
    assert str(error) == "GET crm/Accounts (division 1001): 401 Unauthorized"


def test_error_for_403_forbidden_with_reason():
    error = get_accounts(403, b"Forbidden", {"reason": "NoDivisionAccess"})

    assert type(error) is Forbidden
    assert error.reason == "NoDivisionAccess"
    assert str(error) == (
        "GET crm/Accounts (division 1001): 403 Forbidden (Reason: NoDivisionAccess)"
    )


def test_error_for_403_scope_violated_message():
    text = "Forbidden - Application Scope Violated. Cannot read"

    error = get_accounts(403, exact_body(text))

    assert type(error) is Forbidden
    assert str(error).endswith(f": 403 {text}")


def test_error_for_404_not_found():
    text = "De gevraagde gegevens zijn niet gevonden"

    error = get_accounts(404, exact_body(text))

    assert type(error) is NotFound
    assert error.message == text


# 429


def test_error_for_429_minutely_resets_at_the_minute():
    error = get_accounts(429, b"", MINUTELY_429)

    assert type(error) is RateLimited
    assert error.limit == "minutely"
    assert error.reset == datetime(2023, 5, 12, 8, 19, tzinfo=UTC)
    assert str(error) == (
        "GET crm/Accounts (division 1001): 429 minutely limit reached, "
        "resets at 2023-05-12 08:19:00 UTC"
    )


def test_error_for_429_daily_headers_only():
    error = post_entry(429, b"", DAILY_429)

    assert type(error) is DailyLimitReached
    assert isinstance(error, RateLimited)
    assert error.limit == "daily"
    assert error.reset == datetime(2023, 5, 13, tzinfo=UTC)
    assert error.sentence == "daily limit reached, resumes after 00:00 UTC"
    assert str(error) == (
        "POST salesentry/SalesEntries (division 1001): 429 "
        "daily limit reached, resumes after 00:00 UTC"
    )


def test_error_for_429_both_limits_daily_spent():
    error = get_accounts(429, b"", {**MINUTELY_429, **DAILY_429})

    assert type(error) is DailyLimitReached


def test_error_for_429_both_limits_minute_spent():
    headers = {**MINUTELY_429, **DAILY_429, "X-RateLimit-Remaining": "4766"}

    error = get_accounts(429, b"", headers)

    assert type(error) is RateLimited
    assert error.limit == "minutely"


def test_error_for_429_without_headers_minutely_no_reset():
    error = get_accounts(429)

    assert type(error) is RateLimited
    assert error.limit == "minutely"
    assert error.reset is None
    assert str(error).endswith(": 429 minutely limit reached")


def test_daily_limit_reached_for_division_before_calling():
    reset = datetime(2024, 5, 13, tzinfo=UTC)

    error = DailyLimitReached.for_division(1001, reset)

    assert error.reset == reset
    assert error.limit == "daily"
    assert error.status == 0
    assert str(error) == f"division 1001: {DAILY_LIMIT_SENTENCE}"


# 5xx


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_error_for_5xx_without_exact_json_on_write_outcome_unknown(method, status):
    error = error_for(method, "salesentry/SalesEntries", 1001, status, HTML_502, {})

    assert type(error) is OutcomeUnknown
    assert error.message is None
    assert "outcome unknown" in str(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_error_for_5xx_without_exact_json_on_get_unavailable(status):
    error = get_accounts(status, HTML_502)

    assert type(error) is Unavailable


def test_error_for_500_empty_body_on_get_unavailable():
    error = get_accounts(500)

    assert type(error) is Unavailable
    assert str(error) == ("GET crm/Accounts (division 1001): 500 Internal Server Error")


def test_error_for_503_with_exact_json_on_write_still_unknown():
    # Only a 500 with Exact's JSON is a business rule; a 503 may have
    # happened anywhere.
    error = post_entry(503, exact_body("Service Unavailable"))

    assert type(error) is OutcomeUnknown
    assert error.message == "Service Unavailable"


def test_error_for_500_json_without_error_object_on_write_unknown():
    error = post_entry(500, b'{"Message": "An error has occurred."}')

    assert type(error) is OutcomeUnknown


def test_error_for_500_exact_json_on_get_validation_failed():
    error = get_accounts(500, exact_body("Ongeldig: Periode 2024-05"))

    assert type(error) is ValidationFailed


def test_error_for_500_exact_json_with_bom():
    error = post_entry(500, b"\xef\xbb\xbf" + exact_body("Gegeven bestaat reeds."))

    assert type(error) is ValidationFailed
    assert error.kind == "already_exists"


def test_error_for_unexpected_status_plain_exact_error():
    error = get_accounts(302, b"Object moved")

    assert type(error) is ExactError
    assert str(error) == "GET crm/Accounts (division 1001): 302 Found"


# Business rules (§6.8)


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Verplicht: Dagboek", "mandatory"),
        ("Mandatory: Diary", "mandatory"),
        ("Mandatory: Relationship", "mandatory"),
        ("Verplicht: Betalingsconditie", "mandatory"),
        ("Verplicht: Serie", "mandatory"),
        ("Invalid reference: Cost unit", "unknown_reference"),
        ("Ongeldige referentie: Journals", "unknown_reference"),
        ("Ongeldige referentie: Btw-code", "unknown_reference"),
        ("Ongeldige referentie: Betalingsconditie", "unknown_reference"),
        ("Ongeldig: Dagboek", "wrong_type"),
        ("Ongeldig: Grootboekrekeningtype", "wrong_type"),
        (
            "Ledger account 1300 is of a wrong type: '20 - Accounts receivable'",
            "wrong_type",
        ),
        ("Ongeldig: Factuur voor (Type)", "wrong_type"),
        ("Ongeldig: Klant (Type)", "wrong_type"),
        ("Invalid: Customer (Type)", "wrong_type"),
        ("Invalid: G/L account type", "wrong_type"),
        ("Ongeldig: Btw-percentage []", "vat_code"),
        ("Ongeldig: Btw-code", "vat_code"),
        ("Invalid: VAT code", "vat_code"),
        ("Periode is afgesloten: 2024-05", "closed_period"),
        ("Period is closed", "closed_period"),
        ("Period is closed: 2024-05", "closed_period"),
        (
            "De boeking is niet in evenwicht op: 2022 / 4 (Type: Inkoopboeking) "
            "- Verschil: EUR -0,01",
            "not_balanced",
        ),
        (
            "This entry is not balanced on: 2021 / 12 (Type: Other) "
            "- Difference: EUR 1.000,00",
            "not_balanced",
        ),
        (
            "Invoer 17: Het bedrag van de BTW regel met BTW code 4 komt niet overeen "
            "met het totaal aan BTW-bedragen in de grondslagregels.",
            "vat_code",
        ),
        ("In gebruik: Boekstuknummer", "entry_number_in_use"),
        ("In use: Entry number", "entry_number_in_use"),
        ("Gegeven bestaat reeds.", "already_exists"),
        ("Bestaat reeds: Code", "already_exists"),
        ("Data already exists.", "already_exists"),
        ("Reeds verwerkt", "other"),
        ("Niet herkende GUID-indeling.", "other"),
        ("Something Exact never said", "other"),
    ],
)
def test_classify_dutch_and_english_texts_of_api_md(message, kind):
    assert classify(message) == kind


def test_error_for_validation_failed_kind_from_message():
    error = post_entry(500, exact_body("Periode is afgesloten: 2024-05"))

    assert type(error) is ValidationFailed
    assert error.kind == "closed_period"
    assert error.messages == ["Periode is afgesloten: 2024-05"]


def test_error_for_validation_failed_several_messages_first_that_classifies():
    text = "Reeds verwerkt\r\nVerplicht: Dagboek\r\nMandatory: Relationship"

    error = post_entry(500, exact_body(text))

    assert type(error) is ValidationFailed
    assert error.messages == [
        "Reeds verwerkt",
        "Verplicht: Dagboek",
        "Mandatory: Relationship",
    ]
    assert error.kind == "mandatory"
    assert error.message == text  # verbatim
    assert str(error).endswith(
        ": 500 Reeds verwerkt; Verplicht: Dagboek; Mandatory: Relationship"
    )


def test_error_for_validation_failed_nothing_classifies_other():
    error = post_entry(500, exact_body("Reeds verwerkt\nNiet herkende GUID-indeling."))

    assert error.kind == "other"


def test_error_for_validation_failed_empty_value_other():
    error = post_entry(500, exact_body(""))

    assert type(error) is ValidationFailed
    assert error.message is None
    assert error.messages == []
    assert error.kind == "other"


# Every text the sandbox answers must land in the kind the sync layer expects.
SANDBOX_KINDS = {
    "journal_missing": "mandatory",
    "journal_unknown": "unknown_reference",
    "journal_type": "wrong_type",
    "customer_missing": "mandatory",
    "supplier_missing": "mandatory",
    "account_unknown": "unknown_reference",
    "not_customer": "wrong_type",
    "not_supplier": "wrong_type",
    "lines_missing": "mandatory",
    "gl_missing": "mandatory",
    "gl_unknown": "unknown_reference",
    "gl_type": "wrong_type",
    "vat_unknown": "unknown_reference",
    "vat_side": "vat_code",
    "vat_mismatch": "vat_code",
    "not_balanced": "not_balanced",
    "period_closed": "closed_period",
    "period_missing": "closed_period",
    "entry_number_used": "entry_number_in_use",
    "already_exists": "already_exists",
    "payment_condition_unknown": "unknown_reference",
    "payment_condition_missing": "mandatory",
    "document_unknown": "unknown_reference",
    "guid_format": "other",
    "mandatory": "mandatory",
    "processed": "other",
    "attachment_too_large": "other",
}
SANDBOX_ARGS = {
    "vat_mismatch": (17, "4"),
    "not_balanced": (2022, 4, "Inkoopboeking", "EUR", "-0,01"),
    "period_closed": (2024, 5),
    "period_missing": (2024, 5),
    "mandatory": ("Serie",),
}


def test_classify_covers_every_sandbox_message():
    assert set(MESSAGES) == set(SANDBOX_KINDS)


@pytest.mark.parametrize("key", sorted(SANDBOX_KINDS))
@pytest.mark.parametrize("language", [0, 1], ids=["nl", "en"])
def test_classify_sandbox_messages_both_languages(key, language):
    text = MESSAGES[key][language].format(*SANDBOX_ARGS.get(key, ()))

    assert classify(text) == SANDBOX_KINDS[key], text


# exact_message


def test_exact_message_crlf_body():
    assert exact_message(exact_body("Verplicht: Serie")) == "Verplicht: Serie"


def test_exact_message_compact_body():
    body = b'{"error": {"code": "", "message": {"lang": "", "value": "Forbidden"}}}'

    assert exact_message(body) == "Forbidden"


def test_exact_message_token_endpoint_shape():
    body = token_body("unauthorized_client", "Old refresh token used.")

    assert exact_message(body) == "Old refresh token used."


def test_exact_message_token_endpoint_without_description():
    assert exact_message(token_body("invalid_request")) == "invalid_request"


@pytest.mark.parametrize(
    "body",
    [b"", b"Bad Request", HTML_502, b"[1, 2]", b'{"d": {}}', b"\xff\xfe", b"null"],
)
def test_exact_message_not_exacts_shape_none(body):
    assert exact_message(body) is None


# Token endpoint (§3.3)


def test_token_error_old_refresh_token_used_needs_sign_in():
    error = token_error(
        401, token_body("unauthorized_client", "Old refresh token used."), {}
    )

    assert type(error) is NeedsSignIn
    assert error.message == "Old refresh token used."
    assert "already used" in error.sentence
    assert error.sentence.endswith("Someone must connect the company to Exact again.")
    assert str(error).startswith("POST oauth2/token: 401 ")


def test_token_error_refresh_token_expired_needs_sign_in():
    text = (
        "The refresh token expired at 10/11/2022 9:18:20 PM and it is now "
        "10/28/2022 4:15:50 PM."
    )

    error = token_error(400, token_body("invalid_request", text), {})

    assert type(error) is NeedsSignIn
    assert "expired" in error.sentence
    assert text in error.sentence


def test_token_error_invalid_grant_needs_sign_in():
    text = "Token is not allowed, because of invalid or empty chainId"

    error = token_error(400, token_body("invalid_grant", text), {})

    assert type(error) is NeedsSignIn
    assert "connect the company to Exact again" in str(error)


def test_token_error_refresh_too_early_2026_shape():
    text = "Rate limit exceeded: access_token not expired"
    headers = {"Reason": f"TooEarlyToRefreshTokens: {text}"}

    error = token_error(400, token_body("access_denied", text), headers)

    assert type(error) is RefreshTooEarly
    assert isinstance(error, ConnectionProblem)
    assert not isinstance(error, NeedsSignIn)
    assert error.reason == headers["Reason"]


def test_token_error_refresh_too_early_2021_shape():
    error = token_error(401, b"", {"Reason": "Access Token not expired"})

    assert type(error) is RefreshTooEarly


def test_token_error_bare_invalid_request_not_sign_in():
    # Wrong client id or secret: a new sign-in would not help.
    error = token_error(400, token_body("invalid_request"), {})

    assert type(error) is ConnectionProblem
    assert str(error) == "POST oauth2/token: 400 invalid_request"


def test_token_error_token_call_budget_not_sign_in():
    text = "Rate limit exceeded: token endpoint limit of 200 calls per day reached"

    error = token_error(400, token_body("access_denied", text), {})

    assert type(error) is ConnectionProblem


def test_token_error_plain_bad_request_not_sign_in():
    error = token_error(400, b"Bad Request", {})

    assert type(error) is ConnectionProblem
    assert error.message is None


def test_token_error_exact_down():
    error = token_error(503, HTML_502, {})

    assert type(error) is ConnectionProblem
    assert str(error) == "POST oauth2/token: 503 Service Unavailable"


def test_error_for_token_path_reads_token_shape():
    body = token_body("unauthorized_client", "Old refresh token used.")

    error = error_for("POST", "oauth2/token", None, 401, body, {})

    assert type(error) is NeedsSignIn


def test_needs_sign_in_for_connection_short_reason():
    error = NeedsSignIn.for_connection(1001, "no tokens are stored")

    assert error.sentence == (
        "This company's connection to Exact Online has stopped working: "
        "no tokens are stored. Someone must connect the company to Exact again."
    )
    assert str(error) == f"division 1001: {error.sentence}"


def test_needs_sign_in_for_connection_keeps_earlier_sentence():
    earlier = token_error(
        401, token_body("unauthorized_client", "Old refresh token used."), {}
    )

    again = NeedsSignIn.for_connection(1001, earlier.sentence)

    assert isinstance(earlier, NeedsSignIn)
    assert again.sentence == earlier.sentence


def test_needs_sign_in_for_connection_without_reason():
    error = NeedsSignIn.for_connection(1001, None)

    assert error.sentence.endswith("Someone must connect the company to Exact again.")
