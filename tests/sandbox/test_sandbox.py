"""The sandbox as its users meet it: WSDL, faults, control API, concurrency, the command."""

import socket
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from lxml import etree
from stdnum.eu import vat

from infinitepay import errors, wire
from infinitepay.client import InfinitePayClient
from infinitepay.messages import CheckStatusRequest, ModifyRequest, Operation
from sandbox.accounts import PERSONAS, SMALL_LIMIT
from sandbox.faults import FaultInjector, FaultKind, FaultPlan
from tests.infinitepay.factories import AmountsFactory, DebtorFactory, ReserveRequestFactory
from tests.sandbox_fixtures import SANDBOX_CREDENTIALS


def wire_now() -> datetime:
    return datetime.now(UTC)


def test_wsdl_carries_the_schema_and_the_sandbox_address(sandbox):
    response = httpx.get(sandbox.url, params={"wsdl": ""})

    assert response.status_code == 200
    document = etree.fromstring(response.content)
    namespaces = {
        "wsdl": "http://schemas.xmlsoap.org/wsdl/",
        "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
        "xs": "http://www.w3.org/2001/XMLSchema",
    }
    schema = document.find("wsdl:types/xs:schema", namespaces)
    assert schema.get("targetNamespace") == wire.NAMESPACE
    # A usable schema: compiled with the namespaces in scope where the WSDL embeds it.
    lifted = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=schema.nsmap)
    lifted.extend(schema)
    compiled = etree.XMLSchema(lifted)
    payload = wire.build_payload(
        CheckStatusRequest(order_id="ORD-1"), credentials=SANDBOX_CREDENTIALS, now=wire_now()
    )
    assert compiled.validate(payload)
    assert document.find(".//soap:address", namespaces).get("location") == sandbox.url
    operations = {
        op.get("name") for op in document.iterfind("wsdl:portType/wsdl:operation", namespaces)
    }
    assert operations == {op.value for op in Operation}
    assert httpx.get(sandbox.url, params={"xsd": ""}).content == wire.XSD_PATH.read_bytes()


def post_soap(sandbox, body: bytes) -> httpx.Response:
    return httpx.post(sandbox.url, content=body, headers={"Content-Type": wire.CONTENT_TYPE})


def test_a_request_outside_the_schema_gets_a_client_fault(sandbox):
    request = ReserveRequestFactory()
    payload = wire.build_payload(request, credentials=SANDBOX_CREDENTIALS, now=wire_now())
    payload.find(".//COM_OR_PER").text = "plc"
    content = wire.build_request(
        CheckStatusRequest(order_id="x"), credentials=SANDBOX_CREDENTIALS, now=wire_now()
    )
    root = wire.parse_document(content)
    body = root.find(f"{{{wire.SOAP_ENV}}}Body")
    body.replace(body[0], payload)

    response = post_soap(sandbox, wire.serialize(root))

    assert response.status_code == 500
    fault = wire.body_child(wire.parse_document(response.content))
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert "COM_OR_PER" in fault.findtext("faultstring")
    assert sandbox.order(request.order_id) is None


def test_a_request_with_an_entity_declaration_gets_a_client_fault(sandbox):
    response = post_soap(
        sandbox,
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        b"<soapenv:Body><x>&e;</x></soapenv:Body></soapenv:Envelope>",
    )

    assert response.status_code == 500
    assert b"soapenv:Client" in response.content
    assert b"root:" not in response.content


def test_a_request_without_ws_security_is_refused(sandbox):
    payload = wire.build_payload(
        CheckStatusRequest(order_id="ORD-1"), credentials=SANDBOX_CREDENTIALS, now=wire_now()
    )
    response = post_soap(sandbox, wire.serialize(wire.envelope(payload)))
    assert response.status_code == 500
    assert b"wsse:InvalidSecurity" in response.content


def test_control_api_sets_limits_resets_and_counts(infinitepay_client, sandbox):
    debtor = DebtorFactory()
    sandbox.set_limit(debtor.vat_id, Decimal("300.00"))
    assert infinitepay_client.reserve(ReserveRequestFactory(debtor=debtor)).approved
    assert not infinitepay_client.reserve(ReserveRequestFactory(debtor=debtor)).approved

    assert sandbox.debtor(debtor.vat_id) == {
        "vat_id": debtor.vat_id,
        "debtor_id": sandbox.debtor(debtor.vat_id)["debtor_id"],
        "limit": "300.00",
        "reserved": "238.00",
        "available": "62.00",
    }
    infinitepay_client.check_status(CheckStatusRequest(order_id="ORD-1"))
    calls = sandbox.calls()
    assert calls["operations"] == {"reserveOrder": 2, "checkStatusOrder": 1}
    assert calls["total"] == 3

    sandbox.reset()
    assert sandbox.debtors() == []
    assert sandbox.calls()["total"] == 0
    assert sandbox.debtor(debtor.vat_id)["limit"] == "50000.00"


