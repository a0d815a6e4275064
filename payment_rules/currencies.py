"""Currency codes of payment rules: ISO 4217, upper case, from pycountry's copy of the standard."""

from __future__ import annotations

import functools

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext


def normalize_currency_code(value: str) -> str:
    """Read a typed code the way a user means it: " eur" is EUR."""
    return (value or "").strip().upper()


def validate_currency_code(value: str) -> None:
    """Accept only a current ISO 4217 code as stored: upper case, e.g. EUR (normalize first)."""
    if value not in iso_4217_codes():
        raise ValidationError(
            gettext(
                "%(value)s is not an ISO 4217 currency code: enter one such as EUR, CHF or USD."
            ),
            code="currency_unknown",
            params={"value": repr(value)},
        )


# Codes no invoice is written in: funds, precious metals, SDRs, testing and "no currency".
NOT_FOR_INVOICES = frozenset(
    {"BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW", "XAG", "XAU", "XBA"}
    | {"XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
)


@functools.cache
def iso_4217_codes() -> frozenset[str]:
    """Current ISO 4217 codes an invoice can be written in."""
    return frozenset(currency.alpha_3 for currency in pycountry.currencies) - NOT_FOR_INVOICES
