import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from backoffice.demo import DEMO_PASSWORD
from checkout.models import Buyer, Customer, CustomerAddress, Order, Payment, Product
from tests.factories import InfinitePayIntegrationFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"buyer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(DEMO_PASSWORD)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Company {n} GmbH")
    vat_id = "DE814523673"


class CustomerAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerAddress

    customer = factory.SubFactory(CustomerFactory)
    organization = factory.LazyAttribute(lambda a: a.customer.name)
    first_name = "Erika"
    last_name = "Mustermann"
    street = "Friedrichstraße 123"
    postal_code = "10117"
    city = "Berlin"
    country = "DE"


class BuyerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Buyer

    user = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit_price = Decimal("10.00")
    vat_rate = Decimal("0.19")
    currency = "EUR"


ADDRESS = {
    "organization": "Muster Handels GmbH",
    "first_name": "Erika",
    "last_name": "Mustermann",
    "street": "Friedrichstraße 123",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
    "region": "",
}


class OrderFactory(factory.django.DjangoModelFactory):
    """A placed order of 100.00 net + 19 % VAT, without lines (for lists and pipelines)."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"ORD-{n:06d}")
    buyer = factory.SubFactory(BuyerFactory)
    customer = factory.SelfAttribute("buyer.customer")
    currency = "EUR"
    billing_address = factory.LazyFunction(lambda: dict(ADDRESS))
    shipping_address = factory.LazyFunction(lambda: dict(ADDRESS))
    shipping_method = "flat_rate"
    subtotal = Decimal("100.00")
    discount = Decimal("0.00")
    discount_gross = Decimal("0.00")
    shipping = Decimal("0.00")
    shipping_gross = Decimal("0.00")
    shipping_vat_rate = Decimal("0.19")
    vat_total = Decimal("19.00")
    vat_breakdown = factory.LazyFunction(
        lambda: [{"rate": "0.19", "taxable": "100.00", "vat": "19.00"}]
    )
    total = Decimal("119.00")
    idempotency_key = factory.LazyFunction(uuid.uuid4)


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    integration = factory.SubFactory(InfinitePayIntegrationFactory)
    method = factory.LazyAttribute(lambda p: p.integration.method_identifier)
    amount = factory.SelfAttribute("order.total")
    currency = factory.SelfAttribute("order.currency")
