"""Money as the back office shows it: in the language's number format, with its currency."""

from decimal import Decimal

from django.utils.formats import number_format


def format_money(amount: Decimal, currency: str) -> str:
    """E.g. "1,197.02 EUR" in English: grouped, two decimals, the active language's marks."""
    return f"{number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)} {currency}"
