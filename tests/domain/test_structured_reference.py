import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.domain.structured_reference import (
    InvalidStructuredReference,
    format_reference,
    generate,
    is_structured,
    normalise,
)

# charts.md §7.7: base, check digits, result.
TABLE = [
    (108068171, "+++010/8068/17183+++"),  # python-stdnum's doc example
    (1234567890, "+++123/4567/89002+++"),
    (909337554, "+++090/9337/55493+++"),  # eConnect's example
    (97, "+++000/0000/09797+++"),  # remainder 0 → check 97
    (2500700042, "+++250/0700/04278+++"),
]


@pytest.mark.parametrize(("base", "reference"), TABLE)
def test_generate_charts_table(base, reference):
    assert generate(base) == reference


@pytest.mark.parametrize(("base", "reference"), TABLE)
def test_normalise_charts_table(base, reference):
    assert normalise(reference) == reference


def test_generate_zero_remainder_check_is_97():
    assert generate(0) == "+++000/0000/00097+++"
    assert generate(1197465) == "+++000/1197/46597+++"  # 97 × 12345


@pytest.mark.parametrize("base", [-1, 10**10])
def test_generate_base_beyond_ten_digits_refused(base):
    with pytest.raises(InvalidStructuredReference, match="ten digits"):
        generate(base)


@pytest.mark.parametrize(
    "typed",
    [
        "***010/8068/17183***",
        "010806817183",
        "010/8068/17183",
        "  +++010/8068/17183+++  ",
        "+++ 010 / 8068 / 17183 +++",
    ],
)
def test_normalise_usual_spellings_accepted(typed):
    assert normalise(typed) == "+++010/8068/17183+++"


def test_normalise_wrong_check_digits_refused():
    with pytest.raises(InvalidStructuredReference) as raised:
        normalise("+++010/8068/17184+++")

    message = str(raised.value)
    assert "'+++010/8068/17184+++' is not a valid structured communication" in message
    assert "expected twelve digits" in message
    assert "last two are the first ten modulo 97" in message
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "typed", ["", "+++010/8068/1718+++", "0108068171833", "+++ABC/DEFG/HIJKL+++"]
)
def test_normalise_not_twelve_digits_refused(typed):
    with pytest.raises(InvalidStructuredReference, match="expected twelve digits"):
        normalise(typed)


def test_format_reference_groups_3_4_5():
    assert format_reference("123456789002") == "+++123/4567/89002+++"


@pytest.mark.parametrize(
    "value",
    ["+++010/8068/17183+++", "***010/8068/17183***", "010806817183", "010/8068/17183"],
)
def test_is_structured_structured_spellings(value):
    assert is_structured(value)


@pytest.mark.parametrize("value", ["INV-2025-0042", "2025-0042", "01080681718", ""])
def test_is_structured_free_text(value):
    assert not is_structured(value)


@settings(max_examples=10_000, deadline=None)
@given(base=st.integers(min_value=0, max_value=10**10 - 1))
def test_generate_normalise_round_trip(base):
    reference = generate(base)
    digits = reference.strip("+").replace("/", "")

    assert normalise(reference) == reference
    assert normalise(digits) == reference
    assert normalise(reference.replace("+", "*")) == reference
    assert is_structured(reference)
    assert int(digits[:10]) == base
    assert int(digits[10:]) == (base % 97 or 97)
