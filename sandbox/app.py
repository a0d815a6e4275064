"""The sandbox web app: the SOAP endpoint, its contract, and the JSON control API.

POST /ws/InfinitePayAPI              the service (SOAP 1.1; dispatched on the body element)
GET  /ws/InfinitePayAPI?wsdl         the WSDL, with the XSD inside and this address
GET  /ws/InfinitePayAPI?xsd          the XSD alone
GET  /sandbox/contract               the namespace served; PUT {"namespace": ...}: change it
GET  /sandbox/faults                 the fault plan;  PUT: change it (JSON, partial)
POST /sandbox/faults/next            {"kinds": [...]}: faults for the next requests
POST /sandbox/reset                  forget orders, debtors, limits, the call log; the
                                     namespace goes back to the one the sandbox started with
GET  /sandbox/orders/{order_id}      one order's state
GET  /sandbox/debtors                the ledger; GET /sandbox/debtors/{vat_id}: one debtor
PUT  /sandbox/debtors/{vat_id}/limit {"limit": "1000.00"}
GET  /sandbox/calls                  calls per operation, faults per kind, calls in flight
GET  /sandbox/calls/log              the last calls, one entry each (?operation=reserveOrder)
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter, deque
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from . import answers, contract, money, soap
from .accounts import Account
from .contract import DEFAULT_NAMESPACE, SERVICE_PATH, Operation
from .faults import Channel, FaultInjector, FaultKind, FaultPlan
from .reader import read_request
from .security import check_ws_security
from .service import SandboxService

CALL_LOG_SIZE = 10_000


class Sandbox:
    """The sandbox's state, behind one asyncio lock: the service, faults, contract, call log."""

    def __init__(self, *, account: Account, plan: FaultPlan, namespace: str) -> None:
        self.lock = asyncio.Lock()
        self.account = account
        self.service = SandboxService(account)
        self.faults = FaultInjector(plan)
        self.start_namespace = self.namespace = contract.check_namespace(namespace)
        self.calls: Counter[str] = Counter()
        self.fault_counts: Counter[str] = Counter()
        self.wsdl_fetches = 0
        self.log: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)
        self.in_flight = 0
        self.peak_in_flight = 0
        self._request_ids = itertools.count(1)

    def reset(self) -> None:
        self.service.reset()
        self.faults.clear_queue()
        self.namespace = self.start_namespace
        self.calls.clear()
        self.fault_counts.clear()
        self.wsdl_fetches = 0
        self.log.clear()
        self.peak_in_flight = self.in_flight

    def answer(
        self, envelope: soap.Envelope, fault: FaultKind | None, entry: dict[str, Any]
    ) -> tuple[int, bytes]:
        """(HTTP status, body) of one call; `entry` (the call log's) learns what happened."""
        now = datetime.now(UTC)
        try:
            check_ws_security(envelope.header, self.account, now)
            operation = soap.operation_of(envelope, namespace=self.namespace)
            request = read_request(operation, envelope.payload)
            entry["order_id"] = request.order_id
            answer = self.service.handle(request, now=now, odd_status=fault == FaultKind.ODD_STATUS)
        except soap.SoapFault as error:
            entry.update(http_status=500, faultcode=str(error.code))
            return 500, soap.fault_envelope(error, namespace=self.namespace)
        entry.update(
            http_status=200,
            order_id=answer.order_id or entry["order_id"],
            status=answer.status,
            errors=[code for code, _ in answer.errors],
        )
        payload = answers.render(
            operation,
            answer,
            namespace=self.namespace,
            request_id=next(self._request_ids),
            odd=fault == FaultKind.ODD_ANSWER,
        )
        return 200, soap.answer_envelope(payload)


SANDBOX = web.AppKey("sandbox", Sandbox)


