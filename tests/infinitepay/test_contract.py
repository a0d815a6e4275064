"""The client speaks the contract the endpoint's WSDL states, and reads answers tolerantly.

HTTP is mocked at the transport: the endpoint serves the sandbox's WSDL (in any namespace)
at ?wsdl and answers each call with what the test gives it.
"""

from __future__ import annotations

import html
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.views.debug import ExceptionReporter
from lxml import etree

from infinitepay import messages as m
from infinitepay.client import (
    ConnectionStatus,
    InfinitePayClient,
    check_connection,
)
from infinitepay.contract import forget_contracts
from infinitepay.errors import (
    AuthenticationFailed,
    MalformedAnswer,
    RequestRejected,
    ServiceDescriptionUnreadable,
)
from tests.infinitepay.soap import ENDPOINT, SOAP, Endpoint, approved, envelope

OTHER_NAMESPACE = "http://other.example/contract/v7"
CREDENTIALS = m.Credentials("CLIENT-1", "api-user", "pa<ss>&word", "the secret")
NOW = datetime(2026, 12, 2, 11, 30, 5, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")

ADDRESS = m.Address("Hauptstraße 1", "10115", "Berlin", "DE")
AMOUNTS = m.Amounts(
    currency="EUR",
    total_gross=Decimal("1197.02"),
    total_net=Decimal("1005.90"),
    shipping_gross=Decimal("11.78"),
    shipping_net=Decimal("9.90"),
    discount_gross=Decimal("2.50"),
    discount_net=Decimal("2.50"),
)
REQUESTS: dict[m.Operation, m.Request] = {
    m.Operation.RESERVE: m.ReserveRequest(
        order_id="ORD-1-P1",
        amounts=AMOUNTS,
        debtor=m.Debtor(
            company_name="Muster GmbH",
            vat_id="DE123456789",
            email="ap@muster.example",
            legal_form="gmbh",
            first_name="Max",
            last_name="Mustermann",
            address=ADDRESS,
            ip_address="203.0.113.9",
            host_name="dsl.example.net",
        ),
        articles=(
            m.Article("P-1", "Paper", 3, Decimal("10.00"), Decimal("11.90"), Decimal("0.19")),
            m.Article("C-2", "Coffee", 2, Decimal("7.00"), Decimal("7.49"), Decimal("0.07")),
        ),
    ),
    m.Operation.CAPTURE: m.CaptureRequest(order_id="ORD-1-P1", amounts=AMOUNTS),
    m.Operation.ACTIVATE: m.ActivateRequest(
        order_id="ORD-1-P1",
        amounts=AMOUNTS,
        invoice=m.Invoice("ORD-1", date(2026, 12, 2), 30, date(2026, 12, 1)),
    ),
    m.Operation.APPLY_TRANSACTION: m.ApplyTransactionRequest(
        order_id="ORD-1-P1",
        ref_no="4711",
        invoice_id="ORD-1",
        currency="EUR",
        amount=Decimal("1197.02"),
        paid_on=date(2026, 12, 20),
    ),
    m.Operation.CANCEL: m.CancelRequest(order_id="ORD-1-P1", amounts=AMOUNTS, ref_no="4711"),
    m.Operation.CHECK_STATUS: m.CheckStatusRequest(
        order_id="ORD-1-P1", amounts=AMOUNTS, ref_no="4711"
    ),
}

# What INFINITEPAY_API.md lists as sent by Oro, per operation (its §3 and §4), plus what
# our documented differences add: ORDER_ID on activate, REF_NO and TRANSACTION_DATA on apply,
# and the order's identity on cancel and check status (on which the record is silent).
ORDER_TOTALS = {
    "ORDER_ID", "PAY_TYPE", "RABATE_GROSS", "RABATE_NET", "SHIPPING_PRICE_GROSS",
    "SHIPPING_PRICE_NET", "TERMS_ACCEPTED", "TRS_AMT_GROSS", "TRS_AMT_NET", "TRS_CURRENCY",
    "TRS_DT", "TOTAL_GROSS_CALC_METHOD",
}  # fmt: skip
SENT: dict[m.Operation, dict[str, set[str]]] = {
    m.Operation.RESERVE: {
        "CLIENT_DATA": {"CLIENT_REF", "SECURITY_CD"},
        "ORDER_DATA": ORDER_TOTALS | {"AUTO_ACTIVATE", "AUTO_CAPTURE"},
        "DEBTOR_DATA": {
            "BD_CITY",
            "BD_ZIP",
            "BD_COUNTRY",
            "BD_STREET",
            "BD_NAME_FS",
            "BD_NAME_LS",
            "BD_EMAIL",
            "COM_OR_PER",
            "BD_SALUT",
            "DB_NEW",
            "NEG_PAY_HIST",
            "IP_ADD",
            "ISP",
        },  # fmt: skip
        "COMPANY_DATA": {"COM_ID_VAT", "OWNER_FS_NAME", "OWNER_LS_NAME", "COMPANY_NAME"},
        "SHIPPING_DATA": {"USE_BILL_DATA"},
        "ARTICLE": {
            "ARTICLE_ID",
            "ARTICLE_NAME",
            "ARTICLE_PRICE_GROSS",
            "ARTICLE_PRICE_NET",
            "ARTICLE_QUANTITY",
            "ARTICLE_VAT_PERC",
        },  # fmt: skip
        "BANK_DATA": set(),
    },
    m.Operation.CAPTURE: {"CLIENT_DATA": {"CLIENT_REF", "SECURITY_CD"}, "ORDER_DATA": ORDER_TOTALS},
    m.Operation.ACTIVATE: {
        "CLIENT_DATA": {"CLIENT_REF", "SECURITY_CD"},
        "ORDER_DATA": ORDER_TOTALS,
        "INVOICE_DATA": {
            "DELAY_IN_DAYS",
            "DELIVERY_DATE",
            "DUE_DATE",
            "INVOICE_DATE",
            "INVOICE_ID",
            "PAYMENT_TERMS",
        },  # fmt: skip
    },
    m.Operation.APPLY_TRANSACTION: {
        "CLIENT_DATA": {"CLIENT_REF", "SECURITY_CD"},
        "ORDER_DATA": {"ORDER_ID", "REF_NO"},
        "TRANSACTION_DATA": {"TRS_AMT", "TRS_CURRENCY", "ACCOUNTING_DT", "VALUE_DT", "DOC_ID"},
    },
    m.Operation.CANCEL: {
        "CLIENT_DATA": {"CLIENT_REF", "SECURITY_CD"},
        "ORDER_DATA": {
            "ORDER_ID",
            "REF_NO",
            "TRS_AMT_GROSS",
            "TRS_AMT_NET",
            "TRS_CURRENCY",
            "TRS_DT",
        },
    },  # fmt: skip
    m.Operation.CHECK_STATUS: {
        "CLIENT_DATA": {"CLIENT_REF", "SECURITY_CD"},
        "ORDER_DATA": {
            "ORDER_ID",
            "REF_NO",
            "TRS_AMT_GROSS",
            "TRS_AMT_NET",
            "TRS_CURRENCY",
            "TRS_DT",
        },
    },  # fmt: skip
}


@pytest.fixture
def endpoint():
    forget_contracts()
    yield Endpoint()
    forget_contracts()


def client_for(endpoint: Endpoint) -> InfinitePayClient:
    return InfinitePayClient(
        credentials=CREDENTIALS, url=ENDPOINT, http=endpoint.http(), clock=lambda: NOW, zone=BERLIN
    )


def leaf_names(element: etree._Element) -> set[str]:
    return {etree.QName(child).localname for child in element}


@pytest.mark.parametrize("operation", list(REQUESTS), ids=str)
def test_each_request_carries_every_field_the_record_lists_as_sent(endpoint, operation):
    client_for(endpoint).call(REQUESTS[operation])
    sent = etree.fromstring(endpoint.posted[0].content)
    request = sent.find(f"{{{SOAP}}}Body")[0].find("REQUEST")
    for block, fields in SENT[operation].items():
        element = request.find(f".//{block}")
        assert element is not None, f"{operation}: no {block}"
        assert fields <= leaf_names(element), f"{operation} {block}: {fields - leaf_names(element)}"


def test_requests_follow_the_wsdl_namespace_soap_action_and_address(endpoint):
    endpoint.namespace = OTHER_NAMESPACE
    result = client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])

    posted = endpoint.posted[0]
    assert posted.headers["SOAPAction"] == f'"{OTHER_NAMESPACE}/captureOrder"'
    assert str(posted.url) == ENDPOINT
    body = etree.fromstring(posted.content).find(f"{{{SOAP}}}Body")[0]
    assert body.tag == f"{{{OTHER_NAMESPACE}}}captureOrder"
    assert result.approved and result.ref_no == "4711"


