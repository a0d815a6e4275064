from decimal import Decimal

import pytest

from payment_rules.context import Address, CheckoutContext, Customer
from tests.factories import (
    InfinitePayIntegrationFactory,
    PaymentTermIntegrationFactory,
    StaffUserFactory,
)

from .factories import PaymentRuleFactory, RuleDestinationFactory, RuleMethodFactory


@pytest.fixture
def owner(db):
    return StaffUserFactory()


@pytest.fixture
def infinitepay(owner):
    return InfinitePayIntegrationFactory(default_owner=owner)


@pytest.fixture
def payment_term(owner):
    return PaymentTermIntegrationFactory(default_owner=owner)


@pytest.fixture
def make_rule(payment_term):
    """A rule offering the given integrations (Payment Term by default)."""

    def make(*, integrations=None, destinations=(), **fields):
        rule = PaymentRuleFactory(**fields)
        for destination in destinations:
            RuleDestinationFactory(rule=rule, **destination)
        for integration in integrations or [payment_term]:
            RuleMethodFactory(rule=rule, integration=integration)
        return rule

    return make


def checkout(
    *,
    currency="EUR",
    country: str | None = "DE",
    region="",
    postal_code="",
    total="100",
    vat_id="DE123456789",
    **fields,
) -> CheckoutContext:
    billing = (
        Address(country=country, region=region, postal_code=postal_code)
        if country is not None
        else None
    )
    return CheckoutContext(
        currency=currency,
        billing_address=billing,
        shipping_address=billing,
        subtotal=Decimal(total),
        total=Decimal(total),
        customer=Customer(name="ACME GmbH", vat_id=vat_id),
        **fields,
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Every integration factory creates a staff owner; hashing its password slowly is waste.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
