from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from checkout.models import Buyer, Customer, CustomerAddress, Product


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"buyer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("demo-pass-2026")


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