def test_reserve_values_are_in_infinitepays_encodings(endpoint):
    client_for(endpoint).call(REQUESTS[m.Operation.RESERVE])
    request = etree.fromstring(endpoint.posted[0].content).find(f".//{{{SOAP}}}Body")[0][0]
    order = request.find("ORDER_DATA")
    assert order.findtext("TRS_AMT_GROSS") == "119702"
    assert order.findtext("TRS_DT") == "20261202 123005"  # Europe/Berlin, no offset
    assert order.findtext("AUTO_CAPTURE") == "0" and order.findtext("AUTO_ACTIVATE") == "0"
    assert request.findtext("DEBTOR_DATA/BD_COUNTRY") == "DEU"
    assert request.findtext("DEBTOR_DATA/COMPANY_DATA/OWNER_FS_NAME") == "Max"
    assert request.findtext("SHIPPING_DATA/USE_BILL_DATA") == "1"
    assert request.find("BANK_DATA") is not None
    assert [a.findtext("ARTICLE_VAT_PERC") for a in request.iter("ARTICLE")] == ["1900", "700"]


def test_unknown_elements_another_order_and_decimal_amounts_are_read(endpoint):
    endpoint.answer = envelope(
        '<ns:captureOrderResponse xmlns:ns="urn:infinitepay:ws:v1"><RESPONSE>'
        "<SOMETHING_NEW><DEEP>1</DEEP></SOMETHING_NEW>"
        "<STATUS>1</STATUS><GUAR_AMT>119702.0</GUAR_AMT><REF_NO>4711</REF_NO>"
        "<RESPONSE_DATA><X_FLAG>y</X_FLAG><STATUS>1</STATUS><ORDER_ID>ORD-1-P1</ORDER_ID>"
        "</RESPONSE_DATA><REQUEST_ID>3</REQUEST_ID><ERROR_DATA/>"
        "</RESPONSE></ns:captureOrderResponse>"
    )
    result = client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])

    assert result.approved
    assert result.ref_no == "4711"
    assert result.guaranteed_amount == Decimal("1197.02")


