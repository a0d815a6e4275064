"""The sandbox as its users meet it: the contract, reading, credentials, ledger, faults, API."""

import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import zeep
from lxml import etree
from stdnum.eu import vat

from sandbox.accounts import (
    APPROVED_BY_EMAIL,
    DENIED_AT_ACTIVATION,
    DENIED_AT_RESERVE,
    DENIED_BY_EMAIL,
    PERSONAS,
    SMALL_LIMIT,
)
from sandbox.contract import DEFAULT_NAMESPACE, XSD_PATH, Operation
from sandbox.faults import CALL_KINDS, WSDL_KINDS, Channel, FaultInjector, FaultKind, FaultPlan
from sandbox.security import security_code as sandbox_security_code
from tests.sandbox import soap
from tests.sandbox.soap import (
    TOKEN_PROFILE,
    VAT_ID,
    call,
    client_data,
    invoice_data,
    order_request,
    reserve,
    reserve_request,
    totals,
)

OTHER_NAMESPACE = "http://example.com/guarantees/InfinitePay/2"
WSDL_NS = {
    "wsdl": "http://schemas.xmlsoap.org/wsdl/",
    "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    "xs": "http://www.w3.org/2001/XMLSchema",
}


def children(element) -> list[str]:
    return [child.tag for child in element]


# --- The contract -------------------------------------------------------------------------------


def test_wsdl_holds_the_schema_and_the_address_it_was_fetched_at(sandbox):
    response = httpx.get(sandbox.wsdl_url)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    document = etree.fromstring(response.content)
    assert document.get("targetNamespace") == DEFAULT_NAMESPACE
    schema = document.find("wsdl:types/xs:schema", WSDL_NS)
    assert schema.get("targetNamespace") == DEFAULT_NAMESPACE
    assert document.find(".//soap:address", WSDL_NS).get("location") == sandbox.url
    actions = {
        op.getparent().get("name"): op.get("soapAction")
        for op in document.iterfind("wsdl:binding/wsdl:operation/soap:operation", WSDL_NS)
    }
    assert actions == {op.value: f"{DEFAULT_NAMESPACE}/{op.value}" for op in Operation}
    faults = document.findall("wsdl:portType/wsdl:operation/wsdl:fault", WSDL_NS)
    assert {fault.get("name") for fault in faults} == {"GenericSoapFault"}
    assert len(faults) == len(Operation)
    assert httpx.get(sandbox.url, params={"xsd": ""}).content == XSD_PATH.read_bytes()


def test_wsdl_address_is_the_host_it_was_called_on(sandbox):
    response = httpx.get(sandbox.wsdl_url, headers={"Host": "sandbox.internal:8090"})

    location = etree.fromstring(response.content).find(".//soap:address", WSDL_NS).get("location")
    assert location == "http://sandbox.internal:8090/ws/InfinitePayAPI"


def test_wsdl_loads_in_zeep_with_every_operation(sandbox):
    client = zeep.Client(sandbox.wsdl_url)

    binding = client.service._binding
    assert set(binding._operations) == {op.value for op in Operation}
    reserve_type = client.get_type(f"{{{DEFAULT_NAMESPACE}}}REQUEST_RESERVATION")
    assert [name for name, _ in reserve_type.elements] == [
        "BANK_DATA",
        "CLIENT_DATA",
        "DEBTOR_DATA",
        "INVOICE_DATA",
        "ARTICLES",
        "ORDER_DATA",
        "SHIPPING_DATA",
    ]
    assert client.service._binding_options["address"] == sandbox.url


def test_answers_are_valid_against_the_schema(sandbox):
    schema = etree.XMLSchema(etree.fromstring(httpx.get(sandbox.url, params={"xsd": ""}).content))
    replies = [
        reserve(sandbox, "ORD-1"),
        call(sandbox, "captureOrder", order_request("ORD-1")),
        call(sandbox, "activateOrder", order_request("ORD-1")),
        call(sandbox, "applyTransactionOnActivatedOrder", order_request("ORD-1")),
        call(sandbox, "checkStatusOrder", order_request("ORD-1")),
        call(sandbox, "cancelOrder", order_request("ORD-1")),  # refused: settled
        reserve(sandbox, "ORD-2", vat_id=DENIED_AT_RESERVE.vat_id),
        call(sandbox, "modifyReservedOrder", order_request("ORD-3", TRS_AMT_GROSS="100")),
    ]

    for reply in replies:
        assert reply.http_status == 200
        assert schema.validate(reply.payload), schema.error_log
    assert [reply.status for reply in replies] == ["1", "1", "1", "1", "1", "0", "0", "0"]


