"""Buyers see their own company's orders, with the status their payment method tells."""

import pytest
from django.urls import reverse

from checkout import services
from integrations import registry

from .factories import BuyerFactory, CustomerAddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer, payment_term, ready_cart):
    cart = ready_cart(payment_term)
    return services.place_order(buyer=buyer, checkout_token=cart.checkout_token, buyer_ip=None)


@pytest.fixture
def other_company_order(paper, payment_term, rules):
    stranger = BuyerFactory()
    CustomerAddressFactory(customer=stranger.customer)
    services.add_to_cart(buyer=stranger, product=paper, quantity=1)
    cart = services.get_cart(buyer=stranger)
    address = stranger.customer.addresses.get()
    services.choose_billing_address(cart=cart, address=address)
    services.choose_shipping_address(cart=cart, address=address)
    services.choose_shipping_method(cart=cart, shipping_method="flat_rate")
    method = payment_term.method_identifier
    services.choose_payment_method(cart=cart, method=method, allowed=[method])
    return services.place_order(buyer=stranger, checkout_token=cart.checkout_token, buyer_ip=None)


def test_the_list_shows_the_companys_orders_only(
    client, buyer_client, buyer, order, other_company_order
):
    colleague = BuyerFactory(customer=buyer.customer)
    client.force_login(colleague.user)
    page = client.get(reverse("checkout:order_list")).content.decode()
    assert order.number in page  # placed by a colleague of the same company
    assert other_company_order.number not in page
    assert "Pending payment" in page


def test_another_companys_order_is_not_found(buyer_client, other_company_order):
    url = reverse("checkout:order_detail", args=[other_company_order.number])
    assert buyer_client.get(url).status_code == 404


def test_anonymous_visitors_see_no_order(client, order):
    response = client.get(reverse("checkout:order_detail", args=[order.number]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_detail_shows_lines_addresses_and_the_status_its_method_describes(
    buyer_client, order, monkeypatch
):
    monkeypatch.setattr(
        registry.get_type("payment_term"), "describe_status", lambda payment: "Paid in full"
    )
    page = buyer_client.get(reverse("checkout:order_detail", args=[order.number])).content.decode()
    assert ">Paid in full</span>" in page
    assert "PAPER" in page and "COFFEE" in page
    assert "Friedrichstraße 123" in page
    assert "€68.86" in page
