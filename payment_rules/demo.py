"""Demo rules: InfinitePay for EUR buyers billed in some EU countries, Payment Term as fallback."""

from typing import Any

from integrations.models import Integration

from . import services
from .models import PaymentRule

INFINITEPAY_COUNTRIES = ("DE", "AT", "NL", "FR", "BE", "LU")


def seed_rules(*, infinitepay: Integration, payment_term: Integration) -> list[PaymentRule]:
    """Create the demo rules once; running it again changes nothing."""
    specs: list[dict[str, Any]] = [
        {
            "name": "InfinitePay for EU business buyers (EUR)",
            "currency": "EUR",
            "sort_order": 10,
            "destinations": [
                services.DestinationSpec(country=code) for code in INFINITEPAY_COUNTRIES
            ],
            "methods": [services.MethodSpec(integration=infinitepay)],
        },
        {
            "name": "Payment Term fallback (EUR)",
            "currency": "EUR",
            "sort_order": 20,
            "methods": [services.MethodSpec(integration=payment_term)],
        },
        {
            "name": "Payment Term (CHF)",
            "currency": "CHF",
            "sort_order": 20,
            "destinations": [services.DestinationSpec(country="CH")],
            "methods": [services.MethodSpec(integration=payment_term)],
        },
    ]
    rules = []
    for spec in specs:
        rule = PaymentRule.objects.filter(name=spec["name"]).first()
        rules.append(rule if rule is not None else services.create_rule(**spec))
    return rules