def create_app(
    *,
    account: Account | None = None,
    plan: FaultPlan | None = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SANDBOX] = Sandbox(
        account=account or Account(), plan=plan or FaultPlan(), namespace=namespace
    )
    app.router.add_post(SERVICE_PATH, soap_endpoint)
    app.router.add_get(SERVICE_PATH, contract_document)
    app.router.add_get("/sandbox/contract", get_contract)
    app.router.add_put("/sandbox/contract", put_contract)
    app.router.add_get("/sandbox/faults", get_faults)
    app.router.add_put("/sandbox/faults", put_faults)
    app.router.add_post("/sandbox/faults/next", post_next_faults)
    app.router.add_post("/sandbox/reset", reset)
    app.router.add_get("/sandbox/orders/{order_id}", get_order)
    app.router.add_get("/sandbox/debtors", list_debtors)
    app.router.add_get("/sandbox/debtors/{vat_id}", get_debtor)
    app.router.add_put("/sandbox/debtors/{vat_id}/limit", put_limit)
    app.router.add_get("/sandbox/calls", get_calls)
    app.router.add_get("/sandbox/calls/log", get_call_log)
    return app


# --- The service ------------------------------------------------------------------------


async def soap_endpoint(request: web.Request) -> web.StreamResponse:
    sandbox = request.app[SANDBOX]
    content = await request.read()
    try:
        envelope: soap.Envelope | None = soap.read_envelope(content)
        unreadable = None
    except soap.SoapFault as error:
        envelope, unreadable = None, error
    operation = envelope.name if envelope is not None else "unknown"
    async with sandbox.lock:
        sandbox.calls[operation] += 1
        sandbox.in_flight += 1
        sandbox.peak_in_flight = max(sandbox.peak_in_flight, sandbox.in_flight)
        fault = sandbox.faults.draw(Channel.CALL)
        plan = sandbox.faults.plan
        if fault:
            sandbox.fault_counts[fault] += 1
    entry: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "operation": operation,
        "order_id": "",
        "fault": fault,
        "http_status": None,  # None: no answer left the sandbox
        "status": None,
        "errors": [],
        "faultcode": None,
    }
    try:
        if fault == FaultKind.LATENCY:
            await asyncio.sleep(plan.latency_ms / 1000)
        elif fault == FaultKind.TIMEOUT:
            await asyncio.sleep(plan.timeout_s)
        elif fault == FaultKind.HTTP_500:
            entry["http_status"] = 500
            return web.Response(status=500, text="Internal Server Error")
        elif fault == FaultKind.SOAP_FAULT:
            server_fault = soap.SoapFault(
                soap.SERVER, "Internal error, please try again later", detail=True
            )
            entry.update(http_status=500, faultcode=str(server_fault.code))
            return _xml(soap.fault_envelope(server_fault, namespace=sandbox.namespace), status=500)
        elif fault == FaultKind.DROP:
            return _drop_connection(request)

        if unreadable is not None or envelope is None:
            assert unreadable is not None  # the envelope is None only when it was unreadable
            entry.update(http_status=500, faultcode=str(unreadable.code))
            return _xml(soap.fault_envelope(unreadable, namespace=sandbox.namespace), status=500)
        async with sandbox.lock:
            status, body = sandbox.answer(envelope, fault, entry)
        if fault == FaultKind.LOST_ANSWER:
            entry["http_status"] = None
            return _drop_connection(request)
        return _xml(body, status=status)
    finally:
        sandbox.in_flight -= 1
        sandbox.log.append(entry)


def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer; the client sees it break."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp writes nothing to a closed transport; this response never leaves.
    return web.Response(status=204)