def test_another_namespace_replaces_the_default_everywhere(sandbox):
    contract = sandbox.set_namespace(OTHER_NAMESPACE)

    assert contract["namespace"] == OTHER_NAMESPACE
    assert contract["soap_actions"]["reserveOrder"] == f"{OTHER_NAMESPACE}/reserveOrder"
    wsdl = httpx.get(sandbox.wsdl_url).content
    assert DEFAULT_NAMESPACE.encode() not in wsdl
    assert DEFAULT_NAMESPACE.encode() not in httpx.get(sandbox.url, params={"xsd": ""}).content
    document = etree.fromstring(wsdl)
    assert document.find("wsdl:types/xs:schema", WSDL_NS).get("targetNamespace") == OTHER_NAMESPACE
    assert document.find(".//soap:operation", WSDL_NS).get("soapAction").startswith(OTHER_NAMESPACE)

    served = call(sandbox, "reserveOrder", reserve_request("ORD-1"), namespace=OTHER_NAMESPACE)
    assert served.status == "1"
    assert served.payload.tag == f"{{{OTHER_NAMESPACE}}}reserveOrderResponse"
    refused = call(sandbox, "checkStatusOrder", order_request("ORD-1"))
    assert (refused.http_status, refused.faultcode) == (500, "soapenv:Client")
    assert OTHER_NAMESPACE in refused.fault_message

    sandbox.reset()
    assert sandbox.namespace() == DEFAULT_NAMESPACE


def test_a_namespace_the_sandbox_cannot_serve_is_refused(sandbox):
    for namespace in ["", "no scheme", 'urn:x"y', "urn:{x}", 7]:
        response = httpx.put(f"{sandbox.base_url}/sandbox/contract", json={"namespace": namespace})
        assert response.status_code == 400, namespace
    assert sandbox.namespace() == DEFAULT_NAMESPACE
    assert sandbox.set_namespace(None)["namespace"] == DEFAULT_NAMESPACE


def test_dispatch_is_on_the_body_element_not_on_soapaction(sandbox):
    reserve(sandbox, "ORD-1")
    content = soap.envelope("checkStatusOrder", order_request("ORD-1"))

    for action in [f'"{DEFAULT_NAMESPACE}/reserveOrder"', '""', None]:
        headers = {} if action is None else {"SOAPAction": action}
        response = soap.post(sandbox, content, headers=headers)
        payload = etree.fromstring(response.content).find(f"{{{soap.SOAP_ENV}}}Body")[0]
        assert payload.tag == f"{{{DEFAULT_NAMESPACE}}}checkStatusOrderResponse"
    assert sandbox.calls()["operations"] == {"reserveOrder": 1, "checkStatusOrder": 3}


def test_what_is_not_a_call_of_the_contract_gets_a_client_fault(sandbox):
    unknown = call(sandbox, "payOrder", order_request("ORD-1"))
    assert (unknown.http_status, unknown.faultcode) == (500, "soapenv:Client")
    assert "payOrder" in unknown.fault_message

    unqualified = soap.envelope("checkStatusOrder", order_request("ORD-1")).replace(
        b"ns1:checkStatusOrder", b"checkStatusOrder"
    )
    assert b"soapenv:Client" in soap.post(sandbox, unqualified).content

    soap12 = soap.envelope("checkStatusOrder", order_request("ORD-1")).replace(
        soap.SOAP_ENV.encode(), b"http://www.w3.org/2003/05/soap-envelope"
    )
    response = soap.post(sandbox, soap12)
    assert response.status_code == 500
    assert b"VersionMismatch" in response.content
    assert b"soapenv:Client" in soap.post(sandbox, b"<not-xml").content


def test_a_request_with_an_entity_declaration_gets_a_client_fault(sandbox):
    response = soap.post(
        sandbox,
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><x>&e;</x></soapenv:Body></soapenv:Envelope>",
    )

    assert response.status_code == 500
    assert b"soapenv:Client" in response.content
    assert b"root:" not in response.content


# --- The tolerant reader ------------------------------------------------------------------------


