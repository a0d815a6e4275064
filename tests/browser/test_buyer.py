"""Buyers in the browser: pay with InfinitePay and watch it; after a decline, pay another way."""

import pytest
from playwright.sync_api import Page, expect

from checkout.models import Order
from infinitepay.models import Guarantee
from sandbox.accounts import DENIED_AT_RESERVE
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def automated(infinitepay):
    """The usual production setup: Reserve, Capture and Activate all run by themselves."""
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    return infinitepay


def add_to_cart(page: Page, base_url: str, product_name: str, quantity: int) -> None:
    page.goto(f"{base_url}/")
    row = page.locator("tr", has_text=product_name)
    row.locator("input[name=quantity]").fill(str(quantity))
    row.get_by_role("button", name="Add to cart").click()
    expect(page.locator(".messages")).to_contain_text(f"Added {quantity} × {product_name}")


def check_out(page: Page, method_identifier: str, *, legal_form: str = "gmbh") -> None:
    """From the cart to the placed order, choosing the first address and this method."""
    page.get_by_role("link", name="Check out").click()
    page.locator("input[name=address]").first.check()  # billing
    page.get_by_role("button", name="Continue").click()
    page.locator("input[name=address]").first.check()  # shipping
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # the flat rate
    choose_payment_method(page, method_identifier, legal_form=legal_form)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Order ORD-")).to_be_visible()


def choose_payment_method(page: Page, method_identifier: str, *, legal_form: str) -> None:
    page.locator(f"input[name=method][value={method_identifier}]").check()
    if page.locator("select[name=infinitepay-legal_form]").is_visible():
        page.select_option("select[name=infinitepay-legal_form]", legal_form)


def placed_order(page: Page) -> Order:
    number = page.get_by_role("heading", name="Order ORD-").inner_text().removeprefix("Order ")
    return Order.objects.get(number=number)


def test_a_buyer_pays_with_infinitepay_and_sees_it_paid_without_reloading(
    page, live_url, sandbox, buyer, paper, coffee, rules, automated
):
    # The Reserve call takes a moment, so the buyer sees the order pending first.
    sandbox.set_faults(latency_ms=1500)
    sandbox.fail_next(["latency"])
    log_in(page, live_url, buyer.user.username)
    add_to_cart(page, live_url, "Paper", 3)
    add_to_cart(page, live_url, "Coffee", 2)
    check_out(page, automated.method_identifier)

    status = page.locator("#payment-status")
    expect(status).to_have_text("Pending payment")
    page.evaluate("window.sameDocument = true")  # gone if the page reloaded
    expect(status).to_have_text("Paid in full", timeout=30_000)
    assert page.evaluate("window.sameDocument") is True
    expect(page.locator("#pay-again")).to_be_hidden()

    order = placed_order(page)
    guarantee = Guarantee.objects.get(payment__order=order)
    assert sandbox.order(guarantee.order_id)["state"] == "ACTIVATED"
    assert str(order.total) == sandbox.order(guarantee.order_id)["amount_gross"]


def test_a_declined_buyer_sees_why_and_pays_the_same_order_with_payment_term(
    page, live_url, sandbox, buyer, paper, rules, automated, payment_term
):
    customer = buyer.customer
    customer.name = DENIED_AT_RESERVE.company_name
    customer.vat_id = DENIED_AT_RESERVE.vat_id
    customer.save()
    log_in(page, live_url, buyer.user.username)
    add_to_cart(page, live_url, "Paper", 10)
    check_out(page, automated.method_identifier)

    status = page.locator("#payment-status")
    expect(status).to_contain_text("Payment declined", timeout=30_000)
    # Our words for the reason; the provider's own text is for ops, never for the buyer.
    expect(status).to_contain_text("InfinitePay could not guarantee this invoice")
    expect(status).not_to_contain_text("credit check")
    order = placed_order(page)

    page.get_by_role("link", name="Pay this order with another method").click()
    expect(page.locator(f"input[value={automated.method_identifier}]")).to_have_count(0)
    choose_payment_method(page, payment_term.method_identifier, legal_form="")
    page.get_by_role("button", name="Pay").click()

    expect(page.locator(".messages")).to_contain_text("being paid with your new choice")
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    expect(page.locator("#payment")).to_contain_text(payment_term.label)
    expect(status).to_have_text("Pending payment")
    expect(page.locator("#pay-again")).to_be_hidden()
    order.refresh_from_db()
    assert order.payments.count() == 2
    assert order.current_payment.integration_id == payment_term.pk
    assert sandbox.debtor(DENIED_AT_RESERVE.vat_id)["reserved"] == "0.00"  # nothing held
