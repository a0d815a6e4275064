"""Browser tests: Debian's Chromium, driven by Playwright, against the real stack.

The web server (gunicorn) and a Celery worker run as subprocesses on the test database,
with Redis as the broker, and reach the in-process sandbox on its real port. They start
once per session; each test commits its data (transactional tests) so they can see it.
Without Chromium, PostgreSQL or Redis the tests are skipped, and with CI=true they fail.
A failing test leaves a screenshot in test-artifacts/.
"""

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import Browser, Page, sync_playwright

from backoffice.celery import app as celery_app
from backoffice.demo import DEMO_PASSWORD
from checkout import services as checkout_services
from infinitepay.models import Guarantee
from infinitepay.states import Step
from tests.factories import StaffUserFactory
from tests.processes import (
    CHROMIUM,
    ROOT,
    ServerProcess,
    WorkerProcess,
    require_services,
    wait_for,
)

ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
STAFF_ROLES = importlib.import_module("infinitepay.migrations.0004_staff_roles").ROLES
# Without the background-networking flags Chromium waits on the closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What the worker needs to give up quickly (ops scenario) and recover quickly (a lost worker).
WORKER_ENV = {
    "INFINITEPAY_MAX_ATTEMPTS": "2",
    "INFINITEPAY_RETRY_BASE_SECONDS": "0.2",
    "INFINITEPAY_READ_TIMEOUT": "2",
    "INFINITEPAY_STEP_LEASE_SECONDS": "5",
    "CELERY_VISIBILITY_TIMEOUT": "10",
}


class CheapPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's PBKDF2 with few iterations, stored under the same algorithm name.

    The web server in its own process knows only the default hashers; PBKDF2 reads the
    iteration count from the stored hash, so it accepts these passwords (the tests' MD5
    would not be), and creating users stays fast.
    """

    iterations = 1000


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["tests.browser.conftest.CheapPBKDF2PasswordHasher"]


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, sandbox_server, tmp_path_factory):
    """The web server and a worker on the test database; yields the server's base URL."""
    with django_db_blocker.unblock():
        require_services(chromium=True)
        logs = tmp_path_factory.mktemp("stack")
        env = {"INFINITEPAY_TEST_URL": sandbox_server.url}
        celery_app.control.purge()
        worker = WorkerProcess(extra_env={**env, **WORKER_ENV}, log_path=logs / "worker.log")
        server = ServerProcess(extra_env=env, log_path=logs / "server.log")
        try:
            worker.start()
            server.start()
            yield server
        finally:
            server.stop()
            worker.stop()


@pytest.fixture
def fresh_server(stack):
    """The web server started anew before and after the test.

    Each transactional test empties the tables, and the content types come back with new
    ids; a server process that cached the old ones (the admin's log of an operation, a
    save) would fail to write the log. Tests that write it start the server anew, so none
    of them meets ids cached by another.
    """
    stack.stop()
    stack.start()
    yield
    stack.stop()
    stack.start()


@pytest.fixture
def live_url(stack, sandbox) -> str:
    """The site's URL, for a test whose data is committed and whose sandbox is fresh."""
    celery_app.control.purge()  # nothing left over from an earlier test
    return stack.url


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM}")
    # Playwright's sync API keeps an event loop on this thread, and Django refuses database
    # calls next to a running loop; the tests here are synchronous, so that guard is moot.
    # Only while this package runs: the tests of other packages keep the guard.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        # Playwright gives the browser a fresh, temporary profile (user data dir).
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request) -> Iterator[Page]:
    context = browser.new_context()  # its own cookies: one user per test
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so the page fixture knows if the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def log_in(page: Page, base_url: str, username: str, *, admin: bool = False) -> None:
    page.goto(f"{base_url}/admin/login/" if admin else f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    # The login form's button: without JavaScript the language switcher shows one too.
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()
    assert "login" not in Path(page.url).parts, f"{username} could not log in"


def screenshot(page: Page, name: str) -> Path:
    """What a person sees, at the page's full height, in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def member_of(role: str, username: str):
    """A staff user in one of the roles, as its migration defines it.

    Transactional tests empty every table after each test, the migration's groups too.
    """
    group, _ = Group.objects.get_or_create(name=role)
    for app_label, codenames in STAFF_ROLES[role].items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    user = StaffUserFactory(username=username, password=DEMO_PASSWORD)
    user.groups.add(group)
    return user


@pytest.fixture
def failed_guarantee(sandbox, ready_cart, buyer, infinitepay) -> Guarantee:
    """An order whose Reserve met server errors until the worker gave up on it."""
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    sandbox.fail_next(["http_500"] * int(WORKER_ENV["INFINITEPAY_MAX_ATTEMPTS"]))
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    order = checkout_services.place_order(
        buyer=buyer, checkout_token=cart.checkout_token, buyer_ip="203.0.113.7"
    )
    guarantee = Guarantee.objects.get(payment__order=order)
    wait_for(
        lambda: Guarantee.objects.filter(
            pk=guarantee.pk, failed_step=Step.RESERVE, pending_step="", step_in_flight=""
        ).exists(),
        timeout=30,
        what="the guarantee to fail",
    )
    return guarantee
