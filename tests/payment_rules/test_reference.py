"""The evaluator agrees with a plain reference of the design's five steps on random data.

The reference reads nothing from the database: it walks the generated rule specs in Python,
literally step by step (every expression is evaluated before the cut, every rule is looked
at), so the SQL pre-filter, the early stop and the union are checked against the design.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Integration
from payment_rules import expressions
from payment_rules.context import Address, CheckoutContext, Customer, LineItem
from payment_rules.models import PaymentRule, RuleDestination, RuleDestinationPostalCode, RuleMethod
from payment_rules.selectors import applicable_methods, explain_rules
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory

pytestmark = pytest.mark.django_db

EXPRESSIONS = [
    "",
    "",
    "",
    "total > 100",
    'billing_address.country == "DE"',
    'line_items[0].sku == "A"',  # fails on an empty cart
    'customer.vat_id != ""',
    "total / (subtotal - 100) > 0",  # fails (division by zero) when subtotal is 100
]
POSTAL_CODES = ["10115", "80331"]


@dataclass(frozen=True)
class DestinationSpec:
    country: str
    region: str
    postal_codes: frozenset[str]


@dataclass(frozen=True)
class RuleSpec:
    currency: str
    enabled: bool
    sort_order: int
    stop_processing: bool
    expression: str
    destinations: tuple[DestinationSpec, ...]
    methods: tuple[int, ...]  # indexes into the integrations of the example


destinations = st.builds(
    DestinationSpec,
    country=st.sampled_from(["DE", "AT"]),
    region=st.sampled_from(["", "DE-BY", "AT-9"]),
    postal_codes=st.frozensets(st.sampled_from(POSTAL_CODES), max_size=2),
)
rules = st.builds(
    RuleSpec,
    # Weighted towards rules that apply, so that several of them meet in one checkout.
    currency=st.sampled_from(["EUR", "EUR", "EUR", "USD"]),
    enabled=st.sampled_from([True, True, True, False]),
    sort_order=st.integers(0, 3),  # small, so that ties are common
    stop_processing=st.booleans(),
    expression=st.sampled_from(EXPRESSIONS),
    destinations=st.one_of(st.just(()), st.lists(destinations, max_size=2).map(tuple)),
    methods=st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True).map(tuple),
)
addresses = st.builds(
    Address,
    country=st.sampled_from(["DE", "AT", "FR"]),
    region=st.sampled_from(["", "DE-BY", "AT-9"]),
    postal_code=st.sampled_from(["", *POSTAL_CODES]),
)
contexts = st.builds(
    CheckoutContext,
    currency=st.sampled_from(["EUR", "EUR", "USD", ""]),
    billing_address=st.none() | addresses,
    shipping_address=st.none() | addresses,
    subtotal=st.sampled_from([Decimal("50"), Decimal("100"), Decimal("150.5")]),
    total=st.sampled_from([Decimal("50"), Decimal("150.5")]),
    line_items=st.sampled_from(
        [(), (LineItem(sku="A", name="A", quantity=1, unit_price=Decimal(1), vat_rate=Decimal(0)),)]
    ),
    customer=st.none()
    | st.builds(Customer, name=st.just("ACME"), vat_id=st.sampled_from(["", "DE1"])),
)


def reference_methods(specs, ids, integrations, context, exclude) -> list[str]:
    """The design's five steps, written as plainly as possible."""
    # 1. no currency: no methods
    if not context.currency:
        return []
    billing = context.billing_address
    # 2. currency and destination
    candidates = []
    for spec, rule_id in zip(specs, ids, strict=True):
        if spec.currency != context.currency:
            continue
        if spec.destinations:
            if billing is None:
                continue
            if not any(
                d.country == billing.country
                and d.region in ("", billing.region)
                and (not d.postal_codes or billing.postal_code in d.postal_codes)
                for d in spec.destinations
            ):
                continue
        candidates.append((spec, rule_id))
    # 3. enabled, expression true (a failing expression counts as false)
    variables = expressions.variables_for(context)
    passing = []
    for spec, rule_id in candidates:
        if not spec.enabled:
            continue
        if spec.expression:
            try:
                holds = expressions.matches(spec.expression, variables)
            except Exception:
                holds = False
            if not holds:
                continue
        passing.append((spec, rule_id))
    # 4. sort by sort order then id; keep up to and including the first stopping rule
    passing.sort(key=lambda pair: (pair[0].sort_order, pair[1]))
    kept = []
    for spec, _rule_id in passing:
        kept.append(spec)
        if spec.stop_processing:
            break
    # 5. union, each method once, active and applicable ones only
    has_vat_id = bool(context.customer and context.customer.vat_id)
    result: list[str] = []
    for spec in kept:
        for index in spec.methods:
            integration = integrations[index]
            identifier = integration.method_identifier
            if identifier in result or identifier in exclude:
                continue
            if integration.status != Integration.Status.ACTIVE:
                continue
            if integration.type == "infinitepay" and not has_vat_id:
                continue
            result.append(identifier)
    return result


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(rules, max_size=10),
    context=contexts,
    statuses=st.lists(st.booleans(), min_size=4, max_size=4),
    excluded=st.sets(st.integers(0, 3), max_size=2),
)
def test_evaluator_matches_the_reference(owner, specs, context, statuses, excluded):
    with transaction.atomic():
        integrations = [
            InfinitePayIntegrationFactory(default_owner=owner),
            InfinitePayIntegrationFactory(default_owner=owner),
            PaymentTermIntegrationFactory(default_owner=owner),
            PaymentTermIntegrationFactory(default_owner=owner),
        ]
        for integration, active in zip(integrations, statuses, strict=True):
            integration.status = "active" if active else "inactive"
            integration.save()
        ids = [create_rule(spec, integrations).pk for spec in specs]
        exclude = {integrations[index].method_identifier for index in excluded}

        expected = reference_methods(specs, ids, integrations, context, exclude)
        actual = [m.identifier for m in applicable_methods(context=context, exclude=exclude)]
        explained = [m.identifier for m in explain_rules(context=context, exclude=exclude).methods]
        transaction.set_rollback(True)
    assert actual == expected
    assert explained == expected


def create_rule(spec: RuleSpec, integrations) -> PaymentRule:
    rule = PaymentRule.objects.create(
        name="random",
        currency=spec.currency,
        enabled=spec.enabled,
        sort_order=spec.sort_order,
        stop_processing=spec.stop_processing,
        expression=spec.expression,
    )
    for destination_spec in spec.destinations:
        destination = RuleDestination.objects.create(
            rule=rule, country=destination_spec.country, region=destination_spec.region
        )
        for code in destination_spec.postal_codes:
            RuleDestinationPostalCode.objects.create(destination=destination, postal_code=code)
    for index in spec.methods:
        RuleMethod.objects.create(rule=rule, integration=integrations[index])
    return rule
