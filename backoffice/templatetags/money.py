"""`{% load money %}{{ amount|money:currency }}`: money in the active language's format."""

from decimal import Decimal

from django import template

from backoffice.money import format_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """`{{ order.total|money:order.currency }}`: "1.197,02 €" in German, "€1,197.02" in English."""
    if amount is None or amount == "":
        return ""
    return format_money(Decimal(amount), currency)
