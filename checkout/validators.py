"""What the storefront accepts, a payment provider can be sent and the database can store.

Text a buyer or an admin enters may end up in a provider's XML message, so it holds only
the characters XML 1.0 carries; a currency is an ISO 4217 code; an id stays inside the
integer range of its column.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from payment_rules.currencies import validate_currency_code

# XML 1.0, production [2] Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF]. Anything else (C0 controls, lone surrogates, U+FFFE, U+FFFF) cannot
# be written into a message at all.
NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The largest id a BigAutoField holds on every database we run on (signed 64 bits).
MAX_ID = 2**63 - 1


def validate_xml_text(value: str) -> None:
    """Refuse text holding a character XML 1.0 cannot carry (e.g. a pasted control code)."""
    match = NOT_XML_CHAR.search(value)
    if match is None:
        return
    raise ValidationError(
        _(
            "Remove the control character %(char)s (at position %(position)s): "
            "it cannot be sent to the payment provider."
        ),
        code="not_xml_text",
        params={"char": f"U+{ord(match.group()):04X}", "position": match.start() + 1},
    )


# One list of currencies for the whole product: the payment rules' (ISO 4217, upper case).
validate_currency = validate_currency_code
