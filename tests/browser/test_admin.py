"""A payment admin in the browser: an InfinitePay integration on the sandbox, and its rule."""

import pytest
from playwright.sync_api import expect

from backoffice.demo import DEMO_PASSWORD
from infinitepay.models import InfinitePayIntegration
from payment_rules.models import PaymentRule
from sandbox.accounts import Account
from tests.browser.conftest import log_in
from tests.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def payment_admin(db):
    return StaffUserFactory(username="pat", is_superuser=True, password=DEMO_PASSWORD)


def test_an_admin_sets_up_infinitepay_in_test_mode_and_a_rule_for_it(
    page, live_url, sandbox, payment_admin
):
    account = Account()  # the sandbox's credentials
    log_in(page, live_url, payment_admin.username, admin=True)

    page.locator("tr.model-integration").get_by_role("link", name="Integrations").click()
    page.get_by_role("link", name="Add integration").click()
    page.locator("ul.integration-types").get_by_role("link", name="InfinitePay").click()
    page.fill("#id_name", "InfinitePay (test)")
    page.fill("#id_label_en", "Invoice, guaranteed by InfinitePay")
    page.fill("#id_short_label_en", "InfinitePay")
    page.fill("#id_client_reference", account.client_reference)
    page.fill("#id_username", account.username)
    page.fill("#id_password", account.password)
    page.fill("#id_secret", account.secret)
    page.check("#id_auto_capture")
    page.check("#id_auto_activation")
    page.check("#id_test_mode")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tr", has_text="InfinitePay (test)")
    expect(row).to_contain_text("InfinitePay")

    # Test Mode calls the sandbox: one authenticated call says the credentials work.
    row.get_by_role("link", name="InfinitePay (test)").click()
    page.get_by_role("button", name="Check connection").click()
    expect(page.locator(".messagelist")).to_contain_text("InfinitePay (test): connected.")
    assert sandbox.calls()["operations"].get("checkStatusOrder") == 1

    page.goto(f"{live_url}/admin/")
    page.locator("tr.model-paymentrule").get_by_role("link", name="Payment rules").click()
    page.get_by_role("link", name="Add payment rule").click()
    page.fill("#id_name", "InfinitePay for German buyers")
    page.fill("#id_sort_order", "10")
    page.fill("#id_currency", "EUR")
    page.get_by_text("Add another Destination").click()
    page.select_option("#id_destinations-0-country", "DE")
    page.select_option("#id_methods-0-integration", label="InfinitePay (test)")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tr", has_text="InfinitePay for German buyers")
    expect(row).to_contain_text("InfinitePay (test)")
    expect(row.locator("td.field-destination_list")).to_have_text("Germany")

    integration = InfinitePayIntegration.objects.get(name="InfinitePay (test)")
    assert integration.test_mode and integration.auto_capture and integration.auto_activation
    assert integration.secret == account.secret  # stored (encrypted), never shown back
    rule = PaymentRule.objects.get(name="InfinitePay for German buyers")
    assert [m.integration_id for m in rule.methods.all()] == [integration.pk]
