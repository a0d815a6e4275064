"""Template filters of the shop's pages."""

from collections.abc import Mapping
from typing import Any

from django import template

from checkout.places import country_name as name_of_country
from checkout.places import place

register = template.Library()


@register.filter
def address_place(address: Mapping[str, Any] | Any) -> str:
    """An address's country and region by name: an order's snapshot or a customer address."""
    if isinstance(address, Mapping):
        return place(address.get("country", ""), address.get("region", ""))
    return place(address.country.code, address.region)


@register.filter
def country_name(code: str) -> str:
    """A country's name in the active language: "Deutschland" for DE."""
    return name_of_country(code)
