"""The five steps of the design, one semantic point per test."""

import logging
from decimal import Decimal

import pytest
from django.utils import translation

from integrations.models import Integration
from payment_rules.context import Address, Buyer, CheckoutContext, Customer, LineItem
from payment_rules.evaluator import MethodOutcome, RuleOutcome
from payment_rules.selectors import applicable_methods, explain_rules
from tests.factories import InfinitePayIntegrationFactory, PaymentTermIntegrationFactory

from .conftest import checkout
from .factories import RuleDestinationPostalCodeFactory

pytestmark = pytest.mark.django_db


def identifiers(context, **kwargs) -> list[str]:
    return [method.identifier for method in applicable_methods(context=context, **kwargs)]


def outcome_of(rule, context) -> RuleOutcome:
    trace = explain_rules(context=context).trace
    return next(t.outcome for t in trace if t.rule_id == rule.pk)


def test_a_matching_rule_offers_its_method_with_labels_and_options(make_rule, payment_term):
    rule = make_rule()
    rule.methods.update(options={"note": "net 30"})
    [method] = applicable_methods(context=checkout())
    assert method.identifier == f"payment_term_{payment_term.pk}"
    assert method.integration_id == payment_term.pk
    assert method.type_key == "payment_term"
    assert (method.label, method.short_label) == ("Invoice (30 days net)", "Payment Term")
    assert method.options == {"note": "net 30"}


def test_labels_follow_the_active_language_with_english_fallback(make_rule, payment_term):
    payment_term.label_de = "Rechnung"
    payment_term.save()
    make_rule()
    with translation.override("de"):
        [method] = applicable_methods(context=checkout())
    assert (method.label, method.short_label) == ("Rechnung", "Payment Term")


def test_no_currency_means_no_methods_and_no_query(make_rule, django_assert_num_queries):
    make_rule()
    with django_assert_num_queries(0):
        assert applicable_methods(context=checkout(currency="")) == []


def test_only_rules_of_the_checkout_currency_apply(make_rule):
    eur, usd = make_rule(currency="EUR"), make_rule(currency="USD")
    context = checkout(currency="usd")
    assert len(applicable_methods(context=context)) == 1
    assert outcome_of(eur, context) == RuleOutcome.WRONG_CURRENCY
    assert outcome_of(usd, context) == RuleOutcome.APPLIED


@pytest.mark.parametrize(
    ("destination", "address", "applies"),
    [
        ({"country": "DE"}, {"country": "DE", "region": "DE-BY"}, True),
        ({"country": "DE"}, {"country": "AT"}, False),
        ({"country": "DE", "region": "DE-BY"}, {"country": "DE", "region": "DE-BY"}, True),
        ({"country": "DE", "region": "DE-BY"}, {"country": "DE", "region": "DE-BE"}, False),
        ({"country": "DE", "region": "DE-BY"}, {"country": "DE", "region": ""}, False),
    ],
)
def test_destination_country_and_region(make_rule, destination, address, applies):
    rule = make_rule(destinations=[destination])
    context = checkout(**address)
    expected = RuleOutcome.APPLIED if applies else RuleOutcome.DESTINATION_MISMATCH
    assert outcome_of(rule, context) == expected
    assert bool(applicable_methods(context=context)) is applies


def test_destination_with_postal_codes_needs_one_of_them(make_rule):
    rule = make_rule(destinations=[{"country": "DE"}])
    destination = rule.destinations.get()
    RuleDestinationPostalCodeFactory(destination=destination, postal_code="10115")
    RuleDestinationPostalCodeFactory(destination=destination, postal_code="80331")
    assert identifiers(checkout(postal_code="80331"))
    assert identifiers(checkout(postal_code=" 10115 "))  # compared normalized
    assert not identifiers(checkout(postal_code="20095"))
    assert not identifiers(checkout(postal_code=""))
    assert not identifiers(checkout(country="AT", postal_code="10115"))


def test_postal_codes_compare_without_case_or_stray_spaces(make_rule):
    rule = make_rule(destinations=[{"country": "GB"}])
    RuleDestinationPostalCodeFactory(destination=rule.destinations.get(), postal_code="sw1a  1aa")
    assert identifiers(checkout(country="GB", postal_code="SW1A 1AA"))


