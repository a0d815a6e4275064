"""The order placed is the order reviewed: a cart changed after the review is not placed."""

from decimal import Decimal

import pytest
from django.urls import reverse

from checkout import selectors, services
from checkout.models import Order, OrderLine, Payment

from .factories import CustomerAddressFactory
from .test_checkout import infinitepay_chosen, reviewed, walk_to_payment

pytestmark = pytest.mark.django_db

CART_CHANGED = "Your cart has changed; please review it again."


@pytest.fixture
def at_review(buyer_client, buyer, paper, payment_term, rules):
    """The buyer on the review page, paying with Payment Term: the form it shows."""
    walk_to_payment(buyer_client, buyer, paper)
    buyer_client.post(reverse("checkout:payment"), {"method": payment_term.method_identifier})
    return reviewed(buyer_client)


def place(client, form):
    return client.post(reverse("checkout:place_order"), form, follow=True)


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def assert_refused(response) -> None:
    """Back on the review page, told why, and nothing written."""
    assert response.redirect_chain == [(reverse("checkout:review"), 302)]
    assert said(response) == [CART_CHANGED]
    assert "Place order" in response.content.decode()
    assert not (Order.objects.exists() or OrderLine.objects.exists() or Payment.objects.exists())


def test_the_reviewed_cart_is_placed(buyer_client, at_review):
    response = place(buyer_client, at_review)
    order = Order.objects.get()
    assert response.redirect_chain == [(reverse("checkout:order_placed", args=[order.number]), 302)]
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [("PAPER", 2)]


def test_a_product_added_in_another_tab_sends_the_buyer_back_to_the_review(
    buyer_client, buyer, at_review, coffee
):
    buyer_client.post(reverse("checkout:add_to_cart", args=[coffee.pk]), {"quantity": "1"})
    buyer_client.get(reverse("checkout:cart"))  # the other tab reads its message

    assert_refused(place(buyer_client, at_review))

    # Reviewed again, the cart as it now stands is placed.
    place(buyer_client, reviewed(buyer_client))
    order = Order.objects.get()
    assert [(line.sku, line.quantity) for line in order.lines.all()] == [
        ("PAPER", 2),
        ("COFFEE", 1),
    ]


@pytest.mark.parametrize("quantity", ["7", "0"])
def test_a_quantity_changed_or_removed_in_another_tab_is_not_placed(
    buyer_client, buyer, at_review, paper, coffee, quantity
):
    buyer_client.post(reverse("checkout:add_to_cart", args=[coffee.pk]), {"quantity": "1"})
    buyer_client.get(reverse("checkout:cart"))
    at_review = reviewed(buyer_client)
    buyer_client.post(reverse("checkout:cart"), {"product": paper.pk, "quantity": quantity})
    assert_refused(place(buyer_client, at_review))


def test_another_shipping_address_chosen_in_another_tab_is_not_placed(
    buyer_client, buyer, at_review
):
    warehouse = CustomerAddressFactory(
        customer=buyer.customer, street="Lagerweg 5", is_billing=False
    )
    buyer_client.post(reverse("checkout:shipping"), {"address": warehouse.pk})
    assert_refused(place(buyer_client, at_review))


def test_another_payment_method_chosen_in_another_tab_is_not_placed(
    buyer_client, buyer, at_review, infinitepay
):
    buyer_client.post(
        reverse("checkout:payment"),
        infinitepay_chosen(infinitepay, email="ap@muster.example", legal_form="gmbh"),
    )
    assert_refused(place(buyer_client, at_review))


def test_a_price_changed_in_the_back_office_after_the_review_is_not_placed(
    buyer_client, at_review, paper
):
    paper.unit_price = Decimal("5.10")
    paper.save()
    assert_refused(place(buyer_client, at_review))


def test_a_discount_granted_after_the_review_is_not_placed(buyer_client, buyer, at_review):
    buyer.customer.discount_percent = Decimal("3")
    buyer.customer.save()
    assert_refused(place(buyer_client, at_review))


def test_a_place_order_form_without_what_was_reviewed_places_nothing(buyer_client, at_review):
    assert_refused(place(buyer_client, {"checkout_token": at_review["checkout_token"]}))


def test_a_second_submit_after_the_order_still_finds_that_order(buyer_client, at_review):
    first = place(buyer_client, at_review)
    # The cart is empty now, so it no longer matches the review; the token still wins.
    second = place(buyer_client, at_review)
    assert Order.objects.count() == 1
    assert first.redirect_chain == second.redirect_chain


def test_placing_compares_under_the_carts_lock_and_writes_nothing_on_a_change(
    buyer, payment_term, ready_cart, coffee
):
    cart = ready_cart(payment_term)
    lines = selectors.cart_lines(cart)
    fingerprint = selectors.checkout_fingerprint(
        cart=cart, lines=lines, totals=selectors.cart_totals(buyer=buyer, lines=lines)
    )
    services.add_to_cart(buyer=buyer, product=coffee, quantity=1)
    with pytest.raises(services.CartChanged):
        services.place_order(
            buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None, fingerprint=fingerprint
        )
    assert not Order.objects.exists()


def test_the_fingerprint_tells_apart_what_the_review_shows(buyer, payment_term, ready_cart, paper):
    cart = ready_cart(payment_term)

    def fingerprint() -> str:
        fresh = services.get_cart(buyer=buyer)
        lines = selectors.cart_lines(fresh)
        totals = selectors.cart_totals(buyer=buyer, lines=lines)
        return selectors.checkout_fingerprint(cart=fresh, lines=lines, totals=totals)

    seen = {fingerprint()}
    assert fingerprint() in seen  # the same checkout, the same fingerprint

    paper.name = "Paper, recycled"
    paper.save()
    seen.add(fingerprint())
    services.choose_shipping_method(cart=cart, shipping_method="flat_rate")
    assert fingerprint() in seen  # choosing again what was chosen changes nothing
    address = buyer.customer.addresses.get()
    address.city = "Potsdam"
    address.save()
    seen.add(fingerprint())
    assert len(seen) == 3