def test_an_answer_about_another_order_is_refused(endpoint):
    endpoint.answer = approved("captureOrder", "ORD-999-P9", "urn:infinitepay:ws:v1")
    with pytest.raises(MalformedAnswer, match="ORD-999-P9") as refused:
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])
    assert "ORD-999-P9" in refused.value.exchange.response_xml  # kept raw for the audit row


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("<GUAR_AMT>1" + "0" * 40 + "</GUAR_AMT>", "GUAR_AMT"),
        ("<REF_NO>" + "7" * 100 + "</REF_NO>", "REF_NO"),
    ],
)
def test_values_we_cannot_keep_make_the_answer_malformed(endpoint, extra, reason):
    endpoint.answer = envelope(
        '<ns:captureOrderResponse xmlns:ns="urn:infinitepay:ws:v1"><RESPONSE>'
        f"<RESPONSE_DATA><STATUS>1</STATUS>{extra}</RESPONSE_DATA>"
        "</RESPONSE></ns:captureOrderResponse>"
    )
    with pytest.raises(MalformedAnswer, match=reason):
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])


def test_a_status_neither_approved_nor_denied_is_an_unknown_outcome(endpoint):
    endpoint.answer = envelope(
        '<ns:captureOrderResponse xmlns:ns="urn:infinitepay:ws:v1"><RESPONSE>'
        "<RESPONSE_DATA><STATUS>7</STATUS></RESPONSE_DATA></RESPONSE></ns:captureOrderResponse>"
    )
    with pytest.raises(MalformedAnswer, match="STATUS '7'") as raised:
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])
    assert raised.value.outcome_unknown


def test_an_answer_without_status_is_malformed(endpoint):
    endpoint.answer = envelope(
        '<ns:captureOrderResponse xmlns:ns="urn:infinitepay:ws:v1"><RESPONSE>'
        "<RESPONSE_DATA><REF_NO>1</REF_NO></RESPONSE_DATA></RESPONSE></ns:captureOrderResponse>"
    )
    with pytest.raises(MalformedAnswer, match="STATUS"):
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])


