"""One payment rule cannot stall checkout: its limits, seen in the rule form, simulator, checkout.

Every expression runs within a budget of steps, value sizes and processor time; regular
expressions run in linear time; too long or too deep expressions are refused on save, and
such expressions stored earlier fail at checkout instead of erring.
"""

import dataclasses
import logging
import time
import tracemalloc
from decimal import Decimal

import pytest
from django.urls import reverse

from payment_rules import bounded_engine
from payment_rules.context import Buyer, Customer, LineItem
from payment_rules.evaluator import RuleOutcome
from payment_rules.models import PaymentRule
from payment_rules.selectors import applicable_methods, explain_rules

from .conftest import checkout

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:payment_rules_paymentrule_add")
SIMULATE_URL = reverse("admin:payment_rules_paymentrule_simulate")
CATASTROPHIC_NAME = "a" * 29 + "!"  # 77 s on Python's backtracking re against (a+)+$


def rule_form(integration, expression: str, **overrides) -> dict[str, str]:
    return {
        "name": "Guarded rule",
        "enabled": "on",
        "sort_order": "10",
        "currency": "EUR",
        "expression": expression,
        "destinations-TOTAL_FORMS": "0",
        "destinations-INITIAL_FORMS": "0",
        "methods-TOTAL_FORMS": "1",
        "methods-INITIAL_FORMS": "0",
        "methods-0-integration": str(integration.pk),
        "methods-0-options": "{}",
        **overrides,
    }


def form_errors(response) -> str:
    assert response.status_code == 200, "the form was saved"
    return " ".join(str(error) for error in response.context["errors"])


def timed(function, **kwargs):
    started = time.perf_counter()
    result = function(**kwargs)
    return result, time.perf_counter() - started


def simulate(admin_client, **fields):
    data = {"currency": "EUR", "billing_country": "DE", "subtotal": "100", "total": "119"}
    response = admin_client.get(SIMULATE_URL, {**data, **fields})
    assert response.status_code == 200
    return response


def checkout_by(name: str, *, email: str = "buyer@example.com"):
    """A checkout whose customer has this name (with a VAT ID) and whose buyer this e-mail."""
    customer = Customer(name=name, vat_id="DE123456789")
    return dataclasses.replace(checkout(), customer=customer, buyer=Buyer(email=email))


def outcome_of(rule, context) -> tuple[RuleOutcome, str]:
    trace = explain_rules(context=context).trace
    return next((t.outcome, t.detail) for t in trace if t.rule_id == rule.pk)


@pytest.fixture
def fallback(make_rule, infinitepay):
    """A later rule that always applies, to show checkout going on past a stopped one."""
    return make_rule(name="Fallback", integrations=[infinitepay], sort_order=99)


# 1. One evaluation is bounded in time and memory; beyond, the rule fails like a broken one.

RUNAWAY_EXPRESSIONS = [
    # Each step is cheap; together they would run for seconds.
    "[x for x in $range(10000) if [y for y in $range(10000)].length > 0].length > 0",
    # Each value stays small; together they would fill memory.
    "[customer.name + customer.name for x in $range(10000)].length > 0",
    # Lists of lists that share their parts cost the product of their sizes to compare.
    "[[y for y in $range(1000)] for x in $range(1000)] == []",
]


@pytest.mark.parametrize("expression", RUNAWAY_EXPRESSIONS)
def test_a_runaway_expression_is_stopped_at_checkout_logged_and_skipped(
    make_rule, payment_term, fallback, infinitepay, caplog, expression
):
    runaway = make_rule(name="Runaway", expression=expression, sort_order=1)
    with caplog.at_level(logging.WARNING, logger="payment_rules.evaluator"):
        methods, seconds = timed(applicable_methods, context=checkout())
    assert seconds < 10  # unbounded, it takes minutes; the margin keeps a busy machine out
    assert [m.identifier for m in methods] == [infinitepay.method_identifier]
    assert f"Payment rule {runaway.pk} ('Runaway') dropped" in caplog.text
    outcome, detail = outcome_of(runaway, checkout())
    assert outcome == RuleOutcome.EXPRESSION_ERROR
    assert detail.startswith(("Stopped:", "Lists, sets and mappings cannot hold"))


