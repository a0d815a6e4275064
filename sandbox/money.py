"""Money on the wire: cents as digits. Read tolerantly ("1000" and "1000.0" alike)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def read_cents(text: str) -> int | None:
    """Whole cents from the wire, or None if the text is not a whole number of cents."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def amount(cents: int) -> Decimal:
    """Cents as an amount in the currency, e.g. 23800 → 238.00."""
    return (Decimal(cents) / 100).quantize(CENT)


def cents(value: Decimal) -> int:
    """An amount in cents, rounded half-up."""
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))
