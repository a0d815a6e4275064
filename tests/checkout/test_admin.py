"""Orders in the back office: a list with filters and search, and a read-only detail."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from checkout import services
from checkout.models import Order, Payment
from integrations import registry

from .factories import ProductFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:checkout_order_changelist")


@pytest.fixture
def place_orders(buyer, payment_term, ready_cart):
    def place(count: int) -> list[Order]:
        orders = []
        for _ in range(count):
            cart = ready_cart(payment_term)
            orders.append(
                services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
            )
        return orders

    return place


def count_list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(LIST_URL).status_code == 200
    return len(queries)


def test_the_list_runs_the_same_queries_for_one_order_or_many(admin_client, place_orders):
    place_orders(1)
    one = count_list_queries(admin_client)
    place_orders(7)
    assert count_list_queries(admin_client) == one


def test_the_list_shows_number_customer_total_method_and_status(admin_client, buyer, place_orders):
    (order,) = place_orders(1)
    page = admin_client.get(LIST_URL).content.decode()
    for text in [
        order.number,
        buyer.customer.name,
        "68.86",
        "EUR",
        "Payment Term",
        "Pending payment",
    ]:
        assert text in page


def test_the_list_filters_by_payment_status_and_searches(admin_client, place_orders):
    pending, paid = place_orders(2)
    services.set_payment_status(payment=paid.current_payment, status=Payment.Status.PAID_IN_FULL)

    response = admin_client.get(LIST_URL, {"payment_status": "paid_in_full"})
    assert list(response.context["cl"].result_list) == [paid]
    response = admin_client.get(LIST_URL, {"q": pending.number})
    assert list(response.context["cl"].result_list) == [pending]
    response = admin_client.get(LIST_URL, {"payment_method": paid.current_payment.integration_id})
    assert set(response.context["cl"].result_list) == {pending, paid}


def test_the_detail_is_read_only_with_lines_and_addresses(admin_client, place_orders):
    (order,) = place_orders(1)
    url = reverse("admin:checkout_order_change", args=[order.pk])
    page = admin_client.get(url).content.decode()
    shown = ["PAPER", "COFFEE", "Friedrichstraße 123", "10117 Berlin", "Germany"]
    for text in [*shown, "19 %: €4.67 on €24.60"]:
        assert text in page
    assert 'name="_save"' not in page

    admin_client.post(url, {"currency": "USD"})
    order.refresh_from_db()
    assert order.currency == "EUR"
    assert admin_client.get(reverse("admin:checkout_order_add")).status_code == 403


def test_the_detail_runs_the_same_queries_for_few_lines_or_many(admin_client, place_orders):
    (order,) = place_orders(1)
    url = reverse("admin:checkout_order_change", args=[order.pk])

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return len(queries)

    count_queries()  # the first request also fills per-process caches (content types)
    few = count_queries()
    line = order.lines.first()
    for _ in range(5):
        line.pk = None
        line.save()
    assert count_queries() == few


def test_the_detail_shows_each_payments_data_as_its_method_describes_it(
    admin_client, buyer, infinitepay, ready_cart
):
    cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh_co_kg")
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    page = admin_client.get(reverse("admin:checkout_order_change", args=[order.pk]))
    content = page.content.decode()
    described = registry.get_type("infinitepay").describe_method_data(
        order.current_payment.method_data
    )
    assert described[0] == ("E-mail", "ap@muster.example")
    assert described[1][0] == "Legal form" and described[1][1].startswith("GmbH & Co. KG")
    assert "".join(
        f"<div>{escape(label)}: {escape(value)}</div>" for label, value in described
    ) in (content)


def test_the_detail_writes_money_and_rates_in_the_readers_format(
    admin_client, buyer, payment_term, ready_cart
):
    chair = ProductFactory(sku="CHAIR", name="Chair", unit_price=Decimal("200.00"))
    cart = ready_cart(payment_term, lines=((chair, 5),))
    order = services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)
    assert order.total == Decimal("1201.78")
    url = reverse("admin:checkout_order_change", args=[order.pk])

    german = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    # The page's text, each label beside its value (spaces, the no-break one too, as one).
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", german))
    for text in ["Brutto: 1.201,78 €", "Netto: 1.000,00 €", "Versand (netto): 9,90 €"]:
        assert text in shown
    assert "1.201,78\N{NO-BREAK SPACE}€" in german  # the payment's amount too
    assert "200,00\N{NO-BREAK SPACE}€" in german and "19 %" in german  # a line
    assert "0,1900" not in german and "1201.78" not in german and "1201,78" not in german
    assert "€1,201.78" in english and "€200.00" in english
