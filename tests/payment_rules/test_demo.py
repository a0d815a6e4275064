"""The demo rules: InfinitePay for EU business buyers in EUR, Payment Term as fallback."""

import pytest

from payment_rules.demo import seed_rules
from payment_rules.models import PaymentRule
from payment_rules.selectors import applicable_methods

from .conftest import checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_rules(infinitepay, payment_term):
    return seed_rules(infinitepay=infinitepay, payment_term=payment_term)


def test_seeding_twice_creates_the_rules_once(demo_rules, infinitepay, payment_term):
    again = seed_rules(infinitepay=infinitepay, payment_term=payment_term)
    assert again == demo_rules
    assert PaymentRule.objects.count() == 3


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (checkout(country="DE"), ["infinitepay", "payment_term"]),
        (checkout(country="FR"), ["infinitepay", "payment_term"]),
        (checkout(country="DE", vat_id=""), ["payment_term"]),
        (checkout(country="IT"), ["payment_term"]),
        (checkout(country=None), ["payment_term"]),
        (checkout(currency="CHF", country="CH"), ["payment_term"]),
        (checkout(currency="USD", country="US"), []),
    ],
)
def test_demo_rules_offer_infinitepay_first_and_payment_term_as_fallback(
    demo_rules, context, expected
):
    assert [m.type_key for m in applicable_methods(context=context)] == expected