def test_an_answer_too_large_is_malformed_and_stored_cut(endpoint):
    endpoint.answer = envelope("<x>" + "a" * (2 * 1024 * 1024) + "</x>")
    with pytest.raises(MalformedAnswer, match="larger") as refused:
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])
    assert len(refused.value.exchange.response_xml) < 1024 * 1024 + 200


def test_corrected_debtor_data_is_kept_verbatim(endpoint):
    endpoint.answer = approved(
        "reserveOrder",
        "ORD-1-P1",
        "urn:infinitepay:ws:v1",
        extra="<DEBTOR_CORRECTED_DATA><C_COUNTRY>ZZZ</C_COUNTRY><C_NAME>Muster AG</C_NAME>"
        "</DEBTOR_CORRECTED_DATA>",
    )
    result = client_for(endpoint).call(REQUESTS[m.Operation.RESERVE])
    assert result.corrected_debtor.to_json() == {"country": "ZZZ", "name": "Muster AG"}


def test_a_denial_keeps_the_providers_codes_and_means_nothing_more(endpoint):
    endpoint.answer = envelope(
        '<ns:captureOrderResponse xmlns:ns="urn:infinitepay:ws:v1"><RESPONSE><ERROR_DATA>'
        "<ERROR><ERROR_CD>1001</ERROR_CD><ERROR_MSG>Security code invalid</ERROR_MSG></ERROR>"
        "</ERROR_DATA><RESPONSE_DATA><STATUS>0</STATUS></RESPONSE_DATA></RESPONSE>"
        "</ns:captureOrderResponse>"
    )
    result = client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])
    assert not result.approved
    assert [(e.code, e.message) for e in result.errors] == [("1001", "Security code invalid")]


def test_a_ws_security_fault_is_a_failed_authentication_and_echoes_no_secret(endpoint):
    endpoint.status = 500
    endpoint.answer = envelope(
        '<s:Fault xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-wssecurity-secext-1.0.xsd"><faultcode>wsse:FailedAuthentication'
        "</faultcode><faultstring>bad password pa&lt;ss&gt;&amp;word</faultstring></s:Fault>"
    )
    with pytest.raises(AuthenticationFailed) as failed:
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])
    stored = failed.value.message + failed.value.exchange.response_xml
    stored += failed.value.exchange.request_xml
    assert "pa<ss>&word" not in stored and "pa&lt;ss&gt;&amp;word" not in stored
    assert "the secret" not in stored


def test_a_request_the_wsdl_cannot_carry_is_rejected_before_sending(endpoint):
    unsendable = m.CaptureRequest(order_id="ORD-1-\x01", amounts=AMOUNTS)  # XML cannot carry it
    with pytest.raises(RequestRejected, match="cannot be sent"):
        client_for(endpoint).call(unsendable)
    assert endpoint.posted == []


def test_a_wsdl_that_cannot_be_read_is_its_own_outcome(endpoint):
    endpoint.wsdl_status = 404
    with pytest.raises(ServiceDescriptionUnreadable, match="service description could not be read"):
        client_for(endpoint).call(REQUESTS[m.Operation.CAPTURE])

    check = check_connection(client_for(endpoint))
    assert check.status == ConnectionStatus.SERVICE_DESCRIPTION_UNREADABLE
    assert check.detail.startswith("InfinitePay's service description could not be read: ")


def test_the_wsdl_is_loaded_once_per_endpoint(endpoint):
    loads = []
    original = endpoint.handle

    def counting(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            loads.append(request.url)
        return original(request)

    endpoint.handle = counting
    client = client_for(endpoint)
    for operation in (m.Operation.CAPTURE, m.Operation.CANCEL, m.Operation.CHECK_STATUS):
        client.call(REQUESTS[operation])
    assert len(loads) == 1


def test_the_technical_error_page_never_shows_the_password_or_secret(endpoint, rf):
    """A defect mid-call must not put the credentials on Django's 500 page."""
    serve = endpoint.handle

    def broken(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return serve(request)
        raise RuntimeError("a defect of ours")

    endpoint.handle = broken
    client = client_for(endpoint)
    try:
        client.call(REQUESTS[m.Operation.CAPTURE])
    except RuntimeError:
        report = ExceptionReporter(rf.get("/"), *sys.exc_info()).get_traceback_html()
    assert "a defect of ours" in report
    assert "secrets" in report  # the frame's variables are on the page, masked
    for secret in (CREDENTIALS.password, CREDENTIALS.secret):
        assert secret not in report and html.escape(secret) not in report
