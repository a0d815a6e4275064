"""Storefront fixtures shared by every test package: integrations, rules, a buyer, a cart."""

from decimal import Decimal

import pytest

from checkout import services
from checkout.models import Buyer, Cart
from payment_rules.services import DestinationSpec, MethodSpec, create_rule
from tests.checkout.factories import BuyerFactory, CustomerAddressFactory, ProductFactory
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory


@pytest.fixture
def infinitepay(staff_user):
    return InfinitePayIntegrationFactory(default_owner=staff_user)


@pytest.fixture
def payment_term(staff_user):
    return PaymentTermIntegrationFactory(default_owner=staff_user)


@pytest.fixture
def rules(infinitepay, payment_term):
    """The usual setup: InfinitePay for buyers billed in Germany, then Payment Term for all."""
    return [
        create_rule(
            name="InfinitePay DE",
            currency="EUR",
            sort_order=10,
            destinations=[DestinationSpec(country="DE")],
            methods=[MethodSpec(integration=infinitepay)],
        ),
        create_rule(
            name="Payment Term",
            currency="EUR",
            sort_order=20,
            methods=[MethodSpec(integration=payment_term)],
        ),
    ]


@pytest.fixture
def buyer(db) -> Buyer:
    buyer = BuyerFactory(user__username="erika", user__email="erika@muster.example")
    CustomerAddressFactory(customer=buyer.customer)
    return buyer


@pytest.fixture
def buyer_client(client, buyer):
    client.force_login(buyer.user)
    return client


@pytest.fixture
def paper(db):
    return ProductFactory(sku="PAPER", name="Paper", unit_price=Decimal("4.90"))


@pytest.fixture
def coffee(db):
    return ProductFactory(
        sku="COFFEE", name="Coffee", unit_price=Decimal("18.50"), vat_rate=Decimal("0.07")
    )


@pytest.fixture
def ready_cart(buyer, paper, coffee, rules):
    """Fill the buyer's cart and walk the checkout up to the review, with a given method."""

    def ready(method, *, lines=((paper, 3), (coffee, 2)), **method_data) -> Cart:
        """`method_data`: what the method's form asks for, by field (InfinitePay's e-mail...)."""
        for product, quantity in lines:
            services.add_to_cart(buyer=buyer, product=product, quantity=quantity)
        cart = services.get_cart(buyer=buyer)
        address = buyer.customer.addresses.get()
        services.choose_billing_address(cart=cart, address=address)
        services.choose_shipping_address(cart=cart, address=address)
        services.choose_shipping_method(cart=cart, shipping_method="flat_rate")
        services.choose_payment_method(
            cart=cart,
            method=method.method_identifier,
            allowed=[method.method_identifier],
            method_data=method_data,
        )
        return cart

    return ready