def test_the_simulator_shows_a_stopped_expression_as_failed_with_the_reason(
    admin_client, make_rule
):
    make_rule(name="Runaway", expression=RUNAWAY_EXPRESSIONS[1])
    response, seconds = timed(simulate, admin_client=admin_client, customer_name="ACME GmbH")
    assert seconds < 10  # unbounded, it takes minutes; the margin keeps a busy machine out
    body = response.content.decode()
    assert "Expression failed: Stopped: " in body
    assert "No payment method: the buyer cannot check out." in body


def test_a_rule_within_the_limits_still_sees_a_large_cart(make_rule, payment_term):
    make_rule(expression='[i for i in line_items if i.sku == "PALLET"].length > 0')
    items = tuple(
        LineItem(sku=sku, name=sku, quantity=1, unit_price=Decimal("1"), vat_rate=Decimal("0"))
        for sku in ["BOX"] * 999 + ["PALLET"]
    )
    assert applicable_methods(context=checkout(line_items=items))


# 2. Regular expressions never backtrack.


def test_a_catastrophic_pattern_answers_at_once_and_the_rule_is_skipped(
    make_rule, fallback, infinitepay
):
    catastrophic = make_rule(name="Nested quantifiers", expression='customer.name =~ "(a+)+$"')
    context = checkout_by(CATASTROPHIC_NAME)
    methods, seconds = timed(applicable_methods, context=context)
    assert seconds < 10  # unbounded, it takes minutes; the margin keeps a busy machine out
    assert [m.identifier for m in methods] == [infinitepay.method_identifier]
    assert outcome_of(catastrophic, context)[0] == RuleOutcome.EXPRESSION_FALSE
    # The pattern keeps its meaning: a name of a's alone matches.
    assert outcome_of(catastrophic, checkout_by("a" * 30))[0] == RuleOutcome.APPLIED


def test_the_simulator_answers_a_catastrophic_pattern_at_once(admin_client, make_rule):
    make_rule(name="Nested quantifiers", expression='customer.name =~~ "(a+)+$"')
    response, seconds = timed(simulate, admin_client=admin_client, customer_name=CATASTROPHIC_NAME)
    assert seconds < 10  # unbounded, it takes minutes; the margin keeps a busy machine out
    assert "Expression is false" in response.content.decode()


def test_the_rule_form_takes_the_pattern_and_refuses_back_references(admin_client, infinitepay):
    response = admin_client.post(ADD_URL, rule_form(infinitepay, 'customer.name =~ "(a+)+$"'))
    assert response.status_code == 302
    response = admin_client.post(ADD_URL, rule_form(infinitepay, r'customer.name =~ "(a)\\1"'))
    errors = form_errors(response)
    assert "Invalid regular expression" in errors
    assert "back-references, look-arounds and \\Z are not supported" in errors
    assert PaymentRule.objects.count() == 1


def test_a_pattern_from_checkout_data_runs_in_linear_time_too(make_rule, fallback, infinitepay):
    rule = make_rule(name="Pattern from data", expression="customer.name =~ buyer.email")
    context = checkout_by(CATASTROPHIC_NAME, email="(a+)+$")
    methods, seconds = timed(applicable_methods, context=context)
    assert seconds < 10  # unbounded, it takes minutes; the margin keeps a busy machine out
    assert [m.identifier for m in methods] == [infinitepay.method_identifier]
    assert outcome_of(rule, context)[0] == RuleOutcome.EXPRESSION_FALSE


def test_a_pattern_from_checkout_data_that_needs_backtracking_fails_and_is_logged(
    admin_client, make_rule, caplog
):
    make_rule(name="Pattern from data", expression="buyer.email =~ customer.name")
    with caplog.at_level(logging.WARNING, logger="payment_rules.evaluator"):
        response = simulate(admin_client, customer_name=r"(a)\1", buyer_email="a@example.com")
    body = response.content.decode()
    assert "Expression failed: Invalid regular expression" in body
    assert "back-references" in caplog.text