def test_personas_have_their_limits_and_valid_vat_ids(sandbox):
    assert sandbox.debtor(SMALL_LIMIT.vat_id)["limit"] == "1000.00"
    for persona in PERSONAS:
        assert vat.is_valid(persona.vat_id), persona


def test_control_api_refuses_bad_input(sandbox):
    base = sandbox.base_url
    assert httpx.put(f"{base}/sandbox/faults", json={"rate": 2}).status_code == 400
    assert httpx.put(f"{base}/sandbox/faults", json={"kinds": ["meteor"]}).status_code == 400
    assert httpx.put(f"{base}/sandbox/faults", json={"speed": 1}).status_code == 400
    assert httpx.put(f"{base}/sandbox/debtors/DE1/limit", json={"limit": "x"}).status_code == 400
    assert httpx.put(f"{base}/sandbox/debtors/DE1/limit", content=b"[").status_code == 400
    assert httpx.get(f"{base}/sandbox/orders/nope").status_code == 404


def draws(plan: FaultPlan, n: int) -> list:
    injector = FaultInjector(plan)
    return [injector.draw() for _ in range(n)]


def test_faults_are_reproducible_by_seed_and_follow_the_rate():
    plan = FaultPlan(rate=0.2, seed=7)

    first, again = draws(plan, 5000), draws(plan, 5000)
    other = draws(FaultPlan(rate=0.2, seed=8), 5000)

    assert first == again
    assert first != other
    counts = Counter(fault for fault in first if fault)
    assert 900 < sum(counts.values()) < 1100
    assert set(counts) == set(FaultKind)
    assert draws(FaultPlan(rate=0.0), 100) == [None] * 100


def test_the_fault_plan_is_set_through_the_control_api(sandbox):
    plan = sandbox.set_faults(rate=0.2, kinds=["drop", "http_500"], seed=3)
    assert plan == sandbox.faults()
    assert (plan["rate"], plan["kinds"], plan["seed"]) == (0.2, ["drop", "http_500"], 3)


def test_queued_faults_hit_the_next_calls_in_order(infinitepay_client, sandbox):
    assert sandbox.fail_next(["http_500", "lost_answer"]) == ["http_500", "lost_answer"]
    reserve = ReserveRequestFactory()

    with pytest.raises(errors.ProviderServerError):
        infinitepay_client.reserve(reserve)
    with pytest.raises(errors.ConnectionLost):
        infinitepay_client.reserve(reserve)
    assert infinitepay_client.reserve(reserve).approved

    assert sandbox.calls()["faults"] == {"http_500": 1, "lost_answer": 1}
    assert sandbox.faults()["queued"] == []
    sandbox.fail_next(["drop"])
    sandbox.reset()
    assert sandbox.faults()["queued"] == []
    assert httpx.post(f"{sandbox.base_url}/sandbox/faults/next", json={}).status_code == 400


def test_latency_does_not_serialize_calls(sandbox):
    in_flight, latency = 200, 0.5
    # Several connection pools: one httpx pool's bookkeeping slows down past ~100 connections.
    clients = [
        InfinitePayClient(
            credentials=SANDBOX_CREDENTIALS, url=sandbox.url, http=httpx.Client(timeout=10)
        )
        for _ in range(in_flight // 10)
    ]

    def call(n: int):
        client = clients[n % len(clients)]
        return client.check_status(CheckStatusRequest(order_id=f"ORD-{n}"))

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(call, range(in_flight)))  # warm up threads and connections
        sandbox.reset()
        sandbox.set_faults(rate=1.0, kinds=[FaultKind.LATENCY], latency_ms=int(latency * 1000))
        started = time.perf_counter()
        results = list(pool.map(call, range(in_flight)))
        elapsed = time.perf_counter() - started
    for client in clients:
        client._http.close()

    assert len(results) == in_flight
    # Serialized, this would take in_flight × latency (100 s); concurrent, about one latency.
    assert elapsed < latency * 6, f"{in_flight} calls took {elapsed:.2f}s"
    assert sandbox.calls()["peak_in_flight"] >= in_flight // 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_command_starts_a_sandbox():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", str(port), "--seed", "5"],
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
        assert httpx.get(f"{url}/ws/InfinitePayAPI?wsdl").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_order_over_its_limit_via_modify_keeps_the_old_amount(infinitepay_client, sandbox):
    debtor = DebtorFactory()
    reserve = ReserveRequestFactory(debtor=debtor)
    infinitepay_client.reserve(reserve)
    sandbox.set_limit(debtor.vat_id, Decimal("240.00"))
    result = infinitepay_client.modify(
        ModifyRequest(
            order_id=reserve.order_id, amounts=AmountsFactory(total_gross=Decimal("241.00"))
        )
    )

    assert not result.approved
    assert sandbox.order(reserve.order_id)["amount_gross"] == "238.00"