def reversed_deep(value):
    if isinstance(value, dict):
        return {key: reversed_deep(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_deep(item) for item in value]
    return value


def test_fields_are_read_in_any_order_and_absent_empty_or_nil(sandbox):
    request = reversed_deep(reserve_request("ORD-1"))
    request["DEBTOR_DATA"].update(BD_MOBILE=None, BD_TEL="", BD_STREET_NR=None, USER_DD_10="x")
    request["ORDER_DATA"].update(TRS_ID=None, PAY_ID="", SHIPPING_NAME=None, UNKNOWN_FIELD="?")
    request["INVOICE_DATA"] = None
    request["ARTICLES"] = None
    request["SHIPPING_DATA"] = {}

    reply = call(sandbox, "reserveOrder", request)

    assert (reply.status, reply.state) == ("1", "RESERVED")
    order = sandbox.order("ORD-1")
    assert (order["vat_id"], order["amount_gross"], order["amount_net"]) == (
        VAT_ID,
        "238.00",
        "200.00",
    )
    assert order["address"]["street"] == "Chausseestraße"


def test_oro_shaped_calls_are_served_from_reserve_to_settlement(sandbox):
    reserved = reserve(sandbox, "ORD-1", invoice_id="ORD-1")  # empty BANK_DATA, ISP
    assert reserved.status == "1"

    # Capture: the full totals again, no DEBTOR_DATA.
    captured = call(
        sandbox,
        "captureOrder",
        {"CLIENT_DATA": client_data("ORD-1"), "ORDER_DATA": totals("ORD-1")},
    )
    assert (captured.status, captured.state) == ("1", "CAPTURED")

    # Activate: no ORDER_ID; the order is found by its INVOICE_ID, SECURITY_CD is over it.
    order_data = totals("ORD-1")
    del order_data["ORDER_ID"]
    activated = call(
        sandbox,
        "activateOrder",
        {
            "CLIENT_DATA": client_data("ORD-1"),
            "INVOICE_DATA": invoice_data("ORD-1"),
            "ORDER_DATA": order_data,
        },
    )
    assert (activated.status, activated.state) == ("1", "ACTIVATED")
    assert activated.text("ORDER_ID") == "ORD-1"

    # Apply: ORDER_DATA {ORDER_ID, REF_NO}, nothing else.
    applied = call(
        sandbox, "applyTransactionOnActivatedOrder", order_request("ORD-1", REF_NO=reserved.ref_no)
    )
    assert (applied.status, applied.state) == ("1", "SETTLED")
    assert applied.text("REF_NO") == reserved.ref_no
    assert applied.text("TRS_AMT") == "23800"
    datetime.fromisoformat(applied.text("ACCOUNTING_DT"))
    assert sandbox.order("ORD-1")["state"] == "SETTLED"


def test_apply_transaction_reads_an_optional_transaction_data_block(sandbox):
    reserve(sandbox, "ORD-1", auto_capture="1", auto_activate="1", invoice_id="INV-1")
    request = order_request("ORD-1")
    request["TRANSACTION_DATA"] = {
        "ACCOUNTING_DT": "2026-03-01T10:00:00Z",
        "DOC_ID": "BANK-42",
        "TRS_AMT": "23800.0",
        "TRS_CURRENCY": "EUR",
        "TRS_TYPE": "PAYMENT",
    }

    applied = call(sandbox, "applyTransactionOnActivatedOrder", request)

    assert applied.status == "1"
    assert children(applied.response)[-6:] == [
        "ACCOUNTING_DT",
        "GUAR_AMT",
        "REF_NO",
        "TRS_AMT",
        "TRS_CURRENCY",
        "TRS_TYPE",
    ]
    assert applied.text("ACCOUNTING_DT") == "2026-03-01T10:00:00Z"
    assert (applied.text("TRS_CURRENCY"), applied.text("TRS_TYPE")) == ("EUR", "PAYMENT")

    request["ORDER_DATA"]["ORDER_ID"] = "ORD-2"
    request["CLIENT_DATA"] = client_data("ORD-2")
    reserve(sandbox, "ORD-2", auto_capture="1", auto_activate="1")
    request["TRANSACTION_DATA"]["TRS_AMT"] = "100"
    partial = call(sandbox, "applyTransactionOnActivatedOrder", request)
    assert (partial.status, partial.error_codes, partial.state) == ("0", ["2005"], "ACTIVATED")


@pytest.mark.parametrize(
    ("operation", "request_", "code"),
    [
        (
            "reserveOrder",
            {**reserve_request("ORD-1"), "ORDER_DATA": {"TRS_AMT_GROSS": "1"}},
            "1101",
        ),
        ("captureOrder", {"CLIENT_DATA": client_data("")}, "1101"),
        (
            "activateOrder",
            {"CLIENT_DATA": client_data(""), "INVOICE_DATA": {"INVOICE_ID": "NONE"}},
            "1101",
        ),
        ("reserveOrder", reserve_request("ORD-1", gross="12.34.5"), "1102"),
        ("reserveOrder", reserve_request("ORD-1", gross="100.5"), "1102"),
        ("reserveOrder", reserve_request("ORD-1", vat_id=""), "1103"),
        ("captureOrder", order_request("ORD-404"), "2001"),
    ],
)
def test_what_the_sandbox_cannot_serve_is_a_business_error(sandbox, operation, request_, code):
    reply = call(sandbox, operation, request_)

    assert reply.http_status == 200
    assert (reply.status, reply.error_codes) == ("0", [code])
    assert reply.response.findtext("ERROR_DATA/ERROR/ERROR_MSG")
    assert sandbox.debtors() == []


# --- Credentials --------------------------------------------------------------------------------


VECTOR = "NDMxYWE3Yjk4OWNkYzEyN2NkYzY1MGZjOTZlZjZkODliNjNiYTVkM2EwYWZiYzcwNmU0NGNhYTkxZjlkZWE5Ng=="


def test_the_security_code_follows_the_published_vector():
    code = sandbox_security_code(
        secret="test secret", client_reference="test client reference", order_id="1"
    )
    assert code == VECTOR


# Far enough from the time the tests run that no run is slow enough to bring them in range.
NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("options", "faultcode"),
    [
        ({"header": False}, "wsse:FailedAuthentication"),
        ({"security": soap.ws_security(token=False)}, "wsse:FailedAuthentication"),
        ({"security": soap.ws_security(password="wrong")}, "wsse:FailedAuthentication"),
        ({"security": soap.ws_security(username="other")}, "wsse:FailedAuthentication"),
        (
            {"security": soap.ws_security(password_type=f"{TOKEN_PROFILE}#PasswordDigest")},
            "wsse:FailedAuthentication",
        ),
        ({"security": soap.ws_security(timestamp=False)}, "wsse:MessageExpired"),
        (
            {"security": soap.ws_security(created=NOW - timedelta(minutes=60))},
            "wsse:MessageExpired",
        ),
        (
            {"security": soap.ws_security(created=NOW + timedelta(minutes=60))},
            "wsse:MessageExpired",
        ),
    ],
)
def test_ws_security_failures_are_faults(sandbox, options, faultcode):
    reply = call(sandbox, "reserveOrder", reserve_request("ORD-1"), **options)

    assert (reply.http_status, reply.faultcode) == (500, faultcode)
    fault = reply.payload.find("faultcode")
    prefix = faultcode.partition(":")[0]
    assert fault.nsmap[prefix] == soap.WSSE
    assert sandbox.order("ORD-1") is None


