"""The sandbox web app: the SOAP endpoint, its WSDL, and the JSON control API.

POST /ws/InfinitePayAPI              the service (SOAP 1.1)
GET  /ws/InfinitePayAPI?wsdl         the WSDL, with the XSD inside
GET  /ws/InfinitePayAPI?xsd          the XSD alone
GET  /sandbox/faults                 the fault plan;  PUT: change it (JSON, partial)
POST /sandbox/reset                  forget orders, debtors, limits and the call log
GET  /sandbox/orders/{order_id}      one order's state
GET  /sandbox/debtors                the ledger; GET /sandbox/debtors/{vat_id}: one debtor
PUT  /sandbox/debtors/{vat_id}/limit {"limit": "1000.00"}
GET  /sandbox/calls                  calls per operation, faults per kind, calls in flight
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web
from lxml import etree

from infinitepay import wire

from .accounts import Account
from .faults import FaultInjector, FaultKind, FaultPlan
from .service import SandboxService

SERVICE_PATH = "/ws/InfinitePayAPI"

SANDBOX = web.AppKey("sandbox", "Sandbox")


class Sandbox:
    """The sandbox's state, behind one asyncio lock: the service, the faults, the call log."""

    def __init__(self, *, account: Account, plan: FaultPlan) -> None:
        self.lock = asyncio.Lock()
        self.service = SandboxService(account)
        self.faults = FaultInjector(plan)
        self.fault_counts: Counter[str] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0

    def reset(self) -> None:
        self.service.reset()
        self.faults.clear_queue()
        self.fault_counts.clear()
        self.peak_in_flight = self.in_flight


def create_app(*, account: Account | None = None, plan: FaultPlan | None = None) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[SANDBOX] = Sandbox(account=account or Account(), plan=plan or FaultPlan())
    app.router.add_post(SERVICE_PATH, soap_endpoint)
    app.router.add_get(SERVICE_PATH, wsdl)
    app.router.add_get("/sandbox/faults", get_faults)
    app.router.add_put("/sandbox/faults", put_faults)
    app.router.add_post("/sandbox/faults/next", post_next_faults)
    app.router.add_post("/sandbox/reset", reset)
    app.router.add_get("/sandbox/orders/{order_id}", get_order)
    app.router.add_get("/sandbox/debtors", list_debtors)
    app.router.add_get("/sandbox/debtors/{vat_id}", get_debtor)
    app.router.add_put("/sandbox/debtors/{vat_id}/limit", put_limit)
    app.router.add_get("/sandbox/calls", get_calls)
    return app


# --- The service ------------------------------------------------------------------------


async def soap_endpoint(request: web.Request) -> web.StreamResponse:
    sandbox = request.app[SANDBOX]
    content = await request.read()
    operation = request.headers.get("SOAPAction", "").strip('"') or "unknown"
    async with sandbox.lock:
        sandbox.service.calls[operation] += 1
        sandbox.in_flight += 1
        sandbox.peak_in_flight = max(sandbox.peak_in_flight, sandbox.in_flight)
        fault = sandbox.faults.draw()
        plan = sandbox.faults.plan
        if fault:
            sandbox.fault_counts[fault] += 1
    try:
        if fault == FaultKind.LATENCY:
            await asyncio.sleep(plan.latency_ms / 1000)
        elif fault == FaultKind.TIMEOUT:
            await asyncio.sleep(plan.timeout_s)
        elif fault == FaultKind.HTTP_500:
            return web.Response(status=500, text="Internal Server Error")
        elif fault == FaultKind.SOAP_FAULT:
            body = wire.fault_envelope("soapenv:Server", "Internal error, please try again later")
            return _xml(body, status=500)
        elif fault == FaultKind.DROP:
            return _drop_connection(request)

        async with sandbox.lock:
            status, body = sandbox.service.handle(content)
        if fault == FaultKind.LOST_ANSWER:
            return _drop_connection(request)
        return _xml(body, status=status)
    finally:
        sandbox.in_flight -= 1


def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer; the client sees it break."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp writes nothing to a closed transport; this response never leaves.
    return web.Response(status=204)


async def wsdl(request: web.Request) -> web.Response:
    if "xsd" in request.query:
        return _xml(wire.XSD_PATH.read_bytes())
    if "wsdl" not in request.query:
        raise web.HTTPNotFound(text="POST SOAP requests here; the WSDL is at ?wsdl")
    location = str(request.url.with_query(None))
    return _xml(render_wsdl(location))


def render_wsdl(location: str) -> bytes:
    """The WSDL with the messages' XSD in wsdl:types and `location` as the endpoint."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.parse(str(wire.WSDL_PATH), parser=parser)
    schema = etree.parse(str(wire.XSD_PATH), parser=parser).getroot()
    namespaces = {
        "wsdl": "http://schemas.xmlsoap.org/wsdl/",
        "soap": "http://schemas.xmlsoap.org/wsdl/soap/",
    }
    # The schema's `ip:` type references resolve through the WSDL root's declaration.
    document.find("wsdl:types", namespaces).append(schema)
    document.find(".//soap:address", namespaces).set("location", location)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


def _xml(body: bytes, *, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="text/xml", charset="utf-8")


# --- The control API ----------------------------------------------------------------------


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
        if limit < 0:
            raise ValueError
    except (KeyError, InvalidOperation, ValueError):
        raise web.HTTPBadRequest(text='expected {"limit": "<amount in EUR>"}') from None
    async with sandbox.lock:
        debtor = sandbox.service.set_limit(request.match_info["vat_id"], wire.to_cents(limit))
        body = debtor.to_json()
    return web.json_response(body)


async def get_calls(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    async with sandbox.lock:
        data = {
            "operations": dict(sandbox.service.calls),
            "total": sum(sandbox.service.calls.values()),
            "faults": dict(sandbox.fault_counts),
            "in_flight": sandbox.in_flight,
            "peak_in_flight": sandbox.peak_in_flight,
        }
    return web.json_response(data)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="expected a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return data
