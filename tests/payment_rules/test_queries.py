"""One evaluation costs the same number of queries with 10 rules as with 1,000."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payment_rules.models import PaymentRule, RuleDestination, RuleMethod
from payment_rules.selectors import applicable_methods

from .conftest import checkout

pytestmark = pytest.mark.django_db


def create_rules(count: int, integrations) -> None:
    """Rules of both currencies, with and without destinations, all of them offering methods."""
    rules = PaymentRule.objects.bulk_create(
        PaymentRule(
            name=f"Rule {n}",
            currency="EUR" if n % 2 else "USD",
            sort_order=n % 7,
            expression="total > 10" if n % 3 == 0 else "",
        )
        for n in range(count)
    )
    RuleDestination.objects.bulk_create(
        RuleDestination(rule=rule, country="DE" if n % 4 else "AT")
        for n, rule in enumerate(rules)
        if n % 5
    )
    RuleMethod.objects.bulk_create(
        RuleMethod(rule=rule, integration=integration)
        for n, rule in enumerate(rules)
        for integration in integrations[: 1 + n % len(integrations)]
    )


def count_queries(context) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        methods = applicable_methods(context=context)
    return len(queries), methods


@pytest.mark.parametrize("context", [checkout(), checkout(country=None), checkout(total="1")])
def test_queries_do_not_grow_with_the_number_of_rules(infinitepay, payment_term, context):
    integrations = [infinitepay, payment_term]
    create_rules(10, integrations)
    few, few_methods = count_queries(context)
    create_rules(990, integrations)
    assert PaymentRule.objects.count() == 1000
    many, many_methods = count_queries(context)
    assert few_methods and many_methods
    # The first rule that surely stops, the pre-filtered rules up to it, the kept rules'
    # method configurations, their integrations.
    assert few == many == 4