def test_a_timestamp_within_the_clock_skew_is_accepted(sandbox):
    ahead = soap.ws_security(created=datetime.now(UTC) + timedelta(minutes=4))
    behind = soap.ws_security(
        created=datetime.now(UTC) - timedelta(minutes=13)
    )  # expired 3 min ago
    without_expires = soap.ws_security(ttl=None)

    for security in [ahead, behind, without_expires]:
        assert (
            call(sandbox, "checkStatusOrder", order_request("ORD-1"), security=security).faultcode
            is None
        )


@pytest.mark.parametrize("wrong", ["CLIENT_REF", "SECURITY_CD"])
def test_a_wrong_client_reference_or_security_code_is_failed_authentication(sandbox, wrong):
    request = reserve_request("ORD-1")
    request["CLIENT_DATA"][wrong] = "nope"

    reply = call(sandbox, "reserveOrder", request)

    assert (reply.http_status, reply.faultcode) == (500, "wsse:FailedAuthentication")
    assert wrong in reply.fault_message
    assert sandbox.order("ORD-1") is None


def test_activate_without_order_id_checks_the_security_code_of_the_order_found(sandbox):
    reserve(sandbox, "ORD-1", auto_capture="1", invoice_id="INV-1")
    request = {"CLIENT_DATA": client_data("INV-1"), "INVOICE_DATA": {"INVOICE_ID": "INV-1"}}

    assert call(sandbox, "activateOrder", request).faultcode == "wsse:FailedAuthentication"
    request["CLIENT_DATA"] = client_data("ORD-1")
    assert call(sandbox, "activateOrder", request).state == "ACTIVATED"


# --- Answers ----------------------------------------------------------------------------------


def test_a_reserve_answer_has_the_contract_shape(sandbox):
    reply = reserve(sandbox, "ORD-1")

    assert reply.payload.tag == f"{{{DEFAULT_NAMESPACE}}}reserveOrderResponse"
    assert children(reply.payload) == ["RESPONSE"]
    assert children(reply.response) == ["REQUEST_ID", "RESPONSE_DATA", "DEBTOR_CORRECTED_DATA"]
    assert children(reply.response.find("RESPONSE_DATA")) == [
        "ADD_INFO",
        "ORDER_ID",
        "DB_ID",
        "GUAR_AMT",
        "REF_NO",
        "STATUS",
    ]
    data = {e.tag: e.text for e in reply.response.find("RESPONSE_DATA")}
    assert data["ORDER_ID"] == "ORD-1"
    assert data["GUAR_AMT"] == "23800"  # cents
    for number in ("DB_ID", "GUAR_AMT", "REF_NO"):
        assert data[number].isdigit()
    assert reply.text("REQUEST_ID").isdigit()
    corrected = {e.tag: e.text for e in reply.response.find("DEBTOR_CORRECTED_DATA")}
    assert corrected == {
        "C_CITY": "Berlin",
        "C_COUNTRY": "DEU",
        "C_NAME": "Muster Handel GmbH",
        "C_STREET": "Chausseestraße",
        "C_STREET_NO": "1",
        "C_ZIP": "10115",
        "DB_ID": data["DB_ID"],
    }


def test_capture_activate_cancel_and_check_status_repeat_the_order_fields(sandbox):
    reserved = reserve(sandbox, "ORD-1")

    for operation in ["captureOrder", "checkStatusOrder", "activateOrder", "cancelOrder"]:
        reply = call(sandbox, operation, order_request("ORD-1"))
        assert children(reply.response)[-4:] == ["ORDER_ID", "GUAR_AMT", "REF_NO", "STATUS"]
        assert reply.text("ORDER_ID") == reply.text("RESPONSE_DATA/ORDER_ID") == "ORD-1"
        assert reply.text("STATUS") == reply.status
        assert reply.text("REF_NO") == reserved.ref_no


def test_a_denial_carries_its_errors_and_state(sandbox):
    reply = reserve(sandbox, "ORD-1", vat_id=DENIED_AT_RESERVE.vat_id)

    assert children(reply.response)[:3] == ["ERROR_DATA", "REQUEST_ID", "RESPONSE_DATA"]
    assert (reply.status, reply.state, reply.error_codes) == ("0", "DENIED", ["3002"])
    assert reply.ref_no is None
    assert reply.text("RESPONSE_DATA/GUAR_AMT") is None


