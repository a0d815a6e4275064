"""The client against the in-process sandbox: every operation, every fault, every outcome."""

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from infinitepay import errors, wire
from infinitepay.client import InfinitePayClient
from infinitepay.messages import (
    ActivateRequest,
    ApplyTransactionRequest,
    CancelRequest,
    CaptureRequest,
    CheckStatusRequest,
    ModifyRequest,
    Operation,
)
from infinitepay.wire import ErrorCode
from sandbox.accounts import DENIED_AT_ACTIVATION, DENIED_AT_RESERVE, SMALL_LIMIT
from sandbox.faults import FaultKind
from tests.infinitepay.factories import (
    AmountsFactory,
    DebtorFactory,
    InvoiceFactory,
    ReserveRequestFactory,
)
from tests.sandbox_fixtures import SANDBOX_CREDENTIALS


def follow_up(kind, reserve, **extra):
    return kind(order_id=reserve.order_id, amounts=reserve.amounts, **extra)


def test_an_order_goes_through_every_operation(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()

    reserved = infinitepay_client.reserve(reserve)
    assert reserved.approved and reserved.ref_no.startswith("IP")
    assert reserved.order_id == reserve.order_id
    assert reserved.debtor_id
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"

    captured = infinitepay_client.capture(follow_up(CaptureRequest, reserve))
    activated = infinitepay_client.activate(
        follow_up(ActivateRequest, reserve, invoice=InvoiceFactory())
    )
    assert captured.approved and activated.approved
    assert activated.guaranteed_amount == Decimal("238.00")
    assert sandbox.order(reserve.order_id)["state"] == "ACTIVATED"

    settled = infinitepay_client.apply_transaction(follow_up(ApplyTransactionRequest, reserve))
    assert settled.approved
    status = infinitepay_client.check_status(CheckStatusRequest(order_id=reserve.order_id))
    assert status.approved and status.order_state == "SETTLED"
    assert {captured.ref_no, activated.ref_no, status.ref_no} == {reserved.ref_no}
    # Paid: the amount no longer weighs on the buyer's limit.
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "0.00"


def test_cancel_gives_the_limit_back(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    infinitepay_client.reserve(reserve)
    infinitepay_client.capture(follow_up(CaptureRequest, reserve))

    canceled = infinitepay_client.cancel(follow_up(CancelRequest, reserve))

    assert canceled.approved
    assert sandbox.order(reserve.order_id)["state"] == "CANCELED"
    assert sandbox.debtor(reserve.debtor.vat_id)["available"] == "50000.00"


def test_modify_changes_the_reserved_amount(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    infinitepay_client.reserve(reserve)
    bigger = AmountsFactory(total_gross=Decimal("500.00"), total_net=Decimal("420.17"))

    modified = infinitepay_client.modify(ModifyRequest(order_id=reserve.order_id, amounts=bigger))

    assert modified.approved
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "500.00"
    too_big = AmountsFactory(total_gross=Decimal("60000.00"), total_net=Decimal("50420.17"))
    denied = infinitepay_client.modify(ModifyRequest(order_id=reserve.order_id, amounts=too_big))
    assert not denied.approved
    assert denied.error_codes == (ErrorCode.LIMIT_EXCEEDED,)
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "500.00"


def test_a_debtor_denied_at_reserve_gets_a_denial_with_its_reason(infinitepay_client, sandbox):
    debtor = DebtorFactory(
        company_name=DENIED_AT_RESERVE.company_name, vat_id=DENIED_AT_RESERVE.vat_id
    )

    result = infinitepay_client.reserve(ReserveRequestFactory(debtor=debtor))

    assert not result.approved
    assert result.status == "0"
    assert result.error_codes == (ErrorCode.DEBTOR_DENIED,)
    assert result.errors[0].message
    assert sandbox.debtor(debtor.vat_id)["reserved"] == "0.00"


def test_an_order_over_the_limit_is_denied(infinitepay_client, sandbox):
    debtor = DebtorFactory(company_name=SMALL_LIMIT.company_name, vat_id=SMALL_LIMIT.vat_id)
    small = AmountsFactory(total_gross=Decimal("999.99"), total_net=Decimal("840.33"))
    large = AmountsFactory(total_gross=Decimal("1000.01"), total_net=Decimal("840.35"))

    assert infinitepay_client.reserve(ReserveRequestFactory(debtor=debtor, amounts=small)).approved
    denied = infinitepay_client.reserve(ReserveRequestFactory(debtor=debtor, amounts=large))

    assert denied.error_codes == (ErrorCode.LIMIT_EXCEEDED,)
    assert sandbox.debtor(debtor.vat_id)["available"] == "0.01"


def test_a_debtor_denied_at_activation_can_be_canceled(infinitepay_client, sandbox):
    debtor = DebtorFactory(vat_id=DENIED_AT_ACTIVATION.vat_id)
    reserve = ReserveRequestFactory(debtor=debtor)
    infinitepay_client.reserve(reserve)
    infinitepay_client.capture(follow_up(CaptureRequest, reserve))

    denied = infinitepay_client.activate(
        follow_up(ActivateRequest, reserve, invoice=InvoiceFactory())
    )
    canceled = infinitepay_client.cancel(follow_up(CancelRequest, reserve))

    assert not denied.approved and denied.error_codes == (ErrorCode.ACTIVATION_DENIED,)
    assert canceled.approved
    assert sandbox.debtor(debtor.vat_id)["reserved"] == "0.00"


def test_out_of_order_calls_are_errors(infinitepay_client, sandbox):
    unknown = infinitepay_client.capture(
        CaptureRequest(order_id="ORD-never", amounts=AmountsFactory())
    )
    assert unknown.error_codes == (ErrorCode.UNKNOWN_ORDER,)

    reserve = ReserveRequestFactory()
    infinitepay_client.reserve(reserve)
    too_early = infinitepay_client.activate(
        follow_up(ActivateRequest, reserve, invoice=InvoiceFactory())
    )
    assert not too_early.approved and too_early.error_codes == (ErrorCode.INVALID_STATE,)
    assert sandbox.order(reserve.order_id)["state"] == "RESERVED"


def test_reserving_the_same_order_twice_takes_the_limit_once(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()

    first = infinitepay_client.reserve(reserve)
    second = infinitepay_client.reserve(reserve)

    assert first.approved and second.approved
    assert first.ref_no == second.ref_no
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"


def test_the_same_order_id_with_another_amount_is_an_error(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    infinitepay_client.reserve(reserve)
    changed = replace(reserve, amounts=AmountsFactory(total_gross=Decimal("239.00")))

    result = infinitepay_client.reserve(changed)

    assert not result.approved and result.error_codes == (ErrorCode.ORDER_ID_CONFLICT,)
    assert sandbox.debtor(reserve.debtor.vat_id)["reserved"] == "238.00"


def test_a_lost_answer_and_a_retry_leave_one_reservation(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory()
    sandbox.set_faults(rate=1.0, kinds=[FaultKind.LOST_ANSWER])

    with pytest.raises(errors.ConnectionLost) as lost:
        infinitepay_client.reserve(reserve)
    assert lost.value.outcome_unknown and lost.value.transient
    assert sandbox.order(reserve.order_id)["state"] == "RESERVED"  # it took effect

    sandbox.no_faults()
    retried = infinitepay_client.reserve(reserve)

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
        (FaultKind.TIMEOUT, errors.ProviderTimeout, None),  # takes effect after the client left
    ],
)
def test_each_fault_is_a_transient_error(infinitepay_client, sandbox, kind, error, took_effect):
    reserve = ReserveRequestFactory()
    sandbox.set_faults(rate=1.0, kinds=[kind])

    with pytest.raises(error) as raised:
        infinitepay_client.reserve(reserve)

    assert raised.value.transient
    exchange = raised.value.exchange
    assert exchange.operation == Operation.RESERVE
    assert reserve.order_id in exchange.request_xml
    assert "demo-password" not in exchange.request_xml
    assert sandbox.calls()["faults"] == {kind: 1}
    if took_effect is not None:
        assert (sandbox.order(reserve.order_id) is not None) is took_effect


def test_latency_delays_but_answers(infinitepay_client, sandbox):
    sandbox.set_faults(rate=1.0, kinds=[FaultKind.LATENCY], latency_ms=200)

    result = infinitepay_client.check_status(CheckStatusRequest(order_id="ORD-slow"))

    assert result.error_codes == (ErrorCode.UNKNOWN_ORDER,)
    assert result.exchange.duration_ms >= 200


def test_a_closed_port_is_unreachable():
    with httpx.Client(timeout=1) as http:
        client = InfinitePayClient(
            credentials=SANDBOX_CREDENTIALS, url="http://127.0.0.1:9/ws/InfinitePayAPI", http=http
        )
        with pytest.raises(errors.ProviderUnreachable) as raised:
            client.check_status(CheckStatusRequest(order_id="ORD-1"))
    assert raised.value.transient and not raised.value.outcome_unknown
    assert raised.value.exchange.response_xml is None


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
        client.reserve(ReserveRequestFactory())

    assert not raised.value.transient
    assert sandbox.debtors() == []


def test_an_expired_timestamp_is_rejected(make_client):
    client = make_client(clock=lambda: datetime.now(UTC) - timedelta(hours=1))

    with pytest.raises(errors.AuthenticationFailed, match="MessageExpired"):
        client.check_status(CheckStatusRequest(order_id="ORD-1"))


def test_company_names_reach_the_sandbox_unchanged(infinitepay_client, sandbox):
    name = "Bäcker & Söhne <\"Größe\"> 'Ltd' Ωmega"
    reserve = ReserveRequestFactory(debtor=DebtorFactory(company_name=name))

    assert infinitepay_client.reserve(reserve).approved
    assert sandbox.order(reserve.order_id)["company_name"] == name


def test_an_invalid_request_is_refused_without_a_call(infinitepay_client, sandbox):
    reserve = ReserveRequestFactory(debtor=DebtorFactory(legal_form="plc"))

    with pytest.raises(errors.RequestRejected, match="COM_OR_PER"):
        infinitepay_client.reserve(reserve)
    assert sandbox.calls()["total"] == 0


def test_exchanges_are_redacted(infinitepay_client):
    reserve = ReserveRequestFactory()
    code = wire.security_code(
        secret="demo-secret", client_reference="DEMO-CLIENT", order_id=reserve.order_id
    )

    exchange = infinitepay_client.reserve(reserve).exchange

    assert exchange.http_status == 200
    for text in (exchange.request_xml, exchange.response_xml):
        assert "demo-password" not in text and code not in text and "demo-secret" not in text
    assert "<REF_NO>" in exchange.response_xml
    assert exchange.duration_ms >= 0


def test_debug_mode_logs_redacted_request_and_answer(make_client, caplog):
    caplog.set_level(logging.INFO, logger="infinitepay.client")
    make_client(debug=True).check_status(CheckStatusRequest(order_id="ORD-debug"))

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "infinitepay.client")
    assert "checkStatusOrder request" in logged and "checkStatusOrder answer" in logged
    assert "ORD-debug" in logged and wire.REDACTED in logged
    assert "demo-password" not in logged


def test_without_debug_mode_nothing_is_logged(infinitepay_client, caplog):
    caplog.set_level(logging.DEBUG, logger="infinitepay.client")
    infinitepay_client.check_status(CheckStatusRequest(order_id="ORD-quiet"))
    assert [r for r in caplog.records if r.name == "infinitepay.client"] == []


# --- Answers the sandbox never gives: mocked at the transport ----------------------------


def client_answering(status: int, body: bytes) -> InfinitePayClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "text/xml"})

    return InfinitePayClient(
        credentials=SANDBOX_CREDENTIALS,
        url="https://test.infinitepay.example/ws/InfinitePayAPI",
        http=httpx.Client(transport=httpx.MockTransport(answer)),
    )


def status_answer(**fields) -> bytes:
    return wire.build_response(
        Operation.CHECK_STATUS, request_id="R-1", status="1", order_id="ORD-1", **fields
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
        (
            200,
            wire.build_response(Operation.RESERVE, request_id="R", status="1", order_id="O"),
            errors.MalformedAnswer,  # the answer of another operation
        ),
        (404, b"Not Found", errors.MalformedAnswer),
        (503, b"<html>Service Unavailable</html>", errors.ProviderServerError),
        (401, b"", errors.AuthenticationFailed),
        (500, wire.fault_envelope("soapenv:Client", "bad request"), errors.RequestRejected),
        (500, wire.fault_envelope("soapenv:Server", "oops"), errors.ProviderServerError),
        (500, wire.fault_envelope("wsse:FailedAuthentication", "no"), errors.AuthenticationFailed),
        (500, status_answer(), errors.ProviderServerError),
    ],
)
def test_answers_map_to_typed_errors(status, body, error):
    with pytest.raises(error) as raised:
        client_answering(status, body).check_status(CheckStatusRequest(order_id="ORD-1"))
    assert raised.value.exchange.http_status == status


def test_an_answer_is_read_into_a_result():
    body = status_answer(
        ref_no="IP42", debtor_id="DB7", guaranteed_cents=199900, add_info="ACTIVATED"
    )

    result = client_answering(200, body).check_status(CheckStatusRequest(order_id="ORD-1"))

    assert (result.approved, result.ref_no, result.debtor_id) == (True, "IP42", "DB7")
    assert result.guaranteed_amount == Decimal("1999.00")
    assert result.order_state == "ACTIVATED"
