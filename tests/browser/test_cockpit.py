"""The ops cockpit in the browser: the dashboard, a guarantee page that follows its step by
itself, the timeline with who did what, search, the 403 page, and Check connection on a form
not yet saved.

Every test saves screenshots of what a person sees, at 1280 pixels, in
test-artifacts/screenshots/ (kept by CI with the other test artifacts).
"""

import pytest
from playwright.sync_api import Page, expect

from checkout import services as checkout_services
from infinitepay.models import Guarantee, InfinitePayIntegration
from infinitepay.states import State
from sandbox.accounts import DENIED_AT_ACTIVATION, Account
from tests.browser.conftest import log_in, member_of, screenshot
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wide_page(fresh_server, page: Page) -> Page:
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def test_ops_find_a_failed_step_on_the_dashboard_retry_it_and_watch_it_through(
    wide_page, live_url, sandbox, failed_guarantee, buyer
):
    page = wide_page
    ops = member_of("Payment ops", "olga")
    number = failed_guarantee.payment.order.number
    log_in(page, live_url, ops.username, admin=True)

    page.locator("#dashboard-link").click()
    tiles = page.locator("#dashboard-tiles")
    expect(tiles.locator(".tile.alarm", has_text="Failed steps")).to_contain_text("1")
    expect(page.locator("#calls-chart svg")).to_be_visible()
    expect(page.locator("#orders-chart svg")).to_be_visible()
    expect(page.locator("#integrations-health")).to_contain_text("Problem: 1 failed step,")
    screenshot(page, "dashboard")

    # Failed steps by reason: the reason leads to its guarantees, the order to its page.
    reasons = page.locator("#failed-by-reason")
    expect(reasons).to_contain_text("Reserve")
    reasons.get_by_role("link", name="InfinitePay failed on its side").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list").get_by_role("link", name=number).click()
    timeline = page.locator(".guarantee-timeline")
    expect(timeline.locator(".call-operation", has_text="reserveOrder")).to_have_count(2)
    expect(timeline).to_contain_text("Transient failure")
    screenshot(page, "guarantee-failed")

    # Retry asks first: the amount and what the call does; then the page follows the step
    # without anyone reloading it.
    page.get_by_role("link", name="Retry…", exact=True).click()
    confirmation = page.locator("#operation-confirmation")
    expect(confirmation).to_contain_text("reserveOrder")
    expect(confirmation).to_contain_text("€")
    screenshot(page, "retry-confirmation")
    page.get_by_role("button", name="Yes, retry").click()
    expect(page.locator(".messagelist")).to_contain_text("Retry: 1 queued, 0 skipped.")
    summary = page.locator('#guarantee-live [data-live-part="summary"]')
    expect(summary).to_contain_text("ACTIVATED", timeout=30_000)
    expect(timeline.locator(".call-operation", has_text="activateOrder")).to_have_count(1)
    ops_line = timeline.locator("tr.timeline-ops")
    expect(ops_line).to_contain_text("Retry requested.")
    expect(ops_line).to_contain_text("olga")
    # Once the step has ended the page offers what fits an activated guarantee.
    expect(page.get_by_role("link", name="Apply transaction…")).to_be_visible()
    expect(page.get_by_role("link", name="Check status…")).to_be_visible()
    screenshot(page, "guarantee-activated")
    failed_guarantee.refresh_from_db()
    assert failed_guarantee.state == State.ACTIVATED

    # The orders list finds the order by the company's name and by its VAT ID.
    for term in (buyer.customer.name.split()[0], buyer.customer.vat_id):
        page.goto(f"{live_url}/admin/checkout/order/")
        page.fill("#searchbar", term)
        page.keyboard.press("Enter")
        expect(page.locator("#result_list tbody tr", has_text=number)).to_have_count(1)
    screenshot(page, "orders-search")
    page.goto(f"{live_url}/admin/infinitepay/guarantee/?q={buyer.customer.vat_id}")
    expect(page.locator("#result_list tbody tr", has_text=number)).to_contain_text("ACTIVATED")
    screenshot(page, "guarantees-search")

    # An integration's settings hold its credentials: not for ops, and the page says why.
    integration = InfinitePayIntegration.objects.get()
    page.goto(f"{live_url}/admin/infinitepay/infinitepayintegration/{integration.pk}/change/")
    expect(page.locator(".errornote")).to_contain_text("only Payment admins open it")
    expect(page.locator("#content-main")).to_contain_text("in Payment ops")
    screenshot(page, "forbidden")


def test_ops_read_the_cockpit_in_german(wide_page, live_url, sandbox, failed_guarantee):
    page = wide_page
    ops = member_of("Payment ops", "olga")
    number = failed_guarantee.payment.order.number
    log_in(page, live_url, ops.username, admin=True)
    page.locator("#dashboard-link").click()
    page.select_option("#language-switcher-select", "de")

    reasons = page.locator("#failed-by-reason")
    expect(reasons).to_contain_text("Fehlgeschlagene Schritte nach Grund")
    expect(page.locator("#dashboard-tiles")).to_contain_text("Fehlgeschlagene Schritte")
    expect(page.locator("#orders-chart")).to_contain_text("Bestellungen pro Tag")
    screenshot(page, "dashboard-de")

    reasons.get_by_role("link", name="Fehler auf Seiten von InfinitePay").click()
    page.locator("#result_list").get_by_role("link", name=number).click()
    expect(page.locator(".errornote")).to_contain_text("Fehler auf Seiten von InfinitePay")
    expect(page.locator(".errornote")).to_contain_text("HTTP 500")  # as InfinitePay said it
    expect(page.locator(".guarantee-timeline")).to_contain_text("Verlauf")
    expect(page.locator(".guarantee-timeline")).to_contain_text("Vorübergehender Fehler")
    screenshot(page, "guarantee-failed-de")

    page.get_by_role("link", name="Erneut versuchen…", exact=True).click()
    confirmation = page.locator("#operation-confirmation")
    expect(confirmation).to_contain_text("InfinitePay prüft den Käufer")
    expect(confirmation).to_contain_text("€")
    expect(page.get_by_role("button", name="Ja, erneut versuchen")).to_be_visible()
    screenshot(page, "retry-confirmation-de")