def check_status(sandbox, order_id):
    return call(sandbox, "checkStatusOrder", order_request(order_id))


def test_check_status_says_1_only_while_the_order_holds_a_guarantee(sandbox):
    reserve(sandbox, "RES")
    reserve(sandbox, "CAP", auto_capture="1")
    reserve(sandbox, "ACT", auto_capture="1", auto_activate="1")
    reserve(sandbox, "SET", auto_capture="1", auto_activate="1")
    call(sandbox, "applyTransactionOnActivatedOrder", order_request("SET"))
    reserve(sandbox, "DEN", vat_id=DENIED_AT_RESERVE.vat_id)
    reserve(sandbox, "ADN", vat_id=DENIED_AT_ACTIVATION.vat_id, auto_capture="1", auto_activate="1")
    reserve(sandbox, "CAN")
    call(sandbox, "cancelOrder", order_request("CAN"))

    answers = {
        order_id: (reply.status, reply.state, reply.ref_no is not None, reply.error_codes)
        for order_id in ["RES", "CAP", "ACT", "SET", "DEN", "ADN", "CAN", "NEW"]
        for reply in [check_status(sandbox, order_id)]
    }

    assert answers == {
        "RES": ("1", "RESERVED", True, []),
        "CAP": ("1", "CAPTURED", True, []),
        "ACT": ("1", "ACTIVATED", True, []),
        "SET": ("1", "SETTLED", True, []),
        "DEN": ("0", "DENIED", False, ["3002"]),
        "ADN": ("0", "ACTIVATION_DENIED", False, ["3003"]),
        "CAN": ("0", "CANCELED", False, ["2007"]),
        "NEW": ("0", None, False, ["2001"]),
    }
    assert check_status(sandbox, "NEW").text("RESPONSE_DATA/ORDER_ID") == "NEW"


# --- Ledger, states, idempotency, personas --------------------------------------------------


def test_the_same_reserve_again_gives_the_same_ref_no_and_reserves_once(sandbox):
    first = reserve(sandbox, "ORD-1")
    request = reserve_request("ORD-1", gross="23800.0", net="20000.00")
    request["ORDER_DATA"]["TRS_DT"] = "20300101 000000"  # a fresh TRS_DT: still the same call

    again = call(sandbox, "reserveOrder", request)

    assert (again.status, again.ref_no) == ("1", first.ref_no)
    assert sandbox.debtor(VAT_ID)["reserved"] == "238.00"
    assert sandbox.order("ORD-1")["history"] == ["reserveOrder:1", "reserveOrder:1"]


def test_the_same_order_id_with_another_amount_is_an_error(sandbox):
    reserve(sandbox, "ORD-1")

    other = reserve(sandbox, "ORD-1", gross="23900")

    assert (other.status, other.error_codes, other.state) == ("0", ["2003"], "RESERVED")
    assert sandbox.order("ORD-1")["amount_gross"] == "238.00"
    assert sandbox.debtor(VAT_ID)["reserved"] == "238.00"
    capture = call(sandbox, "captureOrder", order_request("ORD-1", TRS_AMT_GROSS="100"))
    assert (capture.status, capture.error_codes) == ("0", ["2005"])
    wrong_ref = call(sandbox, "captureOrder", order_request("ORD-1", REF_NO="99"))
    assert (wrong_ref.status, wrong_ref.error_codes) == ("0", ["2006"])


def test_reserve_takes_from_the_limit_and_cancel_and_settlement_give_it_back(sandbox):
    sandbox.set_limit(VAT_ID, Decimal("500.00"))
    reserve(sandbox, "ORD-1")
    reserve(sandbox, "ORD-2", auto_capture="1", auto_activate="1")
    over = reserve(sandbox, "ORD-3")

    assert (over.status, over.error_codes, over.state) == ("0", ["3001"], "DENIED")
    assert sandbox.debtor(VAT_ID)["reserved"] == "476.00"
    call(sandbox, "cancelOrder", order_request("ORD-1"))
    call(sandbox, "applyTransactionOnActivatedOrder", order_request("ORD-2"))
    assert sandbox.debtor(VAT_ID) == {
        "vat_id": VAT_ID,
        "debtor_id": sandbox.debtor(VAT_ID)["debtor_id"],
        "limit": "500.00",
        "reserved": "0.00",
        "available": "500.00",
    }
    assert reserve(sandbox, "ORD-4").status == "1"


def test_calls_out_of_order_are_errors(sandbox):
    reserve(sandbox, "ORD-1")

    for operation in ["activateOrder", "applyTransactionOnActivatedOrder"]:
        reply = call(sandbox, operation, order_request("ORD-1"))
        assert (reply.status, reply.error_codes, reply.state) == ("0", ["2002"], "RESERVED")
    call(sandbox, "cancelOrder", order_request("ORD-1"))
    assert call(sandbox, "captureOrder", order_request("ORD-1")).error_codes == ["2002"]
    assert call(sandbox, "cancelOrder", order_request("ORD-1")).status == "1"  # again: same


