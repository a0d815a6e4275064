"""Countries and regions by name, in the active language: "Deutschland (Berlin)", not "DE (DE-BE)".

Addresses keep ISO codes (3166-1 for countries, 3166-2 for regions); people read names.
"""

import gettext
from functools import cache

import pycountry
from django.utils.translation import get_language
from django_countries import countries


def country_name(code: str) -> str:
    """The country's name in the active language (django-countries' translations)."""
    return str(countries.name(code)) or code


def region_name(code: str) -> str:
    """The region's name in the active language (pycountry's ISO 3166-2 translations)."""
    subdivision = pycountry.subdivisions.get(code=code.upper()) if code else None
    if subdivision is None:
        return code
    return _iso_3166_2(get_language() or "en").gettext(subdivision.name)


def place(country: str, region: str = "") -> str:
    """The country, and the region in brackets when there is one: "Deutschland (Berlin)"."""
    name = country_name(country)
    return f"{name} ({region_name(region)})" if region else name


@cache
def _iso_3166_2(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-2", pycountry.LOCALES_DIR, languages=[language.split("-")[0]], fallback=True
    )