async def contract_document(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    asked = {key.lower() for key in request.query}
    if "xsd" in asked:
        return _xml(contract.schema(sandbox.namespace))
    if "wsdl" not in asked:
        raise web.HTTPNotFound(text="POST SOAP requests here; the WSDL is at ?wsdl")
    async with sandbox.lock:
        sandbox.wsdl_fetches += 1
        fault = sandbox.faults.draw(Channel.WSDL)
        delay = sandbox.faults.plan.wsdl_delay_s
        if fault:
            sandbox.fault_counts[fault] += 1
    if fault == FaultKind.WSDL_MISSING:
        raise web.HTTPNotFound(text="no WSDL here (wsdl_missing fault)")
    if fault == FaultKind.WSDL_SLOW:
        await asyncio.sleep(delay)
    location = str(request.url.with_query(None))
    return _xml(contract.wsdl(sandbox.namespace, location))


def _xml(body: bytes, *, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="text/xml", charset="utf-8")


# --- The control API ----------------------------------------------------------------------


async def get_contract(request: web.Request) -> web.Response:
    return web.json_response(_contract_json(request.app[SANDBOX]))


async def put_contract(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _json_body(request)
    if set(data) != {"namespace"}:
        raise web.HTTPBadRequest(text='expected {"namespace": "<absolute URI>" or null}')
    namespace = sandbox.start_namespace if data["namespace"] is None else data["namespace"]
    try:
        contract.check_namespace(namespace)
    except ValueError as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    async with sandbox.lock:
        sandbox.namespace = namespace
    return web.json_response(_contract_json(sandbox))


def _contract_json(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "namespace": sandbox.namespace,
        "start_namespace": sandbox.start_namespace,
        "soap_actions": {op.value: contract.soap_action(sandbox.namespace, op) for op in Operation},
    }


async def get_faults(request: web.Request) -> web.Response:
    faults = request.app[SANDBOX].faults
    return web.json_response({**faults.plan.to_json(), "queued": faults.queued})


async def put_faults(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _json_body(request)
    try:
        plan = FaultPlan.from_json(data, base=sandbox.faults.plan)
    except (TypeError, ValueError) as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    async with sandbox.lock:
        sandbox.faults.configure(plan)
        queued = sandbox.faults.queued
    return web.json_response({**plan.to_json(), "queued": queued})


async def post_next_faults(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _json_body(request)
    try:
        kinds = [FaultKind(kind) for kind in data["kinds"]]
    except (KeyError, TypeError, ValueError):
        raise web.HTTPBadRequest(text=f'expected {{"kinds": [...]}} of {list(FaultKind)}') from None
    async with sandbox.lock:
        sandbox.faults.fail_next(kinds)
        queued = sandbox.faults.queued
    return web.json_response({"queued": queued})


async def reset(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    async with sandbox.lock:
        sandbox.reset()
    return web.json_response({"reset": True})


async def get_order(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    async with sandbox.lock:
        order = sandbox.service.orders.get(request.match_info["order_id"])
        data = None if order is None else order.to_json()
    if data is None:
        raise web.HTTPNotFound(text="unknown order")
    return web.json_response(data)


async def list_debtors(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    async with sandbox.lock:
        data = [debtor.to_json() for debtor in sandbox.service.debtors.values()]
    return web.json_response(data)


async def get_debtor(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    async with sandbox.lock:
        # A debtor not seen yet is shown with its full limit, as InfinitePay would.
        data = sandbox.service.debtor(request.match_info["vat_id"]).to_json()
    return web.json_response(data)


async def put_limit(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    data = await _json_body(request)
    try:
        limit = Decimal(str(data["limit"]))
        if not limit.is_finite() or limit < 0:
            raise ValueError
    except (KeyError, InvalidOperation, ValueError):
        raise web.HTTPBadRequest(text='expected {"limit": "<amount in EUR>"}') from None
    async with sandbox.lock:
        debtor = sandbox.service.set_limit(request.match_info["vat_id"], money.cents(limit))
        body = debtor.to_json()
    return web.json_response(body)


async def get_calls(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    async with sandbox.lock:
        data = {
            "operations": dict(sandbox.calls),
            "total": sum(sandbox.calls.values()),
            "faults": dict(sandbox.fault_counts),
            "wsdl": sandbox.wsdl_fetches,
            "in_flight": sandbox.in_flight,
            "peak_in_flight": sandbox.peak_in_flight,
        }
    return web.json_response(data)


async def get_call_log(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    operation = request.query.get("operation")
    async with sandbox.lock:
        entries = [e for e in sandbox.log if operation is None or e["operation"] == operation]
    return web.json_response(entries)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data