def test_modify_over_the_limit_keeps_the_old_amount(sandbox):
    reserve(sandbox, "ORD-1")
    sandbox.set_limit(VAT_ID, Decimal("240.00"))

    reply = call(sandbox, "modifyReservedOrder", order_request("ORD-1", TRS_AMT_GROSS="24100"))

    assert (reply.status, reply.error_codes) == ("0", ["3001"])
    assert sandbox.order("ORD-1")["amount_gross"] == "238.00"
    assert (
        call(sandbox, "modifyReservedOrder", order_request("ORD-1", TRS_AMT_GROSS="23000")).status
        == "1"
    )
    assert sandbox.debtor(VAT_ID)["reserved"] == "230.00"


@pytest.mark.parametrize(
    ("fields", "reserve_answer", "activate_answer"),
    [
        ({"vat_id": DENIED_AT_RESERVE.vat_id}, ("0", "DENIED", ["3002"]), None),
        ({"company": DENIED_AT_RESERVE.company_name}, ("0", "DENIED", ["3002"]), None),
        (
            {"vat_id": DENIED_AT_ACTIVATION.vat_id},
            ("1", "CAPTURED", []),
            ("0", "ACTIVATION_DENIED", ["3003"]),
        ),
        ({"vat_id": SMALL_LIMIT.vat_id, "gross": "100001"}, ("0", "DENIED", ["3001"]), None),
        (
            {"vat_id": SMALL_LIMIT.vat_id, "gross": "100000"},
            ("1", "CAPTURED", []),
            ("1", "ACTIVATED", []),
        ),
        ({"email": DENIED_BY_EMAIL.email}, ("0", "DENIED", ["3002"]), None),
        (
            {"email": APPROVED_BY_EMAIL.email, "vat_id": DENIED_AT_RESERVE.vat_id},
            ("1", "CAPTURED", []),
            ("1", "ACTIVATED", []),
        ),
    ],
)
def test_personas(sandbox, fields, reserve_answer, activate_answer):
    reserved = reserve(sandbox, "ORD-1", auto_capture="1", **fields)
    assert (reserved.status, reserved.state, reserved.error_codes) == reserve_answer

    activated = call(sandbox, "activateOrder", order_request("ORD-1"))
    if activate_answer is not None:
        assert (activated.status, activated.state, activated.error_codes) == activate_answer


def test_personas_have_their_limits_and_valid_vat_ids(sandbox):
    assert sandbox.debtor(SMALL_LIMIT.vat_id)["limit"] == "1000.00"
    assert sandbox.debtor(VAT_ID)["limit"] == "50000.00"
    for persona in PERSONAS:
        assert vat.is_valid(persona.vat_id), persona


def test_reserve_with_auto_activation_denied_keeps_the_reservation(sandbox):
    reply = reserve(
        sandbox, "ORD-1", vat_id=DENIED_AT_ACTIVATION.vat_id, auto_capture="1", auto_activate="1"
    )

    assert (reply.status, reply.state, reply.error_codes) == ("1", "ACTIVATION_DENIED", ["3003"])
    assert sandbox.debtor(DENIED_AT_ACTIVATION.vat_id)["reserved"] == "238.00"
    assert call(sandbox, "cancelOrder", order_request("ORD-1")).state == "CANCELED"
    assert sandbox.debtor(DENIED_AT_ACTIVATION.vat_id)["reserved"] == "0.00"


# --- Faults ---------------------------------------------------------------------------------------


def draws(plan: FaultPlan, n: int, channel: Channel = Channel.CALL) -> list:
    injector = FaultInjector(plan)
    return [injector.draw(channel) for _ in range(n)]


def test_faults_are_reproducible_by_seed_and_follow_the_rate():
    plan = FaultPlan(rate=0.2, seed=7)

    first, again = draws(plan, 5000), draws(plan, 5000)
    other = draws(FaultPlan(rate=0.2, seed=8), 5000)

    assert first == again
    assert first != other
    counts = Counter(fault for fault in first if fault)
    assert 900 < sum(counts.values()) < 1100
    assert set(counts) == CALL_KINDS
    assert {f for f in draws(plan, 500, Channel.WSDL) if f} == WSDL_KINDS
    assert draws(FaultPlan(rate=0.0), 100) == [None] * 100


def test_fetching_the_wsdl_does_not_shift_the_calls_faults():
    plan = FaultPlan(rate=0.5, seed=3)
    injector = FaultInjector(plan)

    mixed = []
    for n in range(200):
        if n % 3 == 0:
            injector.draw(Channel.WSDL)
        mixed.append(injector.draw(Channel.CALL))

    assert mixed == draws(plan, 200)


def test_the_fault_plan_is_set_through_the_control_api(sandbox):
    plan = sandbox.set_faults(rate=0.2, kinds=["drop", "wsdl_slow"], seed=3, wsdl_delay_s=1.5)
    assert plan == sandbox.faults()
    assert (plan["rate"], plan["kinds"], plan["seed"], plan["wsdl_delay_s"]) == (
        0.2,
        ["drop", "wsdl_slow"],
        3,
        1.5,
    )


