"""Expressions: checked when a rule is saved, with a message that says what is wrong."""

import pytest
from django.core.exceptions import ValidationError

from payment_rules import expressions
from payment_rules.models import PaymentRule


@pytest.mark.parametrize(("text", "_"), expressions.EXAMPLES)
def test_every_documented_example_compiles(text, _):
    assert expressions.check_expression(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("totl > 500", "Unknown variable 'totl'. Did you mean 'total'?"),
        ('billing_address.zip == "1"', "Address has no attribute 'zip'"),
        ("customer.vat == 1", "Did you mean 'vat_id'?"),
        ("total >", "Syntax error at the end."),
        ("total > 500 500", "Syntax error near"),
        ("total", "gives a float, not a condition"),
        ('total + "x" > 1', "Data type mismatch"),
        ('currency =~ "("', "Invalid regular expression"),
    ],
)
def test_bad_expressions_say_what_is_wrong(text, message):
    assert message in expressions.check_expression(text)


def test_saving_a_rule_checks_its_expression():
    rule = PaymentRule(name="Big orders", currency="EUR", expression="totl > 500")
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert error.value.message_dict["expression"] == [
        "Unknown variable 'totl'. Did you mean 'total'?"
    ]


def test_rule_validation_normalizes_currency_and_rejects_non_codes():
    rule = PaymentRule(name="Euro", currency="eur")
    rule.full_clean()
    assert rule.currency == "EUR"
    with pytest.raises(ValidationError) as error:
        PaymentRule(name="Bad", currency="EURO").full_clean()
    assert "currency" in error.value.message_dict


def test_compiled_expressions_are_cached_by_text():
    assert expressions.compile_expression("total > 1") is expressions.compile_expression(
        "total > 1"
    )