def test_ops_lists_fit_1280_pixels_in_german(wide_page, live_url, sandbox, failed_guarantee):
    """Guarantees, orders and API calls: every column on the screen beside the filters."""
    page = wide_page
    ops = member_of("Payment ops", "olga")
    log_in(page, live_url, ops.username, admin=True)
    page.locator("#dashboard-link").click()
    page.select_option("#language-switcher-select", "de")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    for name, path in [
        ("guarantees", "infinitepay/guarantee"),
        ("orders", "checkout/order"),
        ("api-calls", "infinitepay/apicall"),
    ]:
        page.goto(f"{live_url}/admin/{path}/")
        expect(page.locator("#result_list tbody tr").first).to_be_visible()
        widths = page.evaluate(
            "() => { const box = document.querySelector('#changelist .results');"
            " return [box.scrollWidth, box.clientWidth]; }"
        )
        screenshot(page, f"list-{name}-de")
        assert widths[0] <= widths[1], f"the {name} list is {widths[0]} px wide in {widths[1]}"
    calls = page.locator("#result_list")
    expect(calls).to_contain_text("reserveOrder #2")
    expect(calls).to_contain_text("HTTP 500 · STATUS — ·")


def test_an_admin_checks_the_connection_before_saving(wide_page, live_url, sandbox):
    page = wide_page
    admin = member_of("Payment admins", "pat")
    account = Account()  # the sandbox's credentials
    log_in(page, live_url, admin.username, admin=True)

    page.goto(f"{live_url}/admin/infinitepay/infinitepayintegration/add/")
    page.fill("#id_name", "InfinitePay (test)")
    page.fill("#id_label_en", "Invoice, guaranteed by InfinitePay")
    page.fill("#id_short_label_en", "InfinitePay")
    page.fill("#id_client_reference", account.client_reference)
    page.fill("#id_username", account.username)
    page.fill("#id_password", "not-the-password")
    page.fill("#id_secret", account.secret)
    page.check("#id_test_mode")
    answer = page.locator(".messagelist")

    page.get_by_role("button", name="Check connection").click()
    expect(answer).to_contain_text("InfinitePay (test): credentials rejected.")

    page.fill("#id_password", account.password)
    page.get_by_role("button", name="Check connection").click()
    expect(answer.locator("li.success")).to_have_text("InfinitePay (test): connected.")
    screenshot(page, "check-connection-unsaved")
    assert not InfinitePayIntegration.objects.exists()  # nothing saved by checking

    # What was typed is still in the form: saving it needs nothing typed again.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert InfinitePayIntegration.objects.get().password == account.password


def test_ops_cancel_an_activation_denial_from_the_dashboards_prompt(
    wide_page, live_url, sandbox, ready_cart, buyer, infinitepay
):
    page = wide_page
    buyer.customer.vat_id = DENIED_AT_ACTIVATION.vat_id
    buyer.customer.save()
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    order = checkout_services.place_order(
        buyer=buyer, checkout_token=cart.checkout_token, buyer_ip="203.0.113.7"
    )
    denied = Guarantee.objects.get(payment__order=order)
    wait_for(
        lambda: Guarantee.objects.filter(
            pk=denied.pk, state=State.ACTIVATION_DENIED, pending_step="", step_in_flight=""
        ).exists(),
        timeout=30,
        what="the activation to be denied",
    )
    ops = member_of("Payment ops", "olga")
    log_in(page, live_url, ops.username, admin=True)

    page.locator("#dashboard-link").click()
    prompt = page.locator("#activation-denials tbody tr", has_text=order.number)
    expect(prompt).to_contain_text("€")  # the amount held, in the language's format
    screenshot(page, "dashboard-activation-denied")
    prompt.get_by_role("button", name="Cancel to release the limit").click()

    # Cancel asks first, with the amount and the call it makes.
    expect(page.locator("#content")).to_contain_text("cancelOrder")
    screenshot(page, "cancel-confirmation")
    page.get_by_role("button", name="Yes, cancel and release the limit").click()
    expect(page.locator(".messagelist")).to_contain_text("Cancel: 1 queued, 0 skipped.")
    expect(page.locator("#activation-denials")).to_be_visible()  # back on the dashboard
    wait_for(
        lambda: Guarantee.objects.filter(pk=denied.pk, state=State.CANCELED).exists(),
        timeout=30,
        what="the guarantee to be canceled",
    )
    page.reload()
    expect(page.locator("#activation-denials")).to_contain_text(
        "No activation denial holds a buyer's limit."
    )
    screenshot(page, "dashboard-limit-released")
