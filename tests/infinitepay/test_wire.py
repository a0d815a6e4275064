"""The wire format: encodings, the security code, the envelope, schema validity, safe parsing."""

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from infinitepay import wire
from infinitepay.messages import (
    ActivateRequest,
    ApplyTransactionRequest,
    CancelRequest,
    CaptureRequest,
    CheckStatusRequest,
    ModifyRequest,
)
from tests.infinitepay.factories import (
    AddressFactory,
    AmountsFactory,
    ArticleFactory,
    DebtorFactory,
    InvoiceFactory,
    ReserveRequestFactory,
)
from tests.sandbox_fixtures import SANDBOX_CREDENTIALS

NOW = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)


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
    assert wire.format_transaction_time(datetime(2026, 1, 5, 0, 30, 0, tzinfo=berlin)) == (
        "20260104 233000"
    )
    assert wire.country_alpha3("DE") == "DEU"
    assert wire.country_alpha3("at") == "AUT"
    assert wire.country_alpha2("CHE") == "CH"
    with pytest.raises(ValueError):
        wire.country_alpha3("XX")
    assert (wire.format_flag(True), wire.format_flag(False)) == ("1", "0")


def every_request():
    amounts = AmountsFactory()
    invoice = InvoiceFactory()
    return [
        ReserveRequestFactory(),
        ReserveRequestFactory(
            auto_capture=True,
            auto_activate=True,
            invoice=invoice,
            shipping_address=AddressFactory(street="Lagerweg 9", country="AT"),
        ),
        CaptureRequest(order_id="ORD-1", amounts=amounts),
        ActivateRequest(order_id="ORD-1", amounts=amounts, invoice=invoice),
        CancelRequest(order_id="ORD-1", amounts=amounts),
        CheckStatusRequest(order_id="ORD-1"),
        ApplyTransactionRequest(order_id="ORD-1", amounts=amounts),
        ModifyRequest(order_id="ORD-1", amounts=amounts),
        ModifyRequest(order_id="ORD-1", amounts=amounts, articles=(ArticleFactory(),)),
    ]


@pytest.mark.parametrize("request_value", every_request(), ids=lambda r: type(r).__name__)
def test_every_request_is_valid_against_the_shipped_xsd(request_value):
    content = wire.build_request(request_value, credentials=SANDBOX_CREDENTIALS, now=NOW)
    payload = wire.body_child(wire.parse_document(content))
    schema = etree.XMLSchema(etree.parse(str(wire.XSD_PATH)))
    assert schema.validate(payload), schema.error_log
    assert payload.tag == f"{{{wire.NAMESPACE}}}{wire.operation_of(request_value).value}"


def test_envelope_carries_ws_security_with_a_600_second_timestamp():
    request = CheckStatusRequest(order_id="ORD-7")
    root = wire.parse_document(
        wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)
    )
    ns = {"wsse": wire.WSSE, "wsu": wire.WSU, "s": wire.SOAP_ENV}
    security = root.find("s:Header/wsse:Security", ns)
    created = wire.parse_timestamp(security.findtext("wsu:Timestamp/wsu:Created", namespaces=ns))
    expires = wire.parse_timestamp(security.findtext("wsu:Timestamp/wsu:Expires", namespaces=ns))
    assert created == NOW
    assert expires - created == timedelta(seconds=600)
    password = security.find("wsse:UsernameToken/wsse:Password", ns)
    assert password.text == "demo-password"
    assert password.get("Type").endswith("#PasswordText")
    assert security.findtext("wsse:UsernameToken/wsse:Username", namespaces=ns) == "demo"
    client = root.find(".//CLIENT_DATA")
    assert client.findtext("CLIENT_REF") == "DEMO-CLIENT"
    assert client.findtext("SECURITY_CD") == wire.security_code(
        secret="demo-secret", client_reference="DEMO-CLIENT", order_id="ORD-7"
    )


