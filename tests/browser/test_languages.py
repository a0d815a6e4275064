"""The back office in the browser in English and in German, switched with its switcher.

The walk saves screenshots of both languages in test-artifacts/screenshots/.
"""

import importlib
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import Page, expect

from backoffice.demo import DEMO_PASSWORD
from infinitepay.models import InfinitePayIntegration
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import InfinitePayIntegrationFactory, StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = ARTIFACTS / "screenshots"
STAFF_ROLES = importlib.import_module("infinitepay.migrations.0004_staff_roles").ROLES


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def demo_payment_admin(db):
    """The demo's payment admin: `admin`, in Payment admins as its migration defines it.

    Transactional tests empty every table after each test, the migration's groups too.
    """
    group, _ = Group.objects.get_or_create(name="Payment admins")
    for app_label, codenames in STAFF_ROLES["Payment admins"].items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    user = StaffUserFactory(username="admin", password=DEMO_PASSWORD)
    user.groups.add(group)
    return user


@pytest.fixture
def fresh_server(stack):
    """The web server started anew around the test: saving writes the admin's log, whose
    content types come back with new ids after each transactional test."""
    stack.stop()
    stack.start()
    yield
    stack.stop()
    stack.start()


@pytest.fixture
def english_page(browser, fresh_server) -> Page:
    """A browser whose own language is English, as the admin's is."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def switch_language(page: Page, language: str) -> None:
    with page.expect_navigation():
        page.select_option("#language-switcher-select", language)


def test_an_admin_edits_the_infinitepay_form_in_english_then_in_german(
    english_page, live_url, demo_payment_admin
):
    page = english_page
    integration = InfinitePayIntegrationFactory(
        name="InfinitePay DE", default_owner=demo_payment_admin, shipping_duration=21
    )
    log_in(page, live_url, demo_payment_admin.username, admin=True)

    page.locator("tr.model-integration").get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="InfinitePay DE").click()
    expect(page.locator("label[for=id_client_reference]")).to_have_text(
        re.compile("client reference", re.IGNORECASE)
    )
    expect(page.locator("label[for=id_short_label_en]")).to_contain_text("Short label")
    expect(page.get_by_role("button", name="Check connection")).to_be_visible()
    screenshot(page, "admin-integration-form-en")

    # The switcher keeps the page: the same form comes back, in German.
    form_url = page.url
    switch_language(page, "de")
    assert page.url == form_url
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("label[for=id_client_reference]")).to_contain_text("Kundenreferenz")
    expect(page.locator("label[for=id_short_label_en]")).to_contain_text("Kurzbezeichnung")
    expect(page.locator("label[for=id_default_owner]")).to_contain_text("Standard-Verantwortlicher")
    expect(page.get_by_role("button", name="Verbindung prüfen")).to_be_visible()
    expect(page.locator("#language-switcher-select")).to_have_value("de")
    screenshot(page, "admin-integration-form-de")

    page.fill("#id_shipping_duration", "14")
    page.locator("input[name=_save]").click()

    expect(page.locator(".messagelist")).to_contain_text("erfolgreich geändert")
    expect(page.locator("#result_list thead")).to_contain_text("Zustand")
    screenshot(page, "admin-integration-saved-de")
    integration = InfinitePayIntegration.objects.get(pk=integration.pk)
    assert integration.shipping_duration == 14

    # And back: the choice is the admin's until changed again.
    switch_language(page, "en")
    expect(page.locator("#result_list thead")).to_contain_text("Health")
