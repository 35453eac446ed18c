"""Belgian structured communication (OGM/VCS): `+++123/4567/89012+++`.

Twelve digits: ten free ones and a mod-97 check (97 when the rest is 0). The
check itself is python-stdnum's `be.ogm_vcs`; this module formats and generates.
"""

from __future__ import annotations

from stdnum.be import ogm_vcs as ogm
from stdnum.exceptions import ValidationError


class InvalidStructuredReference(ValueError):
    pass


def generate(base: int) -> str:
    """The structured communication for a base number of at most ten digits."""
    if not 0 <= base < 10**10:
        raise InvalidStructuredReference(f"{base} does not fit in ten digits")
    digits = f"{base:010d}"
    return format_reference(digits + ogm.calc_check_digits(digits))


def format_reference(digits: str) -> str:
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


def normalise(value: str) -> str:
    """Validate a reference typed in any usual way and return it formatted."""
    try:
        digits = ogm.validate(value.strip().replace("*", "+"))
    except ValidationError as exc:
        raise InvalidStructuredReference(
            f"{value!r} is not a valid structured communication: expected twelve "
            "digits such as +++123/4567/89002+++ whose last two are the first "
            "ten modulo 97"
        ) from exc
    return format_reference(digits)


def is_structured(value: str) -> bool:
    stripped = value.strip()
    return stripped.startswith(("+++", "***")) or (
        stripped.replace("/", "").isdigit() and len(stripped.replace("/", "")) == 12
    )