def test_queued_faults_hit_the_next_requests_of_their_kind_in_order(sandbox):
    assert sandbox.fail_next(["wsdl_missing", "http_500", "lost_answer"]) == [
        "wsdl_missing",
        "http_500",
        "lost_answer",
    ]

    assert post_reserve(sandbox, "ORD-1").status_code == 500
    with pytest.raises(httpx.RemoteProtocolError):
        post_reserve(sandbox, "ORD-1")
    assert sandbox.faults()["queued"] == ["wsdl_missing"]
    assert httpx.get(sandbox.wsdl_url).status_code == 404
    assert httpx.get(sandbox.wsdl_url).status_code == 200
    assert reserve(sandbox, "ORD-1").status == "1"

    assert sandbox.calls()["faults"] == {"http_500": 1, "lost_answer": 1, "wsdl_missing": 1}
    sandbox.fail_next(["drop"])
    sandbox.reset()
    assert sandbox.faults()["queued"] == []
    assert httpx.post(f"{sandbox.base_url}/sandbox/faults/next", json={}).status_code == 400


def post_reserve(sandbox, order_id: str, **options) -> httpx.Response:
    return soap.post(sandbox, soap.envelope("reserveOrder", reserve_request(order_id)), **options)


@pytest.mark.parametrize(
    ("kind", "took_effect"),
    [("http_500", False), ("soap_fault", False), ("drop", False), ("lost_answer", True)],
)
def test_a_call_that_fails(sandbox, kind, took_effect):
    sandbox.fail_next([kind])

    try:
        response = post_reserve(sandbox, "ORD-1")
    except httpx.RemoteProtocolError:
        assert kind in {"drop", "lost_answer"}
    else:
        assert response.status_code == 500
        if kind == "soap_fault":
            reply = soap.Reply(500, etree.fromstring(response.content))
            assert reply.faultcode == "soapenv:Server"
            assert reply.fault_message
            generic = reply.payload.find("detail/{*}GenericSoapFault")
            assert etree.QName(generic).namespace == DEFAULT_NAMESPACE

    assert (sandbox.order("ORD-1") is not None) is took_effect
    (entry,) = sandbox.call_log("reserveOrder")
    assert entry["fault"] == kind


def test_a_timeout_answers_late_and_takes_effect(sandbox):
    sandbox.set_faults(timeout_s=1.0)
    sandbox.fail_next(["timeout"])

    with pytest.raises(httpx.ReadTimeout):
        post_reserve(sandbox, "ORD-1", timeout=0.3)
    assert sandbox.order("ORD-1") is None
    time.sleep(1.0)
    assert sandbox.order("ORD-1")["state"] == "RESERVED"


def test_latency_delays_the_answer(sandbox):
    sandbox.set_faults(latency_ms=300)
    sandbox.fail_next(["latency"])

    started = time.perf_counter()
    response = post_reserve(sandbox, "ORD-1")

    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200


def test_an_odd_answer_has_unknown_elements_another_order_and_a_decimal_guar_amt(sandbox):
    sandbox.fail_next(["odd_answer"])

    reply = reserve(sandbox, "ORD-1")

    assert reply.status == "1"
    assert sandbox.order("ORD-1")["state"] == "RESERVED"
    assert "SANDBOX_TRACE" in children(reply.payload)
    assert "SANDBOX_EXTRA" in children(reply.response)
    data = reply.response.find("RESPONSE_DATA")
    assert "SANDBOX_EXTRA" in children(data)
    assert "SANDBOX_EXTRA" in children(reply.response.find("DEBTOR_CORRECTED_DATA"))
    assert children(reply.response)[0] != "REQUEST_ID"
    assert children(data)[0] == "STATUS"
    assert reply.text("RESPONSE_DATA/GUAR_AMT") == "23800.0"
    schema = etree.XMLSchema(etree.fromstring(httpx.get(sandbox.url, params={"xsd": ""}).content))
    assert not schema.validate(reply.payload)
    # The same call again, without the fault: the same order, a plain answer.
    assert reserve(sandbox, "ORD-1").ref_no == reply.ref_no


def test_an_odd_status_is_neither_0_nor_1_and_nothing_happens(sandbox):
    sandbox.fail_next(["odd_status"])

    first = reserve(sandbox, "ORD-1")
    assert (first.status, first.error_codes, first.ref_no) == ("7", ["9001"], None)
    assert sandbox.order("ORD-1") is None

    reserve(sandbox, "ORD-2")
    sandbox.fail_next(["odd_status"])
    captured = call(sandbox, "captureOrder", order_request("ORD-2"))
    assert (captured.status, captured.text("STATUS"), captured.state) == ("7", "7", "RESERVED")
    assert sandbox.order("ORD-2")["state"] == "RESERVED"


