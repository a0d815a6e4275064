"""The wire's encodings, the security code, safe parsing of answers, and redaction."""

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from infinitepay import wire
from infinitepay.messages import Exchange, Operation


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("14.87", 1487),
        ("1998.9999999999998", 199900),
        ("2378.80", 237880),
        ("0.005", 1),  # half-up, not banker's rounding
        ("0.015", 2),
        ("0.004", 0),
        ("0", 0),
    ],
)
def test_money_travels_as_cents_rounded_half_up(amount, cents):
    assert wire.to_cents(Decimal(amount)) == cents


def test_vat_rate_is_sent_times_ten_thousand():
    assert wire.vat_rate_code(Decimal("0.19")) == 1900
    assert wire.vat_rate_code(Decimal("0.07")) == 700
    assert wire.vat_rate_code(Decimal("0")) == 0


def test_security_code_is_base64_of_the_hex_hmac():
    expected_hex = hmac.new(b"demo-secret", b"DEMO-CLIENTORD-42", hashlib.sha256).hexdigest()
    code = wire.security_code(
        secret="demo-secret", client_reference="DEMO-CLIENT", order_id="ORD-42"
    )
    assert code == base64.b64encode(expected_hex.encode()).decode()
    assert base64.b64decode(code).decode() == expected_hex.lower()
    assert len(base64.b64decode(code)) == 64


def test_dates_times_countries_and_flags():
    assert wire.format_date(date(2026, 1, 5)) == "20260105"
    berlin = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 4, 23, 30, 0, tzinfo=UTC)
    assert wire.format_transaction_time(moment, berlin) == "20260105 003000"
    assert wire.country_alpha3("DE") == "DEU"
    assert wire.country_alpha3("at") == "AUT"
    with pytest.raises(ValueError):
        wire.country_alpha3("XX")
    assert (wire.format_flag(True), wire.format_flag(False)) == ("1", "0")


ENTITY_DOCUMENT = b"""<?xml version="1.0"?>
<!DOCTYPE Envelope [<!ENTITY boom "exploded">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
<soapenv:Body><x>&boom;</x></soapenv:Body></soapenv:Envelope>"""

EXTERNAL_ENTITY_DOCUMENT = b"""<?xml version="1.0"?>
<!DOCTYPE Envelope [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
<soapenv:Body><x>&secret;</x></soapenv:Body></soapenv:Envelope>"""


@pytest.mark.parametrize("document", [ENTITY_DOCUMENT, EXTERNAL_ENTITY_DOCUMENT])
def test_documents_with_entity_declarations_are_refused(document):
    with pytest.raises(wire.MalformedXML, match="document type declaration"):
        read(document)


@pytest.mark.parametrize("document", [b"", b"not xml", b"<a><b></a>", b"<plain/>"])
def test_non_soap_documents_are_refused(document):
    with pytest.raises(wire.MalformedXML):
        read(document)


def test_redaction_removes_password_and_security_code_in_any_form():
    text = (
        "<wsse:Password Type='x'>any</wsse:Password><SECURITY_CD>abc</SECURITY_CD>"
        "<faultstring>echo p&amp;w0rd and p&w0rd and s3cr3t</faultstring>"
    )
    redacted = wire.redact(text, secrets=["p&w0rd", "s3cr3t"])
    assert "any" not in redacted and "abc" not in redacted
    assert "p&w0rd" not in redacted and "p&amp;w0rd" not in redacted and "s3cr3t" not in redacted
    assert redacted.count(wire.REDACTED) == 5


def read(document: bytes):
    exchange = Exchange(Operation.CAPTURE, "u", "", "", 200, 1)
    return wire.read_answer(
        document,
        operation=Operation.CAPTURE,
        expected="{urn:x}captureOrderResponse",
        order_id="O-1",
        exchange=exchange,
    )