# 3. Nothing allocates without bound.


def test_a_huge_range_is_stopped_before_it_is_allocated(make_rule, fallback, infinitepay, caplog):
    make_rule(name="Huge range", expression="$range(3000000).length > 0")
    tracemalloc.start()
    try:
        with caplog.at_level(logging.WARNING, logger="payment_rules.evaluator"):
            methods = applicable_methods(context=checkout())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # a list of three million numbers takes over 100 MB
    assert [m.identifier for m in methods] == [infinitepay.method_identifier]
    assert "$range would make more than 10,000 numbers" in caplog.text


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("2 ** 1000 > 0", "a number grew past 1e100"),
        ("1 << 100000000 > 0", "Bit shifts (&lt;&lt; and &gt;&gt;) are not supported."),
        ("[1][1e999999999] == 1", "Numbers in an expression must be below 1e101."),
        ('b"x" == b"x"', "Byte strings"),
        ('"x".encode("punycode") == "x".encode("punycode")', "attribute &#x27;encode&#x27;"),
    ],
)
def test_the_rule_form_refuses_constants_that_would_grow_without_bound(
    admin_client, infinitepay, expression, message
):
    response, seconds = timed(
        admin_client.post, path=ADD_URL, data=rule_form(infinitepay, expression)
    )
    assert seconds < 10  # unbounded, it takes minutes; the margin keeps a busy machine out
    assert message in response.content.decode()
    assert not PaymentRule.objects.exists()


# 4. Too long or too deep: a form error on save, a failing rule if stored earlier.

TOO_LONG_OR_DEEP = [
    ("(" * 5_000 + "total > 1" + ")" * 5_000, "Expression too long: 10,009 characters"),
    ("total > " + "1" * 1_000_000, "Expression too long: 1,000,008 characters"),
    ("(" * 40 + "total > 1" + ")" * 40, "Expression too deeply nested: brackets"),
    ("not " * 200 + "true", "Expression too deeply nested: operations"),
    ("total" + " + 1" * 150 + " > 1", "Expression too deeply nested: operations"),
]


@pytest.mark.parametrize(("expression", "message"), TOO_LONG_OR_DEEP)
def test_the_rule_form_refuses_too_long_or_too_deep_expressions(
    admin_client, infinitepay, expression, message
):
    response = admin_client.post(ADD_URL, rule_form(infinitepay, expression))
    assert message in form_errors(response)
    assert not PaymentRule.objects.exists()


@pytest.mark.parametrize(
    "expression",
    [
        "not " * (bounded_engine.MAX_DEPTH - 2) + "true",
        "total" + " + 1" * (bounded_engine.MAX_DEPTH - 2) + " > 1",
        "(" * bounded_engine.MAX_NESTING + "total > 1" + ")" * bounded_engine.MAX_NESTING,
    ],
)
def test_the_deepest_expressions_allowed_save_and_evaluate(admin_client, infinitepay, expression):
    response = admin_client.post(ADD_URL, rule_form(infinitepay, expression))
    assert response.status_code == 302, form_errors(response)
    body = simulate(admin_client, customer_vat_id="DE123456789").content.decode()
    assert "Expression failed" not in body
    assert infinitepay.method_identifier in body


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        *TOO_LONG_OR_DEEP,
        (r'customer.name =~ "(?=a)a"', "look-arounds"),
        ("$range(3000000).length > 0", "$range would make more than"),
    ],
)
def test_an_expression_stored_before_the_limits_fails_in_the_simulator_and_at_checkout(
    admin_client, make_rule, fallback, infinitepay, expression, reason
):
    stored = make_rule(name="Stored earlier", expression=expression, sort_order=1)
    body = simulate(admin_client, customer_vat_id="DE123456789").content.decode()
    assert "Expression failed: " in body
    assert reason.replace("'", "&#x27;") in body
    methods = applicable_methods(context=checkout())
    assert [m.identifier for m in methods] == [infinitepay.method_identifier]
    change = reverse("admin:payment_rules_paymentrule_change", args=[stored.pk])
    assert admin_client.get(change).status_code == 200
