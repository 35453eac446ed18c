from __future__ import annotations

import pytest

from ledgerbridge.exact.hosts import HOSTS, host_for


@pytest.mark.parametrize(
    ("country", "url"),
    [
        ("NL", "https://start.exactonline.nl"),
        ("BE", "https://start.exactonline.be"),
        ("DE", "https://start.exactonline.de"),
        ("FR", "https://start.exactonline.fr"),
        ("GB", "https://start.exactonline.co.uk"),
        ("ES", "https://start.exactonline.es"),
        ("US", "https://start.exactonline.com"),
    ],
)
def test_host_for_every_country_of_api_md(country, url):
    assert host_for(country) == url


def test_host_for_lower_case_and_spaces():
    assert host_for(" be ") == "https://start.exactonline.be"


def test_host_for_uk_means_gb():
    assert host_for("UK") == host_for("GB")


@pytest.mark.parametrize("country", ["IT", "", "Netherlands", "NLD"])
def test_host_for_unknown_country_raises(country):
    with pytest.raises(ValueError, match="no host for country") as raised:
        host_for(country)

    assert "BE, DE, ES, FR, GB, NL, US" in str(raised.value)
    assert "configure the base URL" in str(raised.value)


def test_hosts_https_without_trailing_slash():
    assert len(HOSTS) == 7
    for url in HOSTS.values():
        assert url.startswith("https://start.exactonline.")
        assert not url.endswith("/")


def test_hosts_read_only():
    with pytest.raises(TypeError):
        HOSTS["IT"] = "https://example.test"
