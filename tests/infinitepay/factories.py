"""Factories of InfinitePay request values (plain dataclasses, as the pipeline builds them)."""

import uuid
from datetime import date
from decimal import Decimal

import factory

from infinitepay import messages
from infinitepay.models import Guarantee
from tests.checkout.factories import PaymentFactory


class AddressFactory(factory.Factory):
    class Meta:
        model = messages.Address

    street = "Friedrichstraße 123"
    postal_code = "10117"
    city = "Berlin"
    country = "DE"


class DebtorFactory(factory.Factory):
    class Meta:
        model = messages.Debtor

    company_name = "Muster Handels GmbH"
    vat_id = factory.Sequence(lambda n: f"DE{900000000 + n}")
    email = "einkauf@muster.example"
    legal_form = "gmbh"
    first_name = "Erika"
    last_name = "Mustermann"
    address = factory.SubFactory(AddressFactory)
    ip_address = "203.0.113.7"


class ArticleFactory(factory.Factory):
    class Meta:
        model = messages.Article

    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = "Office chair"
    quantity = 2
    unit_price_net = Decimal("100.00")
    unit_price_gross = Decimal("119.00")
    vat_rate = Decimal("0.19")


class AmountsFactory(factory.Factory):
    class Meta:
        model = messages.Amounts

    currency = "EUR"
    total_gross = Decimal("238.00")
    total_net = Decimal("200.00")


class InvoiceFactory(factory.Factory):
    class Meta:
        model = messages.Invoice

    invoice_id = factory.Sequence(lambda n: f"INV-{n}")
    invoice_date = date(2026, 3, 2)
    payment_terms_days = 30
    delivery_date = date(2026, 3, 23)


def new_order_id() -> str:
    return f"ORD-{uuid.uuid4().hex[:16]}"


class ReserveRequestFactory(factory.Factory):
    class Meta:
        model = messages.ReserveRequest

    order_id = factory.LazyFunction(new_order_id)
    amounts = factory.SubFactory(AmountsFactory)
    debtor = factory.SubFactory(DebtorFactory)
    articles = factory.LazyFunction(lambda: (ArticleFactory(),))


class GuaranteeFactory(factory.django.DjangoModelFactory):
    """A guarantee written directly (no pipeline): for lists and counts."""

    class Meta:
        model = Guarantee

    payment = factory.SubFactory(PaymentFactory)
    integration = factory.LazyAttribute(lambda g: g.payment.integration.specific())
    order_id = factory.LazyAttribute(lambda g: f"{g.payment.order.number}-P{g.payment.pk}")
