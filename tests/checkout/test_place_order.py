"""Placing an order: one transaction, a fixed number of queries, no provider call."""

import socket
import uuid
from decimal import Decimal

import httpx
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checkout import selectors, services
from checkout.models import Cart, Order, OrderLine, Payment
from payment_rules.models import PaymentRule

from .factories import ProductFactory

pytestmark = pytest.mark.django_db

# SAVEPOINT, lock the cart, look for the token's order, read the lines, insert the order,
# its lines, its payment, set number and current payment, empty the cart, renew its token,
# RELEASE; plus the payment rules' own (fixed) queries, counted apart so that this test
# speaks only for checkout. The integration is the one the rules read: not read again.
PLACE_ORDER_QUERIES = 11


@pytest.mark.parametrize("line_count", [1, 6])
def test_placing_an_order_runs_a_fixed_number_of_queries(
    buyer, payment_term, ready_cart, django_assert_num_queries, line_count
):
    products = [ProductFactory(vat_rate=Decimal("0.07") if i % 2 else "0.19") for i in range(6)]
    cart = ready_cart(payment_term, lines=[(p, 2) for p in products[:line_count]])
    rule_queries = count_rule_queries(buyer, cart)
    assert rule_queries <= 4
    fingerprint = reviewed_fingerprint(buyer, cart)

    # Comparing with what the buyer reviewed reads nothing more: the lines are read anyway.
    with django_assert_num_queries(PLACE_ORDER_QUERIES + rule_queries):
        order = services.place_order(
            buyer=buyer,
            checkout_token=cart.checkout_token,
            buyer_ip="203.0.113.7",
            fingerprint=fingerprint,
        )
    assert order.lines.count() == line_count


def reviewed_fingerprint(buyer, cart) -> str:
    lines = selectors.cart_lines(cart)
    totals = selectors.cart_totals(buyer=buyer, lines=lines)
    return selectors.checkout_fingerprint(cart=cart, lines=lines, totals=totals)


def count_rule_queries(buyer, cart) -> int:
    lines = selectors.cart_lines(cart)
    totals = selectors.cart_totals(buyer=buyer, lines=lines)
    with CaptureQueriesContext(connection) as queries:
        selectors.payment_methods(buyer=buyer, cart=cart, lines=lines, totals=totals)
    return len(queries)


@pytest.fixture
def no_network(monkeypatch):
    """Make every outgoing HTTP request or socket connection fail the test loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("placing an order must not call out over the network")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_the_guard_does_catch_a_provider_call(no_network):
    with pytest.raises(AssertionError, match="must not call out"):
        httpx.post("http://127.0.0.1:8090/ws/InfinitePayAPI", content=b"<x/>")


def test_the_place_order_request_makes_no_http_call(
    buyer_client, buyer, payment_term, ready_cart, no_network
):
    cart = ready_cart(payment_term)
    response = buyer_client.post(
        reverse("checkout:place_order"),
        {
            "checkout_token": str(cart.checkout_token),
            "fingerprint": reviewed_fingerprint(buyer, cart),
        },
    )
    assert response.status_code == 302
    assert Order.objects.filter(customer=buyer.customer).count() == 1


def test_an_order_keeps_snapshots_and_decimal_totals(buyer, payment_term, ready_cart, paper):
    cart = ready_cart(payment_term)
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)

    address = buyer.customer.addresses.get()
    address.street = "Neue Straße 1"
    address.save()
    paper.unit_price = Decimal("99.00")
    paper.save()

    order.refresh_from_db()
    assert order.billing_address["street"] == "Friedrichstraße 123"
    assert order.shipping_address["country"] == "DE"
    assert order.billing_address_context().organization == buyer.customer.name
    assert [(line.sku, line.quantity, line.unit_price, line.net) for line in order.lines.all()] == [
        ("PAPER", 3, Decimal("4.90"), Decimal("14.70")),
        ("COFFEE", 2, Decimal("18.50"), Decimal("37.00")),
    ]
    assert (order.subtotal, order.shipping, order.vat_total, order.total) == (
        Decimal("51.70"),
        Decimal("9.90"),
        Decimal("7.26"),
        Decimal("68.86"),
    )
    assert [(v.percent, v.vat) for v in order.totals.vat] == [
        ("7", Decimal("2.59")),
        ("19", Decimal("4.67")),
    ]
    assert order.current_payment.amount == order.total


def test_an_order_is_placed_whole_or_not_at_all(buyer, payment_term, ready_cart, monkeypatch):
    cart = ready_cart(payment_term)

    def fail(payment):
        raise RuntimeError("the method could not start")

    from integrations import registry

    monkeypatch.setattr(registry.get_type("payment_term"), "start", fail)
    with pytest.raises(RuntimeError):
        services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert not Order.objects.exists() and not OrderLine.objects.exists()
    assert not Payment.objects.exists()
    assert buyer.cart.lines.count() == 2


def test_a_method_the_rules_stopped_offering_is_not_used(buyer, payment_term, ready_cart):
    cart = ready_cart(payment_term)
    PaymentRule.objects.filter(name="Payment Term").update(enabled=False)
    with pytest.raises(services.CheckoutError) as error:
        services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert error.value.step == "payment"
    assert not Order.objects.exists()


def test_method_data_its_type_no_longer_accepts_is_asked_for_again(buyer, infinitepay, ready_cart):
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    Cart.objects.filter(pk=cart.pk).update(
        method_data={"debtor_email": "ap@muster.example", "legal_form": "plc"}
    )
    with pytest.raises(services.CheckoutError) as error:
        services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert error.value.step == "payment"
    assert not Order.objects.exists()


def test_a_company_without_a_vat_id_still_orders_with_a_method_that_needs_none(
    buyer, payment_term, ready_cart
):
    cart = ready_cart(payment_term)
    type(buyer.customer).objects.filter(pk=buyer.customer.pk).update(vat_id="")
    buyer.customer.vat_id = ""
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert order.current_payment.integration_id == payment_term.pk


def test_infinitepay_chosen_before_the_vat_id_was_dropped_is_refused_at_ordering(
    buyer, infinitepay, ready_cart
):
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
    type(buyer.customer).objects.filter(pk=buyer.customer.pk).update(vat_id="")
    buyer.customer.vat_id = ""
    with pytest.raises(services.CheckoutError) as error:
        services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert error.value.step == "payment"
    assert not Order.objects.exists()


def test_the_token_is_unique_per_order(buyer, payment_term, ready_cart):
    cart = ready_cart(payment_term)
    token = cart.checkout_token
    first = services.place_order(buyer=buyer, checkout_token=token, buyer_ip=None)
    assert services.place_order(buyer=buyer, checkout_token=token, buyer_ip=None) == first
    with pytest.raises(services.StaleCheckout):
        services.place_order(buyer=buyer, checkout_token=uuid.uuid4(), buyer_ip=None)
