"""Money: two decimal places, exact cents, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cinema_core import Money


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("25.00", 2500),
        ("25", 2500),
        ("25.5", 2550),
        ("0.01", 1),
        ("007.10", 710),
        ("-3.50", -350),
        ("9999999999999.99", 999999999999999),
    ],
)
def test_decimal_strings_parse_to_exact_cents(text: str, cents: int) -> None:
    """A decimal string (ASCII digits, at most two decimals) is read exactly."""
    assert Money.parse(text).cents == cents


def test_integers_and_decimals_parse_exactly() -> None:
    """Exact numbers (int, Decimal) are accepted as well as strings."""
    assert Money.parse(12) == Money(1200)
    assert Money.parse(Decimal("0.10")) == Money(10)
    assert Money.parse(Decimal("1E+2")) == Money(10000)


def test_a_decimal_with_more_than_two_places_is_refused() -> None:
    """Decimal("25.000") has three places: refused like the string."""
    with pytest.raises(ValueError, match="two decimal places"):
        Money.parse(Decimal("25.000"))


@pytest.mark.parametrize("value", [25.0, 0.1, True])
def test_floats_and_booleans_are_refused(value: object) -> None:
    """A float cannot carry cents exactly, so it is never accepted (nor a bool posing as 1)."""
    with pytest.raises(ValueError, match="decimal string"):
        Money.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["25.001", "0.005", "19.999", "25.000", "25.0000", "0.100"])
def test_a_third_decimal_place_is_refused_not_rounded(text: str) -> None:
    """Money is never rounded, and written with at most two decimals: a third place is an
    error even when it is a zero."""
    with pytest.raises(ValueError, match="two decimal places"):
        Money.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "25,00",
        "1.2.3",
        "$5",
        "1_000",
        "1_000.00",
        "\u0662\u0665",  # Arabic-Indic digits: Decimal reads them, the contract does not
        "\uff12\uff15.00",  # fullwidth digits
        "\u0967\u0966",  # Devanagari digits
        "1e2",
        "1E-5",
        " 7.10 ",
        "7.10\n",
        "+5",
        "25.",
        ".5",
        "- 5",
    ],
)
def test_text_that_is_not_a_plain_decimal_is_refused(text: str) -> None:
    """Only ASCII digits, an optional minus and point, and up to two decimals are money:
    underscores, other scripts' digits, exponents and padding are refused."""
    with pytest.raises(ValueError, match="decimal string"):
        Money.parse(text)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", "sNaN"])
def test_non_finite_amounts_are_refused(text: str) -> None:
    """NaN and infinities are not amounts."""
    with pytest.raises(ValueError, match="finite"):
        Money.parse(text)


@pytest.mark.parametrize(
    "text", ["1000000000000000", "99999999999999999999", "10000000000000.00", "-10000000000000"]
)
def test_absurdly_large_amounts_are_refused(text: str) -> None:
    """Amounts beyond what any store column holds are refused, not truncated."""
    with pytest.raises(ValueError, match="too large"):
        Money.parse(text)


def test_long_amounts_with_many_decimals_are_refused_as_values() -> None:
    """Digits beyond decimal precision still give a ValueError, never an arithmetic crash."""
    with pytest.raises(ValueError):  # noqa: PT011 - which message does not matter here
        Money.parse("123456789012345678901234567.001")


@pytest.mark.parametrize(
    ("cents", "text"), [(2500, "25.00"), (1, "0.01"), (10, "0.10"), (0, "0.00"), (-350, "-3.50")]
)
def test_money_formats_with_two_places(cents: int, text: str) -> None:
    """The API writes money as a string with exactly two decimals."""
    assert str(Money(cents)) == text


def test_multiplying_by_a_seat_count_keeps_cents_and_currency() -> None:
    """Seats × price is exact and stays in the price's currency."""
    assert Money(2550, "USD") * 3 == Money(7650, "USD")


def test_currency_defaults_to_brl() -> None:
    """Without a currency, money is in reais."""
    assert Money.parse("1.00").currency == "BRL"
    assert Money.parse("1.00", "EUR").currency == "EUR"
