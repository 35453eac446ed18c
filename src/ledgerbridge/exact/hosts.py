"""Exact Online's country hosts (API.md §2).

A division lives on exactly one host, and tokens issued by one host work
only there, so a company's connection remembers its host. Every host has the
same layout: `/api/oauth2/auth`, `/api/oauth2/token` and `/api/v1/…`.

A base URL set in the configuration wins over this table: the sandbox
(`http://127.0.0.1:8700`) or any host Exact adds later is reached by
configuring its base URL, not by a country code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

HOSTS: Mapping[str, str] = MappingProxyType(
    {
        "NL": "https://start.exactonline.nl",
        "BE": "https://start.exactonline.be",
        "DE": "https://start.exactonline.de",
        "FR": "https://start.exactonline.fr",
        "GB": "https://start.exactonline.co.uk",
        "ES": "https://start.exactonline.es",
        "US": "https://start.exactonline.com",
    }
)
"""ISO 3166 country code → base URL, without a trailing slash."""

_ALIASES: Mapping[str, str] = MappingProxyType({"UK": "GB"})


def host_for(country: str) -> str:
    """The base URL of Exact Online for `country` (`"NL"`, `"be"`, `"GB"`,
    `"UK"`, …); raises `ValueError` for a country Exact has no host for."""
    code = country.strip().upper()
    code = _ALIASES.get(code, code)
    try:
        return HOSTS[code]
    except KeyError:
        known = ", ".join(sorted(HOSTS))
        raise ValueError(
            f"Exact Online has no host for country {country!r}; known countries: "
            f"{known}. For another host or the sandbox, configure the base URL."
        ) from None