def test_the_wsdl_can_be_slow_or_missing(sandbox):
    sandbox.set_faults(wsdl_delay_s=0.5)
    sandbox.fail_next(["wsdl_slow"])

    started = time.perf_counter()
    assert httpx.get(sandbox.wsdl_url).status_code == 200
    assert time.perf_counter() - started >= 0.5

    sandbox.set_faults(rate=1.0, kinds=["wsdl_missing"])
    assert httpx.get(sandbox.wsdl_url).status_code == 404
    assert reserve(sandbox, "ORD-1").status == "1"  # calls are not hit by WSDL faults
    assert sandbox.calls()["wsdl"] == 2


def test_latency_does_not_serialize_calls(sandbox):
    in_flight, latency = 200, 0.5
    content = soap.envelope("checkStatusOrder", order_request("ORD-1"))
    # Several connection pools: one httpx pool's bookkeeping slows down past ~100 connections.
    clients = [httpx.Client(timeout=10) for _ in range(in_flight // 10)]

    def check(n: int) -> int:
        return clients[n % len(clients)].post(sandbox.url, content=content).status_code

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(check, range(in_flight)))  # warm up threads and connections
        sandbox.reset()
        sandbox.set_faults(rate=1.0, kinds=[FaultKind.LATENCY], latency_ms=int(latency * 1000))
        started = time.perf_counter()
        statuses = list(pool.map(check, range(in_flight)))
        elapsed = time.perf_counter() - started
    for client in clients:
        client.close()

    assert statuses == [200] * in_flight
    # Serialized, this would take in_flight × latency (100 s); concurrent, about one latency.
    assert elapsed < latency * 6, f"{in_flight} calls took {elapsed:.2f}s"
    assert sandbox.calls()["peak_in_flight"] >= in_flight // 2


# --- The control API and the command ------------------------------------------------------------


def test_control_api_counts_and_logs_calls_per_operation_and_resets(sandbox):
    reserve(sandbox, "ORD-1")
    reserve(sandbox, "ORD-2", vat_id=DENIED_AT_RESERVE.vat_id)
    check_status(sandbox, "ORD-1")
    call(
        sandbox, "checkStatusOrder", order_request("ORD-1"), security=soap.ws_security(password="x")
    )

    calls = sandbox.calls()
    assert calls["operations"] == {"reserveOrder": 2, "checkStatusOrder": 2}
    assert calls["total"] == 4
    log = sandbox.call_log("reserveOrder")
    assert [(e["order_id"], e["status"], e["errors"]) for e in log] == [
        ("ORD-1", "1", []),
        ("ORD-2", "0", ["3002"]),
    ]
    assert sandbox.call_log("checkStatusOrder")[-1]["faultcode"] == "wsse:FailedAuthentication"
    assert len(sandbox.call_log()) == 4

    sandbox.set_namespace(OTHER_NAMESPACE)
    sandbox.reset()
    assert sandbox.debtors() == []
    assert sandbox.calls()["total"] == 0
    assert sandbox.call_log() == []
    assert sandbox.order("ORD-1") is None
    assert sandbox.namespace() == DEFAULT_NAMESPACE


def test_an_order_id_with_any_characters_can_be_inspected(sandbox):
    reserve(sandbox, "ORD/2026 #1")

    assert sandbox.order("ORD/2026 #1")["state"] == "RESERVED"


def test_control_api_refuses_bad_input(sandbox):
    base = sandbox.base_url
    assert httpx.put(f"{base}/sandbox/faults", json={"rate": 2}).status_code == 400
    assert httpx.put(f"{base}/sandbox/faults", json={"kinds": ["meteor"]}).status_code == 400
    assert httpx.put(f"{base}/sandbox/faults", json={"speed": 1}).status_code == 400
    assert httpx.put(f"{base}/sandbox/faults", json={"wsdl_delay_s": -1}).status_code == 400
    assert httpx.put(f"{base}/sandbox/debtors/DE1/limit", json={"limit": "x"}).status_code == 400
    assert httpx.put(f"{base}/sandbox/debtors/DE1/limit", content=b"[").status_code == 400
    assert httpx.put(f"{base}/sandbox/contract", json={"ns": "urn:x"}).status_code == 400
    assert httpx.get(f"{base}/sandbox/orders/nope").status_code == 404
    assert httpx.get(sandbox.url).status_code == 404


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_starts_a_sandbox_under_the_namespace_given():
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            str(port),
            "--seed",
            "5",
            "--namespace",
            OTHER_NAMESPACE,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"{url}/sandbox/faults")
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"the sandbox did not start: {process.stdout.read()}")
                time.sleep(0.1)
        assert response.json()["seed"] == 5
        wsdl = httpx.get(f"{url}/ws/InfinitePayAPI?wsdl")
        assert etree.fromstring(wsdl.content).get("targetNamespace") == OTHER_NAMESPACE
        httpx.put(f"{url}/sandbox/contract", json={"namespace": DEFAULT_NAMESPACE})
        httpx.post(f"{url}/sandbox/reset")
        assert httpx.get(f"{url}/sandbox/contract").json()["namespace"] == OTHER_NAMESPACE
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_command_refuses_a_bad_namespace():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "--namespace", "not a uri"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "namespace" in result.stderr
