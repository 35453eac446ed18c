import dataclasses
from types import MappingProxyType

import pytest

from ledgerbridge.domain.accounting import (
    DEFAULT_DAILY_TIME,
    AccountingSettings,
    ExportSettings,
    check_settings,
)


def _settings(sales=None, purchases=None):
    return AccountingSettings(
        sales=ExportSettings(enabled=True, vat_codes=MappingProxyType(sales or {})),
        purchases=ExportSettings(vat_codes=MappingProxyType(purchases or {})),
    )


def test_check_settings_defaults_valid(be_company):
    assert check_settings(AccountingSettings(), be_company) == []


def test_check_settings_defaults_off_at_half_past_two():
    settings = AccountingSettings()

    assert not settings.sales.enabled
    assert not settings.purchases.enabled
    assert not settings.payments.enabled
    assert settings.sales.daily.at == DEFAULT_DAILY_TIME
    assert settings.sales.vat_codes == {}


def test_check_settings_vat_codes_valid(be_company):
    settings = _settings(
        sales={"BE-21": "V21", "BE-06-RENOVATION": "6", "BE-REVERSE-CHARGE": "VMC"},
        purchases={"BE-21": "A21"},
    )

    assert check_settings(settings, be_company) == []


def test_check_settings_vat_scenario_unknown(be_company):
    problems = check_settings(_settings(sales={"BE-99": "V99"}), be_company)

    assert [p.field for p in problems] == ["sales.vat_codes.BE-99"]
    assert "unknown VAT scenario 'BE-99'" in problems[0].message


def test_check_settings_vat_scenario_of_other_country(be_company):
    problems = check_settings(_settings(purchases={"NL-21": "1"}), be_company)

    assert [p.field for p in problems] == ["purchases.vat_codes.NL-21"]
    assert "'NL-21' is for NL" in problems[0].message


@pytest.mark.parametrize("vat_code", ["V210", ""])
def test_check_settings_vat_code_not_1_to_3_characters(be_company, vat_code):
    problems = check_settings(_settings(sales={"BE-21": vat_code}), be_company)

    assert [p.field for p in problems] == ["sales.vat_codes.BE-21"]
    assert f"{vat_code!r} is not an Exact VAT code (1 to 3 characters)" in (
        problems[0].message
    )


def test_check_settings_every_problem_reported(nl_company):
    settings = _settings(
        sales={"NL-21": "1234", "NL-09": "2", "BE-21": "V21"},
        purchases={"NL-XX": "9"},
    )

    assert [p.field for p in check_settings(settings, nl_company)] == [
        "sales.vat_codes.NL-21",
        "sales.vat_codes.BE-21",
        "purchases.vat_codes.NL-XX",
    ]


def test_settings_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AccountingSettings().sales.enabled = True  # type: ignore[misc]