def test_reserve_request_fields():
    request = ReserveRequestFactory(
        order_id="ORD-9",
        amounts=AmountsFactory(
            total_gross=Decimal("2378.80"),
            total_net=Decimal("1998.9999999999998"),
            shipping_gross=Decimal("14.87"),
        ),
        articles=(ArticleFactory(sku="A-1", unit_price_gross=Decimal("14.87")),),
        auto_capture=True,
    )
    root = wire.parse_document(
        wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)
    )
    order = root.find(".//ORDER_DATA")
    assert order.findtext("TRS_AMT_GROSS") == "237880"
    assert order.findtext("TRS_AMT_NET") == "199900"
    assert order.findtext("SHIPPING_PRICE_GROSS") == "1487"
    assert order.findtext("TRS_DT") == "20260302 093015"
    assert (order.findtext("AUTO_CAPTURE"), order.findtext("AUTO_ACTIVATE")) == ("1", "0")
    assert (order.findtext("PAY_TYPE"), order.findtext("TERMS_ACCEPTED")) == ("1", "1")
    article = root.find(".//ARTICLE")
    assert article.findtext("ARTICLE_ID") == "A-1"
    assert article.findtext("ARTICLE_PRICE_GROSS") == "1487"
    assert article.findtext("ARTICLE_VAT_PERC") == "1900"
    debtor = root.find(".//DEBTOR_DATA")
    assert debtor.findtext("BD_COUNTRY") == "DEU"
    assert debtor.findtext("COMPANY_DATA/COM_ID_VAT") == request.debtor.vat_id
    assert debtor.findtext("COM_OR_PER") == "gmbh"
    assert root.findtext(".//SHIPPING_DATA/USE_BILL_DATA") == "1"
    assert root.find(".//INVOICE_DATA") is None


def test_a_different_shipping_address_is_sent():
    request = ReserveRequestFactory(shipping_address=AddressFactory(city="Wien", country="AT"))
    root = wire.parse_document(
        wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)
    )
    shipping = root.find(".//SHIPPING_DATA")
    assert shipping.findtext("USE_BILL_DATA") == "0"
    assert (shipping.findtext("DD_CITY"), shipping.findtext("DD_COUNTRY")) == ("Wien", "AUT")


def test_invoice_dates():
    invoice = InvoiceFactory(
        invoice_date=date(2026, 3, 2), payment_terms_days=30, delivery_date=date(2026, 3, 23)
    )
    request = ActivateRequest(order_id="ORD-1", amounts=AmountsFactory(), invoice=invoice)
    root = wire.parse_document(
        wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)
    )
    data = root.find(".//INVOICE_DATA")
    assert data.findtext("INVOICE_DATE") == "20260302"
    assert data.findtext("DUE_DATE") == "20260401"
    assert data.findtext("PAYMENT_TERMS") == "30"
    assert data.findtext("DELAY_IN_DAYS") == "0"
    assert data.findtext("DELIVERY_DATE") == "20260323"


def test_special_characters_are_escaped_by_the_library():
    name = "Bäcker & Söhne <\"Größe\"> 'Ltd' Ωmega"
    request = ReserveRequestFactory(debtor=DebtorFactory(company_name=name))
    content = wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)
    assert b"&amp;" in content and b"&lt;" in content
    assert wire.parse_document(content).findtext(".//COMPANY_NAME") == name


def test_a_value_outside_the_schema_is_refused_before_sending():
    request = ReserveRequestFactory(debtor=DebtorFactory(legal_form="plc"))
    with pytest.raises(ValueError, match="COM_OR_PER"):
        wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)


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
        wire.parse_document(document)


@pytest.mark.parametrize("document", [b"", b"not xml", b"<a><b></a>", b"<plain/>"])
def test_non_soap_documents_are_refused(document):
    with pytest.raises(wire.MalformedXML):
        wire.parse_document(document)


def test_redaction_removes_password_and_security_code():
    request = ReserveRequestFactory(order_id="ORD-3")
    content = wire.build_request(request, credentials=SANDBOX_CREDENTIALS, now=NOW)
    code = wire.security_code(
        secret="demo-secret", client_reference="DEMO-CLIENT", order_id="ORD-3"
    )
    text = wire.redact(content)
    assert "demo-password" not in text
    assert code not in text
    assert text.count(wire.REDACTED) == 2
    assert "DEMO-CLIENT" in text  # the rest is kept for the audit trail


def test_redaction_of_text_that_is_not_xml_still_removes_known_secrets():
    text = wire.redact(b"oops demo-password <broken", secrets=["demo-password"])
    assert text == f"oops {wire.REDACTED} <broken"