def test_any_matching_destination_is_enough(make_rule):
    make_rule(destinations=[{"country": "DE", "region": "DE-BY"}, {"country": "AT"}])
    assert identifiers(checkout(country="AT"))
    assert identifiers(checkout(country="DE", region="DE-BY"))
    assert not identifiers(checkout(country="DE", region="DE-HH"))


def test_without_billing_address_only_rules_without_destinations_apply(make_rule):
    everywhere = make_rule(sort_order=2)
    somewhere = make_rule(sort_order=1, destinations=[{"country": "DE"}])
    context = checkout(country=None)
    assert outcome_of(somewhere, context) == RuleOutcome.DESTINATION_MISMATCH
    assert outcome_of(everywhere, context) == RuleOutcome.APPLIED


def test_disabled_rules_do_not_apply(make_rule):
    rule = make_rule(enabled=False)
    assert identifiers(checkout()) == []
    assert outcome_of(rule, checkout()) == RuleOutcome.DISABLED


def test_a_false_expression_drops_the_rule(make_rule):
    rule = make_rule(expression='total > 500 and billing_address.country == "DE"')
    assert identifiers(checkout(total="600"))
    assert not identifiers(checkout(total="400"))
    assert not identifiers(checkout(total="600", country="AT"))
    assert outcome_of(rule, checkout(total="400")) == RuleOutcome.EXPRESSION_FALSE


def test_expressions_see_line_items_customer_and_buyer(make_rule):
    make_rule(
        expression='[i for i in line_items if i.sku == "PALLET" and i.net_total >= 100].length > 0'
        ' and customer.vat_id =~ "DE[0-9]+" and buyer.email.ends_with("@acme.de")'
    )
    pallet = LineItem(
        sku="PALLET", name="Pallet", quantity=2, unit_price=Decimal("50"), vat_rate=Decimal("0.19")
    )
    context = checkout(line_items=(pallet,), buyer=Buyer(email="ann@acme.de"))
    assert identifiers(context)
    assert not identifiers(checkout(line_items=(), buyer=Buyer(email="ann@acme.de")))


def test_expression_reads_missing_parts_as_empty(make_rule):
    make_rule(expression='billing_address.country == "" and customer.vat_id == ""')
    context = CheckoutContext(currency="EUR")
    assert identifiers(context)


def test_an_expression_that_fails_drops_its_rule_logs_and_checkout_goes_on(make_rule, caplog):
    broken = make_rule(sort_order=1, expression='line_items[0].sku == "X"')
    fallback = make_rule(sort_order=2, integrations=[PaymentTermIntegrationFactory()])
    context = checkout(line_items=())
    with caplog.at_level(logging.WARNING, logger="payment_rules.evaluator"):
        assert identifiers(context) == [fallback.methods.get().integration.method_identifier]
    assert f"Payment rule {broken.pk}" in caplog.text
    trace = explain_rules(context=context).trace
    assert trace[0].outcome == RuleOutcome.EXPRESSION_ERROR
    assert "lookup" in trace[0].detail.lower()


def test_an_expression_broken_since_saving_is_dropped_too(make_rule):
    rule = make_rule(sort_order=1)
    # Saved through a path that skipped validation, e.g. a variable renamed since.
    type(rule).objects.filter(pk=rule.pk).update(expression="totl > 1")
    [trace] = explain_rules(context=checkout()).trace
    assert trace.outcome == RuleOutcome.EXPRESSION_ERROR
    assert "Unknown variable 'totl'" in trace.detail


def test_stop_further_processing_cuts_off_later_rules(make_rule):
    first, second, third = (PaymentTermIntegrationFactory() for _ in range(3))
    make_rule(sort_order=1, integrations=[first])
    stopper = make_rule(sort_order=2, integrations=[second], stop_processing=True)
    later = make_rule(sort_order=3, integrations=[third])
    context = checkout()
    assert identifiers(context) == [first.method_identifier, second.method_identifier]
    trace = {t.rule_id: t for t in explain_rules(context=context).trace}
    assert trace[stopper.pk].stops_processing
    assert trace[later.pk].outcome == RuleOutcome.CUT_OFF
    assert repr(stopper.name) in trace[later.pk].detail


def test_a_stopping_rule_that_does_not_apply_stops_nothing(make_rule):
    first, second = PaymentTermIntegrationFactory(), PaymentTermIntegrationFactory()
    make_rule(sort_order=1, integrations=[first], stop_processing=True, expression="total > 1000")
    make_rule(sort_order=2, integrations=[second])
    assert identifiers(checkout(total="10")) == [second.method_identifier]


