"""Money and numbers as the back office and the shop show them: in the active language's format."""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, get_currency_precision
from django.utils import translation
from django.utils.formats import number_format


def format_money(amount: Decimal, currency: str) -> str:
    """Write an amount as the active language does: "1.197,02 €" in German, "€1,197.02" in English.

    Babel knows each locale's currency pattern (where the symbol goes, the marks for
    thousands and decimals), so nothing here is written by hand. Cents are rounded half-up,
    as everywhere else in the product (Babel's own rounding is half-even).
    """
    places = Decimal(1).scaleb(-get_currency_precision(currency))
    rounded = Decimal(amount).quantize(places, rounding=ROUND_HALF_UP)
    locale = translation.to_locale(translation.get_language() or "en")
    return format_currency(rounded, currency, locale=locale)


def format_number(value: float | Decimal, decimal_pos: int | None = None) -> str:
    """Write a number as the active language does, thousands marked: 10.000 in German,
    10,000 in English (Django's formats, which mark thousands only when asked)."""
    return number_format(value, decimal_pos=decimal_pos, use_l10n=True, force_grouping=True)
