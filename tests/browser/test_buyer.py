"""Buyers in the browser: pay with InfinitePay and watch it; after a decline, pay another way;
the whole checkout in English and in German, switching with the shop's switcher.

The walks save screenshots of what the buyer sees in test-artifacts/screenshots/.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from checkout.models import Order
from infinitepay.models import Guarantee
from sandbox.accounts import DENIED_AT_RESERVE
from tests.browser.conftest import log_in, screenshot

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
    """From the cart to the placed order's page, with the only address and this method."""
    page.get_by_role("button", name="Check out").click()
    expect(page.locator("input[name=address]")).to_be_checked()  # the only billing address
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("input[name=address]")).to_be_checked()  # and shipping address
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # the flat rate
    choose_payment_method(page, method_identifier, legal_form=legal_form)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Review")).to_be_visible()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    page.get_by_role("button", name="See your order").click()
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
    due = timezone.localdate() + timedelta(days=automated.invoice_due_period)
    expect(status).to_have_text(
        f"Guaranteed by InfinitePay · invoice due {due:%m/%d/%Y}", timeout=30_000
    )
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
    # The other methods are offered right there.
    expect(page.locator("#pay-again")).to_contain_text(payment_term.label)
    screenshot(page, "buyer-declined-en")
    order = placed_order(page)

    page.get_by_role("button", name="Pay this order with another method").click()
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


def switch_language(page: Page, language: str) -> None:
    """Choose a language in the shop's header; the page comes back in it."""
    with page.expect_navigation():
        page.locator("header select[name=language]").select_option(language)
    page.wait_for_load_state()  # with its scripts, the switcher's too
    expect(page.locator("html")).to_have_attribute("lang", language)