def test_equal_sort_orders_go_by_id(make_rule):
    first, second = PaymentTermIntegrationFactory(), PaymentTermIntegrationFactory()
    older = make_rule(sort_order=5, integrations=[first], stop_processing=True)
    newer = make_rule(sort_order=5, integrations=[second])
    assert older.pk < newer.pk
    assert identifiers(checkout()) == [first.method_identifier]
    assert outcome_of(newer, checkout()) == RuleOutcome.CUT_OFF


def test_rules_go_by_sort_order_not_by_creation(make_rule):
    first, second = PaymentTermIntegrationFactory(), PaymentTermIntegrationFactory()
    make_rule(sort_order=20, integrations=[second])
    make_rule(sort_order=10, integrations=[first])
    assert identifiers(checkout()) == [first.method_identifier, second.method_identifier]


def test_a_method_of_several_rules_is_listed_once_at_its_first_position(make_rule):
    shared, other = PaymentTermIntegrationFactory(), PaymentTermIntegrationFactory()
    first_rule = make_rule(sort_order=1, integrations=[shared])
    first_rule.methods.update(options={"from": "first"})
    make_rule(sort_order=2, integrations=[other, shared])
    methods = applicable_methods(context=checkout())
    assert [m.identifier for m in methods] == [shared.method_identifier, other.method_identifier]
    assert methods[0].options == {"from": "first"}
    [_, second_trace] = explain_rules(context=checkout()).trace
    assert [m.outcome for m in second_trace.methods] == [
        MethodOutcome.OFFERED,
        MethodOutcome.ALREADY_OFFERED,
    ]


def test_inactive_integrations_are_left_out(make_rule):
    inactive = PaymentTermIntegrationFactory(status=Integration.Status.INACTIVE)
    active = PaymentTermIntegrationFactory()
    make_rule(integrations=[inactive, active])
    assert identifiers(checkout()) == [active.method_identifier]
    [trace] = explain_rules(context=checkout()).trace
    assert trace.methods[0].outcome == MethodOutcome.INTEGRATION_INACTIVE


def test_infinitepay_needs_a_customer_vat_id(make_rule, infinitepay, payment_term):
    make_rule(integrations=[infinitepay, payment_term])
    with_vat_id = identifiers(checkout(vat_id="DE123456789"))
    assert with_vat_id == [infinitepay.method_identifier, payment_term.method_identifier]
    assert identifiers(checkout(vat_id="")) == [payment_term.method_identifier]
    no_customer = CheckoutContext(currency="EUR", billing_address=Address(country="DE"))
    assert identifiers(no_customer) == [payment_term.method_identifier]
    [trace] = explain_rules(context=checkout(vat_id="")).trace
    assert trace.methods[0].outcome == MethodOutcome.NOT_APPLICABLE


def test_exclude_drops_methods_after_a_decline(make_rule, infinitepay, payment_term):
    make_rule(integrations=[infinitepay, payment_term])
    context = checkout()
    assert identifiers(context, exclude=[infinitepay.method_identifier]) == [
        payment_term.method_identifier
    ]


def test_the_trace_lists_every_rule_in_evaluation_order(make_rule):
    rules = [make_rule(sort_order=order) for order in (3, 1, 2)]
    make_rule(sort_order=0, currency="USD")
    trace = explain_rules(context=checkout()).trace
    assert [t.sort_order for t in trace] == [0, 1, 2, 3]
    assert {t.rule_id for t in trace} >= {rule.pk for rule in rules}


def test_explained_and_plain_evaluations_agree(make_rule, infinitepay):
    make_rule(sort_order=1, integrations=[infinitepay], destinations=[{"country": "DE"}])
    make_rule(sort_order=2, expression="total > 50", stop_processing=True)
    make_rule(sort_order=3, integrations=[InfinitePayIntegrationFactory()])
    for context in [checkout(), checkout(total="10"), checkout(country="FR", vat_id="")]:
        assert explain_rules(context=context).methods == applicable_methods(context=context)


def test_customer_without_vat_id_dataclass_default(make_rule, infinitepay):
    make_rule(integrations=[infinitepay])
    context = CheckoutContext(currency="EUR", customer=Customer(name="Private person"))
    assert identifiers(context) == []
