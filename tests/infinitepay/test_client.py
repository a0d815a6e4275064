"""The client against the in-process sandbox: every operation, every fault, every outcome."""

import logging
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from infinitepay import errors, wire
from infinitepay.client import InfinitePayClient
from infinitepay.contract import forget_contracts
from infinitepay.messages import (
    ActivateRequest,
    ApplyTransactionRequest,
    CancelRequest,
    CaptureRequest,
    CheckStatusRequest,
    Operation,
)
from sandbox.accounts import DENIED_AT_ACTIVATION, DENIED_AT_RESERVE, SMALL_LIMIT
from sandbox.faults import FaultKind
from sandbox.service import ErrorCode
from tests.infinitepay.factories import (
    AmountsFactory,
    DebtorFactory,
    InvoiceFactory,
    ReserveRequestFactory,
)
from tests.infinitepay.soap import ENDPOINT, NAMESPACE, Endpoint, approved, envelope, fault
from tests.sandbox_fixtures import SANDBOX_CREDENTIALS


def follow_up(kind, reserve, **extra):
    return kind(order_id=reserve.order_id, amounts=reserve.amounts, **extra)


def test_an_order_goes_through_every_operation(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()

    reserved = infinitepay_client.call(reserve)
    assert reserved.approved and reserved.ref_no.isdigit()
    assert reserved.order_id == reserve.order_id
    assert reserved.debtor_id
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"

    invoice = InvoiceFactory()
    captured = infinitepay_client.call(follow_up(CaptureRequest, reserve))
    activated = infinitepay_client.call(follow_up(ActivateRequest, reserve, invoice=invoice))
    assert captured.approved and activated.approved
    assert activated.guaranteed_amount == Decimal("238.00")
    assert sandbox.order(reserve.order_id)["state"] == "ACTIVATED"

    settled = infinitepay_client.call(
        ApplyTransactionRequest(
            order_id=reserve.order_id,
            ref_no=reserved.ref_no,
            invoice_id=invoice.invoice_id,
            currency="EUR",
            amount=reserve.amounts.total_gross,
            paid_on=date(2026, 4, 1),
        )
    )
    assert settled.approved
    status = infinitepay_client.call(follow_up(CheckStatusRequest, reserve, ref_no=reserved.ref_no))
    assert status.approved and status.add_info == "SETTLED"
    refs = {captured.ref_no, activated.ref_no, settled.ref_no, status.ref_no}
    assert refs == {reserved.ref_no}
    # Paid: the amount no longer weighs on the buyer's limit.
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "0.00"


def test_cancel_gives_the_limit_back(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    reserved = infinitepay_client.call(reserve)
    infinitepay_client.call(follow_up(CaptureRequest, reserve))

    canceled = infinitepay_client.call(follow_up(CancelRequest, reserve, ref_no=reserved.ref_no))

    assert canceled.approved
    assert sandbox.order(reserve.order_id)["state"] == "CANCELED"
    assert sandbox.debtor(reserve.debtor.vat_id)["available"] == "50000.00"


def test_a_debtor_denied_at_reserve_gets_a_denial_with_its_reason(infinitepay_client, sandbox):
    debtor = DebtorFactory(
        company_name=DENIED_AT_RESERVE.company_name, vat_id=DENIED_AT_RESERVE.vat_id
    )

    result = infinitepay_client.call(ReserveRequestFactory(debtor=debtor))

    assert not result.approved
    assert result.status == "0"
    assert result.error_codes == (ErrorCode.DEBTOR_DENIED,)
    assert result.errors[0].message
    assert result.ref_no == ""  # a denied reserve has none
    assert sandbox.debtor(debtor.vat_id)["reserved"] == "0.00"


def test_an_order_over_the_limit_is_denied(infinitepay_client, sandbox):
    debtor = DebtorFactory(company_name=SMALL_LIMIT.company_name, vat_id=SMALL_LIMIT.vat_id)
    small = AmountsFactory(total_gross=Decimal("999.99"), total_net=Decimal("840.33"))
    large = AmountsFactory(total_gross=Decimal("1000.01"), total_net=Decimal("840.35"))

    assert infinitepay_client.call(ReserveRequestFactory(debtor=debtor, amounts=small)).approved
    denied = infinitepay_client.call(ReserveRequestFactory(debtor=debtor, amounts=large))

    assert denied.error_codes == (ErrorCode.LIMIT_EXCEEDED,)
    assert sandbox.debtor(debtor.vat_id)["available"] == "0.01"


def test_a_debtor_denied_at_activation_can_be_canceled(infinitepay_client, sandbox):
    debtor = DebtorFactory(vat_id=DENIED_AT_ACTIVATION.vat_id)
    reserve = ReserveRequestFactory(debtor=debtor)
    infinitepay_client.call(reserve)
    infinitepay_client.call(follow_up(CaptureRequest, reserve))

    denied = infinitepay_client.call(follow_up(ActivateRequest, reserve, invoice=InvoiceFactory()))
    canceled = infinitepay_client.call(follow_up(CancelRequest, reserve))

    assert not denied.approved and denied.error_codes == (ErrorCode.ACTIVATION_DENIED,)
    assert denied.add_info == "ACTIVATION_DENIED"
    assert canceled.approved
    assert sandbox.debtor(debtor.vat_id)["reserved"] == "0.00"


def test_out_of_order_calls_are_errors(infinitepay_client, sandbox):
    unknown = infinitepay_client.call(
        CaptureRequest(order_id="ORD-never", amounts=AmountsFactory())
    )
    assert not unknown.approved and unknown.error_codes == (ErrorCode.UNKNOWN_ORDER,)

    reserve = ReserveRequestFactory()
    infinitepay_client.call(reserve)
    too_early = infinitepay_client.call(
        follow_up(ActivateRequest, reserve, invoice=InvoiceFactory())
    )
    assert not too_early.approved and too_early.error_codes == (ErrorCode.INVALID_STATE,)
    assert sandbox.order(reserve.order_id)["state"] == "RESERVED"


def test_reserving_the_same_order_twice_takes_the_limit_once(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()

    first = infinitepay_client.call(reserve)
    second = infinitepay_client.call(reserve)

    assert first.approved and second.approved
    assert first.ref_no == second.ref_no
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"


def test_the_same_order_id_with_another_amount_is_an_error(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    infinitepay_client.call(reserve)
    changed = replace(reserve, amounts=AmountsFactory(total_gross=Decimal("239.00")))

    result = infinitepay_client.call(changed)

    assert not result.approved and result.error_codes == (ErrorCode.ORDER_ID_CONFLICT,)
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"


def test_a_lost_answer_and_a_retry_leave_one_reservation(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    sandbox.set_faults(rate=1.0, kinds=[FaultKind.LOST_ANSWER])

    with pytest.raises(errors.ConnectionLost) as lost:
        infinitepay_client.call(reserve)
    assert lost.value.outcome_unknown and lost.value.transient
    assert sandbox.order(reserve.order_id)["state"] == "RESERVED"  # it took effect

    sandbox.no_faults()
    retried = infinitepay_client.call(reserve)

    assert retried.approved
    assert retried.ref_no == sandbox.order(reserve.order_id)["ref_no"]
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"
    assert sandbox.calls()["operations"]["reserveOrder"] == 2


@pytest.mark.parametrize(
    ("kind", "error", "took_effect"),
    [
        (FaultKind.HTTP_500, errors.ProviderServerError, False),
        (FaultKind.SOAP_FAULT, errors.ProviderServerError, False),
        (FaultKind.DROP, errors.ConnectionLost, False),
        (FaultKind.LOST_ANSWER, errors.ConnectionLost, True),
        (FaultKind.TIMEOUT, errors.ProviderTimeout, True),  # after the client left
    ],
)
def test_each_fault_is_a_transient_error(infinitepay_client, sandbox, kind, error, took_effect):
    reserve = ReserveRequestFactory()
    # A timeout waits longer than the client (0.5 s), then does the call.
    sandbox.set_faults(rate=1.0, kinds=[kind], timeout_s=1.0)

    with pytest.raises(error) as raised:
        infinitepay_client.call(reserve)

    assert raised.value.transient
    exchange = raised.value.exchange
    assert exchange.operation == Operation.RESERVE
    assert reserve.order_id in exchange.request_xml
    assert "demo-password" not in exchange.request_xml
    assert sandbox.calls()["faults"] == {kind: 1}
    if kind == FaultKind.TIMEOUT:
        wait_for_order(sandbox, reserve.order_id)  # nor does it land in the next test
    assert (sandbox.order(reserve.order_id) is not None) is took_effect


def wait_for_order(sandbox, order_id, *, seconds=5.0):
    deadline = time.monotonic() + seconds
    while sandbox.order(order_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)


def test_an_odd_answer_is_read(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    sandbox.fail_next([FaultKind.ODD_ANSWER])

    odd = infinitepay_client.call(reserve)

    assert odd.approved and odd.ref_no == sandbox.order(reserve.order_id)["ref_no"]
    assert odd.guaranteed_amount == Decimal("238.00")  # GUAR_AMT as "23800.0"
    assert odd.add_info == "RESERVED"


@pytest.mark.parametrize("kind", [FaultKind.WSDL_MISSING, FaultKind.WSDL_SLOW])
def test_without_the_wsdl_nothing_is_sent(infinitepay_client, sandbox, kind):
    sandbox.fail_next([kind])  # wsdl_slow: longer than the client waits

    with pytest.raises(errors.ServiceDescriptionUnreadable) as raised:
        infinitepay_client.call(ReserveRequestFactory())

    assert raised.value.transient and not raised.value.outcome_unknown
    assert raised.value.message.startswith("InfinitePay's service description could not be read: ")
    assert sandbox.calls()["total"] == 0
    # Nothing unreadable is kept: the next call loads the WSDL again and goes through.
    assert infinitepay_client.call(ReserveRequestFactory()).approved


def test_latency_delays_but_answers(infinitepay_client, sandbox):
    sandbox.set_faults(rate=1.0, kinds=[FaultKind.LATENCY], latency_ms=200)

    result = infinitepay_client.call(CheckStatusRequest(order_id="ORD-slow"))

    assert result.error_codes == (ErrorCode.UNKNOWN_ORDER,)
    assert result.exchange.duration_ms >= 200


def test_a_closed_port_is_unreachable():
    forget_contracts()
    with httpx.Client(timeout=1) as http:
        client = InfinitePayClient(
            credentials=SANDBOX_CREDENTIALS, url="http://127.0.0.1:9/ws/InfinitePayAPI", http=http
        )
        with pytest.raises(errors.ProviderUnreachable) as raised:
            client.call(CheckStatusRequest(order_id="ORD-1"))
    assert raised.value.transient and not raised.value.outcome_unknown
    assert raised.value.exchange is None  # not even the WSDL came: nothing was sent


@pytest.mark.parametrize(
    "wrong",
    [
        {"password": "guess"},
        {"username": "someone"},
        {"secret": "other"},
        {"client_reference": "X"},
    ],
)
def test_wrong_credentials_are_an_authentication_failure(make_client, sandbox, wrong):
    client = make_client(credentials=replace(SANDBOX_CREDENTIALS, **wrong))

    with pytest.raises(errors.AuthenticationFailed) as raised:
        client.call(ReserveRequestFactory())

    assert not raised.value.transient
    assert raised.value.exchange.http_status == 500
    assert sandbox.debtors() == []


def test_an_expired_timestamp_is_rejected(make_client):
    client = make_client(clock=lambda: datetime.now(UTC) - timedelta(hours=1))

    with pytest.raises(errors.AuthenticationFailed, match="MessageExpired"):
        client.call(CheckStatusRequest(order_id="ORD-1"))


def test_company_names_reach_the_sandbox_unchanged(infinitepay_client, sandbox):
    name = "Bäcker & Söhne <\"Größe\"> 'Ltd' Ωmega"
    reserve = ReserveRequestFactory(debtor=DebtorFactory(company_name=name))

    assert infinitepay_client.call(reserve).approved
    assert sandbox.order(reserve.order_id)["company_name"] == name


def test_an_invalid_request_is_refused_without_a_call(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory(debtor=DebtorFactory(company_name="Muster\x0bGmbH"))

    with pytest.raises(errors.RequestRejected, match="reserveOrder cannot be sent") as raised:
        infinitepay_client.call(reserve)
    assert not raised.value.transient
    assert sandbox.calls()["total"] == 0


def test_exchanges_are_redacted(infinitepay_client):
    reserve = ReserveRequestFactory()
    code = wire.security_code(
        secret="demo-secret", client_reference="DEMO-CLIENT", order_id=reserve.order_id
    )

    exchange = infinitepay_client.call(reserve).exchange

    assert exchange.http_status == 200
    for text in (exchange.request_xml, exchange.response_xml):
        assert "demo-password" not in text and code not in text and "demo-secret" not in text
    assert "<REF_NO>" in exchange.response_xml
    assert exchange.duration_ms >= 0


def test_debug_mode_logs_redacted_request_and_answer(make_client, caplog):
    caplog.set_level(logging.INFO, logger="infinitepay.client")
    make_client(debug=True).call(CheckStatusRequest(order_id="ORD-debug"))

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "infinitepay.client")
    assert "checkStatusOrder request" in logged and "checkStatusOrder answer" in logged
    assert "ORD-debug" in logged and wire.REDACTED in logged
    assert "demo-password" not in logged


def test_without_debug_mode_nothing_is_logged(infinitepay_client, caplog):
    caplog.set_level(logging.DEBUG, logger="infinitepay.client")
    infinitepay_client.call(CheckStatusRequest(order_id="ORD-quiet"))
    assert [r for r in caplog.records if r.name == "infinitepay.client"] == []


# --- Answers the sandbox never gives: mocked at the transport ----------------------------


@pytest.fixture
def endpoint():
    forget_contracts()
    yield Endpoint()
    forget_contracts()


def answering(endpoint: Endpoint, status: int, body: bytes) -> InfinitePayClient:
    endpoint.status, endpoint.answer = status, body
    return InfinitePayClient(credentials=SANDBOX_CREDENTIALS, url=ENDPOINT, http=endpoint.http())


def status_answer(data: str = "<STATUS>1</STATUS>", order_id: str = "ORD-1") -> bytes:
    """A check status answer whose RESPONSE_DATA holds ORDER_ID and `data`."""
    return envelope(
        f'<ns:checkStatusOrderResponse xmlns:ns="{NAMESPACE}"><RESPONSE>'
        f"<REQUEST_ID>1</REQUEST_ID><RESPONSE_DATA><ORDER_ID>{order_id}</ORDER_ID>{data}"
        "</RESPONSE_DATA></RESPONSE></ns:checkStatusOrderResponse>"
    )


ENTITY_ANSWER = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>
<ip:checkStatusOrderResponse xmlns:ip="urn:infinitepay:ws:v1"><RESPONSE>
<REQUEST_ID>&lol;</REQUEST_ID><RESPONSE_DATA><STATUS>1</STATUS></RESPONSE_DATA>
</RESPONSE></ip:checkStatusOrderResponse></soapenv:Body></soapenv:Envelope>"""


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, ENTITY_ANSWER, errors.MalformedAnswer),
        (200, b"<html>maintenance</html>", errors.MalformedAnswer),
        (200, b"", errors.MalformedAnswer),
        (200, approved("reserveOrder", "ORD-1"), errors.MalformedAnswer),  # another operation's
        (404, b"Not Found", errors.MalformedAnswer),
        (503, b"<html>Service Unavailable</html>", errors.ProviderServerError),
        # Only a WS-Security fault means the credentials were refused, whatever the status.
        (401, b"", errors.MalformedAnswer),
        (403, b"<html>Forbidden</html>", errors.MalformedAnswer),
        (401, status_answer(), errors.MalformedAnswer),
        (401, fault("wsse:FailedAuthentication", "no"), errors.AuthenticationFailed),
        (500, fault("wsse:FailedAuthentication", "no"), errors.AuthenticationFailed),
        (500, fault("s:Client", "bad request"), errors.RequestRejected),
        (500, fault("s:Server", "oops"), errors.ProviderServerError),
        (500, status_answer(), errors.ProviderServerError),
    ],
)
def test_answers_map_to_typed_errors(endpoint, status, body, error):
    with pytest.raises(error) as raised:
        answering(endpoint, status, body).call(CheckStatusRequest(order_id="ORD-1"))
    assert raised.value.exchange.http_status == status


def test_an_answer_is_read_into_a_result(endpoint):
    body = status_answer(
        "<ADD_INFO>ACTIVATED</ADD_INFO><DB_ID>7</DB_ID><GUAR_AMT>199900</GUAR_AMT>"
        "<REF_NO>42</REF_NO><STATUS>1</STATUS>"
    )

    result = answering(endpoint, 200, body).call(CheckStatusRequest(order_id="ORD-1"))

    assert (result.approved, result.ref_no, result.debtor_id) == (True, "42", "7")
    assert result.guaranteed_amount == Decimal("1999.00")
    assert result.add_info == "ACTIVATED"
