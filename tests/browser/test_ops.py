"""Ops in the browser: find a guarantee that failed at InfinitePay, retry it, see it through."""

import time

import pytest
from playwright.sync_api import Locator, Page, expect

from infinitepay.states import State
from tests.browser.conftest import log_in, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ops_user(db):
    """A member of Payment ops, the role as its migration defines it."""
    return member_of("Payment ops", "olga")


def reload_until(page: Page, locator: Locator, text: str, *, timeout: float) -> None:
    """The admin does not refresh itself: reload, as ops would, until the text shows."""
    deadline = time.monotonic() + timeout
    while text not in locator.inner_text():
        assert time.monotonic() < deadline, f"{text!r} did not show: {locator.inner_text()!r}"
        time.sleep(0.5)
        page.reload()


def test_ops_retry_a_failed_guarantee_and_see_it_activated(
    page, live_url, sandbox, ops_user, failed_guarantee
):
    number = failed_guarantee.payment.order.number
    log_in(page, live_url, ops_user.username, admin=True)
    page.locator("tr.model-guarantee").get_by_role("link", name="Guarantees").click()
    page.locator("#guarantee-counts").get_by_role("link", name="failed steps 1").click()

    row = page.locator("#result_list tbody tr", has_text=number)
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(row).to_contain_text("RESERVE FAILED")
    expect(row).to_contain_text("InfinitePay failed on its side")

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", label="Retry the failed step")
    page.get_by_role("button", name="Go").click()
    # It asks first, naming the guarantee, its amount and the call made again.
    expect(page.locator("#operation-confirmation")).to_contain_text("reserveOrder")
    expect(page.locator("#operation-confirmation")).to_contain_text(number)
    page.get_by_role("button", name="Yes, retry").click()
    expect(page.locator(".messagelist")).to_contain_text("Retry: 1 queued, 0 skipped.")

    # Out of the failed list now: ops look the order up and follow it.
    page.goto(f"{live_url}/admin/infinitepay/guarantee/")
    page.fill("#searchbar", number)
    page.keyboard.press("Enter")
    reload_until(page, page.locator("#result_list tbody"), "ACTIVATED", timeout=30)
    page.get_by_role("link", name=number).click()  # the guarantee's page
    # Every call is on the page: the two failed Reserves, then the retried one and the rest.
    expect(page.get_by_text("Transient failure", exact=True)).to_have_count(2)
    expect(page.get_by_text("activateOrder", exact=True)).to_have_count(1)
    failed_guarantee.refresh_from_db()
    assert failed_guarantee.state == State.ACTIVATED
    assert failed_guarantee.failed_step == ""
    assert sandbox.order(failed_guarantee.order_id)["state"] == "ACTIVATED"
    reserved = sandbox.debtor(failed_guarantee.payment.order.customer.vat_id)["reserved"]
    assert reserved == str(failed_guarantee.payment.amount)  # reserved once
