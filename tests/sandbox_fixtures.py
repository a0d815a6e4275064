"""The InfinitePay sandbox for tests: one per test session (and xdist worker), reset per test.

`sandbox` gives a SandboxHandle (control faults, inspect orders and the ledger) and points
INFINITEPAY_TEST_URL at it. The sandbox listens on a real port, so other processes (a Celery
worker started by a test) reach it at `sandbox.url` too. With INFINITEPAY_SANDBOX_URL set
(e.g. http://127.0.0.1:8090), tests use that running sandbox instead of starting one.
"""

import os
import time

import httpx
import pytest

from infinitepay.client import InfinitePayClient
from infinitepay.contract import forget_contracts
from infinitepay.messages import Credentials
from sandbox.accounts import Account
from sandbox.faults import FaultKind
from sandbox.handle import SandboxHandle
from sandbox.server import start_in_thread

SANDBOX_ACCOUNT = Account()
SANDBOX_CREDENTIALS = Credentials(
    client_reference=SANDBOX_ACCOUNT.client_reference,
    username=SANDBOX_ACCOUNT.username,
    password=SANDBOX_ACCOUNT.password,
    secret=SANDBOX_ACCOUNT.secret,
)
# The client gives up after this long; a "timeout" fault makes the sandbox wait longer.
CLIENT_READ_TIMEOUT = 0.5


@pytest.fixture(scope="session")
def sandbox_server():
    external = os.environ.get("INFINITEPAY_SANDBOX_URL")
    if external:
        handle = SandboxHandle(external)
        yield handle
        handle.close()
        return
    running = start_in_thread()
    yield running.handle
    running.stop()


@pytest.fixture
def sandbox(sandbox_server, settings):
    """A sandbox with no faults and no state, serving the default namespace, and the test
    endpoint pointing at it."""
    sandbox_server.reset()
    forget_contracts()  # the client keeps each endpoint's WSDL: load this test's afresh
    sandbox_server.set_faults(
        rate=0.0, kinds=list(FaultKind), seed=0, latency_ms=500, timeout_s=3, wsdl_delay_s=3
    )
    settings.INFINITEPAY_TEST_URL = sandbox_server.url
    yield sandbox_server
    sandbox_server.no_faults()
    # A call the client gave up on (a timeout fault) still lands after it: let it land now,
    # not in the next test's ledger.
    deadline = time.monotonic() + 5
    while sandbox_server.calls()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def make_client(sandbox):
    """Build clients against the sandbox; their connections close after the test."""
    opened: list[httpx.Client] = []

    def make(*, credentials: Credentials = SANDBOX_CREDENTIALS, **options) -> InfinitePayClient:
        http = httpx.Client(
            timeout=httpx.Timeout(connect=2.0, read=CLIENT_READ_TIMEOUT, write=2.0, pool=2.0)
        )
        opened.append(http)
        return InfinitePayClient(credentials=credentials, url=sandbox.url, http=http, **options)

    yield make
    for http in opened:
        http.close()


@pytest.fixture
def infinitepay_client(make_client):
    """A client of the sandbox's default account (`client` stays Django's test client)."""
    return make_client()
