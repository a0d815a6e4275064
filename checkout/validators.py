"""What the storefront accepts, a payment provider can be sent and the database can store.

Text a buyer or an admin enters may end up in a provider's XML message, so it holds only
the characters XML 1.0 carries; a currency is an ISO 4217 code; an id stays inside the
integer range of its column.
"""

import re

from django.core.exceptions import ValidationError

# XML 1.0, production [2] Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] |
# [#x10000-#x10FFFF]. Anything else (C0 controls, lone surrogates, U+FFFE, U+FFFF) cannot
# be written into a message at all.
NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# The largest id a BigAutoField holds on every database we run on (signed 64 bits).
MAX_ID = 2**63 - 1

# ISO 4217 codes of the currencies an invoice can be written in: the fund, metal, test and
# "no currency" codes (BOV, XAU, XTS, XXX, …) are left out on purpose.
ISO_4217_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF
    YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905 (a table reads better than 160 quoted strings)
)


def validate_xml_text(value: str) -> None:
    """Refuse text holding a character XML 1.0 cannot carry (e.g. a pasted control code)."""
    match = NOT_XML_CHAR.search(value)
    if match is None:
        return
    raise ValidationError(
        "Remove the control character %(char)s (at position %(position)s): "
        "it cannot be sent to the payment provider.",
        code="not_xml_text",
        params={"char": f"U+{ord(match.group()):04X}", "position": match.start() + 1},
    )


def validate_currency(value: str) -> None:
    """Accept an ISO 4217 currency code in capitals, as InfinitePay and the rules expect."""
    if value not in ISO_4217_CURRENCIES:
        raise ValidationError(
            "Enter an ISO 4217 currency code in capitals, e.g. EUR (not %(value)s).",
            code="invalid_currency",
            params={"value": value},
        )
