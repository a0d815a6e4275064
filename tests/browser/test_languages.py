"""The back office in the browser in English and in German, switched with its switcher.

The walk saves screenshots of both languages in test-artifacts/screenshots/.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from infinitepay.models import InfinitePayIntegration
from tests.browser.conftest import log_in, member_of, screenshot
from tests.factories import InfinitePayIntegrationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def test_an_admin_edits_the_infinitepay_form_in_english_then_in_german(english_page, live_url):
    page = english_page
    admin = member_of("Payment admins", "admin")
    integration = InfinitePayIntegrationFactory(
        name="InfinitePay DE", default_owner=admin, shipping_duration=21
    )
    log_in(page, live_url, admin.username, admin=True)

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