WALKS = {
    "en": {
        "product": "Paper",
        "add": "Add to cart",
        "added": "Added 3 × Paper",
        "check_out": "Check out",
        "continue": "Continue",
        "review": "Review",
        "place": "Place order",
        "thanks": "Thank you for your order",
        "see_order": "See your order",
        "order": "Order ORD-",
        "place_of_billing": "Germany (Berlin)",
        "total": "€29.27",
        "guaranteed": "Guaranteed by InfinitePay · invoice due {due:%m/%d/%Y}",
        "due": "You receive an invoice; it is due on {due:%m/%d/%Y}.",
    },
    "de": {
        "product": "Kopierpapier",
        "add": "In den Warenkorb",
        "added": "3 × Kopierpapier hinzugefügt",
        "check_out": "Zur Kasse",
        "continue": "Weiter",
        "review": "Prüfen",
        "place": "Zahlungspflichtig bestellen",
        "thanks": "Vielen Dank für Ihre Bestellung",
        "see_order": "Zur Bestellung",
        "order": "Bestellung ORD-",
        "place_of_billing": "Deutschland (Berlin)",
        "total": "29,27\N{NO-BREAK SPACE}€",
        "guaranteed": "Garantiert durch InfinitePay · Rechnung fällig am {due:%d.%m.%Y}",
        "due": "Sie erhalten eine Rechnung; sie ist am {due:%d.%m.%Y} fällig.",
    },
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_buyer_checks_out_in_their_language_from_the_products_to_the_guaranteed_order(
    page, live_url, buyer, paper, rules, automated, payment_term, language
):
    """The whole walk in one language, switched to with the header's switcher: the only
    address chosen already, the Debtor Data shown only for InfinitePay, the confirmation
    with the invoice's due date, the order page with the guarantee in the buyer's words."""
    paper.name_de = "Kopierpapier"
    paper.save()
    buyer.customer.addresses.update(region="DE-BE")
    words = WALKS[language]
    due = timezone.localdate() + timedelta(days=automated.invoice_due_period)
    log_in(page, live_url, buyer.user.username)
    page.goto(f"{live_url}/")
    switch_language(page, "de" if language == "en" else "en")  # from the other one...
    switch_language(page, language)  # ...to this one: the choice outlives the page

    row = page.locator("tr", has_text=words["product"])
    row.locator("input[name=quantity]").fill("3")
    row.get_by_role("button", name=words["add"]).click()
    expect(page.locator(".messages")).to_contain_text(words["added"])
    screenshot(page, f"buyer-cart-{language}")

    page.get_by_role("button", name=words["check_out"]).click()
    expect(page.locator("input[name=address]")).to_be_checked()
    expect(page.locator("main form")).to_contain_text(words["place_of_billing"])
    page.get_by_role("button", name=words["continue"]).click()
    page.get_by_role("button", name=words["continue"]).click()  # the same shipping address
    page.get_by_role("button", name=words["continue"]).click()  # the flat rate

    debtor_data = page.locator("#method-data-infinitepay")
    page.locator(f"input[name=method][value={payment_term.method_identifier}]").check()
    expect(debtor_data).to_be_hidden()
    page.locator(f"input[name=method][value={automated.method_identifier}]").check()
    expect(debtor_data).to_be_visible()
    page.select_option("select[name=infinitepay-legal_form]", "gmbh")
    screenshot(page, f"buyer-payment-{language}")
    page.get_by_role("button", name=words["continue"]).click()

    expect(page.get_by_role("heading", name=words["review"], exact=True)).to_be_visible()
    expect(page.locator("tr.total")).to_contain_text(words["total"])
    page.get_by_role("button", name=words["place"]).click()

    confirmation = page.locator("#confirmation")
    expect(confirmation.get_by_role("heading", name=words["thanks"])).to_be_visible()
    expect(confirmation).to_contain_text("ORD-")
    expect(confirmation).to_contain_text(words["due"].format(due=due))
    screenshot(page, f"buyer-confirmation-{language}")

    page.get_by_role("button", name=words["see_order"]).click()
    expect(page.get_by_role("heading", name=words["order"])).to_be_visible()
    expect(page.locator("#payment-status")).to_have_text(
        words["guaranteed"].format(due=due), timeout=30_000
    )
    screenshot(page, f"buyer-order-{language}")

    # On a phone: nothing runs off the side of the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"buyer-order-phone-{language}")


def on_screen(page: Page) -> list[str]:
    """What of the page's tables a phone's screen cuts off: every table wider than its box,
    every button or price beyond the right edge."""
    return page.evaluate(
        """() => [
            ...[...document.querySelectorAll("main .table-scroll")]
                .filter(box => box.scrollWidth > box.clientWidth)
                .map(box => "a table " + box.scrollWidth + " px wide in " + box.clientWidth),
            ...[...document.querySelectorAll("main td, main th, main button")]
                .filter(cell => cell.getBoundingClientRect().right > innerWidth)
                .map(cell => "off the screen: " + cell.innerText.trim()),
        ]"""
    )


def test_on_a_phone_products_cart_review_and_orders_fit_the_screen(
    page, live_url, buyer, paper, coffee, rules, automated
):
    """At 390 px every price, total and button is on the screen, without scrolling sideways."""
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, live_url, buyer.user.username)
    add_to_cart(page, live_url, "Paper", 3)
    add_to_cart(page, live_url, "Coffee", 2)
    assert on_screen(page) == []  # the cart
    screenshot(page, "buyer-cart-phone")
    page.goto(f"{live_url}/")
    assert on_screen(page) == []
    screenshot(page, "buyer-products-phone")
    page.goto(f"{live_url}/cart/")
    check_out(page, automated.method_identifier)
    assert on_screen(page) == []  # the order's lines and totals
    page.goto(f"{live_url}/orders/")
    assert on_screen(page) == []
    screenshot(page, "buyer-orders-phone")


def test_without_javascript_the_checkout_still_works(
    browser, live_url, buyer, paper, rules, automated, payment_term
):
    """Every section of method data shows, and the server checks only the chosen method's."""
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, live_url, buyer.user.username)
        add_to_cart(page, live_url, "Paper", 2)
        page.get_by_role("button", name="Check out").click()
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Continue").click()

        expect(page.locator("#method-data-infinitepay")).to_be_visible()
        page.fill("input[name=infinitepay-debtor_email]", "")  # left as it comes
        page.locator(f"input[name=method][value={payment_term.method_identifier}]").check()
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="Review", exact=True)).to_be_visible()
        page.get_by_role("button", name="Place order").click()
        expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
        screenshot(page, "buyer-confirmation-without-javascript")
    finally:
        context.close()
