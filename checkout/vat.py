"""VAT IDs and EU membership: the rules a customer company must satisfy.

Countries are ISO 3166-1 alpha-2 codes everywhere (Greece is `GR`, the United Kingdom
`GB`). Only VAT IDs use other prefixes: the EU's `EL` for Greece, `XI` for Northern Ireland
(UK VAT under the EU's rules for goods) and `CHE` for Switzerland. This module is the one
place that knows them.

Besides the EU's, InfinitePay serves companies of the United Kingdom, Switzerland and
Norway: their VAT IDs are checked with their own rules (python-stdnum).
"""

import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.ch import uid as ch_uid
from stdnum.ch import vat as ch_vat
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat
from stdnum.no import mva as no_mva

# The 27 member states (ISO codes). Northern Ireland's `XI` prefix is a VAT prefix, not a
# country: its addresses are in `GB`, outside this set.
# fmt: off
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on

INVALID_VAT_ID = _(
    "Enter a valid VAT ID with its country prefix, e.g. DE136695976 "
    "(EU countries, GB, XI, CHE or NO)."
)
# Typed between the groups of digits; never part of a VAT ID.
_SEPARATORS = re.compile(r"[\s.\-/,:]")
_SWISS_SUFFIXES = ("MWST", "TVA", "IVA", "TPV")


def is_in_eu(country: str) -> bool:
    return country.upper() in EU_COUNTRIES


def normalize_vat_id(value: str) -> str:
    """Return the VAT ID in its compact form (`DE136695976`) or raise ValidationError.

    The check digits are verified with python-stdnum. A Greek number typed with the ISO
    code (`GR…`) is stored with the prefix VIES and InfinitePay expect (`EL…`); a Norwegian
    one always ends in `MVA`, as the register writes it.
    """
    text = _SEPARATORS.sub("", value).upper()
    if text.startswith("GR"):
        text = "EL" + text[2:]
    normalize = _NORMALIZERS.get(text[:3], _NORMALIZERS.get(text[:2], _european))
    compact = normalize(text)
    if compact is None:
        raise ValidationError(INVALID_VAT_ID, code="invalid_vat_id")
    return compact


def _european(text: str) -> str | None:
    """An EU member state's VAT ID, or Northern Ireland's (`XI`)."""
    if len(text) < 3 or not eu_vat.is_valid(text):
        return None
    return eu_vat.compact(text)


def _british(text: str) -> str | None:
    return text if gb_vat.is_valid(text[2:]) else None


def _swiss(text: str) -> str | None:
    """`CHE` and nine digits: the company's UID, with a VAT suffix (MWST, TVA…) or without."""
    if text.endswith(_SWISS_SUFFIXES):
        return text if ch_vat.is_valid(text) else None
    return text if ch_uid.is_valid(text) else None


def _norwegian(text: str) -> str | None:
    number = text[2:].removesuffix("MVA")
    return f"NO{number}MVA" if no_mva.is_valid(f"{number}MVA") else None


_NORMALIZERS: dict[str, Callable[[str], str | None]] = {
    "GB": _british,
    "CHE": _swiss,
    "NO": _norwegian,
}
