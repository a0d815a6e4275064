import factory

from payment_rules.models import (
    PaymentRule,
    RuleDestination,
    RuleDestinationPostalCode,
    RuleMethod,
)
from tests.factories import PaymentTermIntegrationFactory


class PaymentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    currency = "EUR"
    sort_order = 0


class RuleDestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleDestination

    rule = factory.SubFactory(PaymentRuleFactory)
    country = "DE"


class RuleDestinationPostalCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleDestinationPostalCode

    destination = factory.SubFactory(RuleDestinationFactory)
    postal_code = "10115"


class RuleMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RuleMethod

    rule = factory.SubFactory(PaymentRuleFactory)
    integration = factory.SubFactory(PaymentTermIntegrationFactory)
