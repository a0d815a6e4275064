"""EU VAT IDs and membership: the rules a customer company must satisfy.

Countries are ISO 3166-1 alpha-2 codes everywhere (Greece is `GR`). Only VAT IDs use the
EU's own prefix for Greece, `EL`; this module is the one place that maps between the two.
"""

from django.core.exceptions import ValidationError
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumValidationError

# The 27 member states (ISO codes). Northern Ireland's `XI` prefix is a VAT prefix, not a
# country: its addresses are in `GB`, outside this set.
# fmt: off
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on

_VAT_PREFIX_BY_COUNTRY = {"GR": "EL"}
_COUNTRY_BY_VAT_PREFIX = {"EL": "GR", "XI": "GB"}


def is_in_eu(country: str) -> bool:
    return country.upper() in EU_COUNTRIES


def normalize_vat_id(value: str) -> str:
    """Return the VAT ID in its compact form (`DE136695976`) or raise ValidationError.

    The check digits are verified with python-stdnum. A Greek number typed with the ISO
    code (`GR…`) is stored with the prefix VIES and InfinitePay expect (`EL…`).
    """
    try:
        compact = eu_vat.compact(value)
    except StdnumValidationError:
        compact = ""
    prefix = compact[:2]
    compact = _VAT_PREFIX_BY_COUNTRY.get(prefix, prefix) + compact[2:]
    if not compact or not eu_vat.is_valid(compact):
        raise ValidationError(
            "Enter a valid EU VAT ID with its country prefix, e.g. DE136695976.",
            code="invalid_vat_id",
        )
    return compact


def vat_id_country(vat_id: str) -> str:
    """The ISO country code of a compact VAT ID's issuer (`EL…` is Greece, `GR`)."""
    prefix = vat_id[:2].upper()
    return _COUNTRY_BY_VAT_PREFIX.get(prefix, prefix)


def vat_prefix(country: str) -> str:
    """The VAT ID prefix of an EU country (`GR` → `EL`)."""
    country = country.upper()
    return _VAT_PREFIX_BY_COUNTRY.get(country, country)
