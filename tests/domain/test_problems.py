import pytest

from ledgerbridge.domain.problems import InvalidInput, Problem


def test_invalid_input_lists_every_problem():
    problems = [
        Problem("number", "the invoice needs a number"),
        Problem("lines[0].quantity", "the quantity is zero"),
    ]

    with pytest.raises(InvalidInput) as raised:
        raise InvalidInput(problems)

    assert raised.value.problems == problems
    assert str(raised.value) == (
        "number: the invoice needs a number; lines[0].quantity: the quantity is zero"
    )
    assert isinstance(raised.value, ValueError)
