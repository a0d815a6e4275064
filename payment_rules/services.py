"""Writes of payment rules: create rules, switch them on and off, keep postal codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from integrations.models import Integration

from .models import (
    PaymentRule,
    RuleDestination,
    RuleDestinationPostalCode,
    RuleMethod,
    normalize_postal_code,
)


@dataclass(frozen=True)
class DestinationSpec:
    country: str
    region: str = ""
    postal_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MethodSpec:
    integration: Integration
    options: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def create_rule(
    *,
    name: str,
    currency: str,
    methods: Sequence[MethodSpec],
    sort_order: int = 0,
    enabled: bool = True,
    stop_processing: bool = False,
    expression: str = "",
    destinations: Sequence[DestinationSpec] = (),
) -> PaymentRule:
    """Create a rule with its destinations and methods; a rule needs at least one method."""
    if not methods:
        raise ValidationError(gettext("A payment rule needs at least one method."))
    rule = PaymentRule(
        name=name,
        currency=currency,
        sort_order=sort_order,
        enabled=enabled,
        stop_processing=stop_processing,
        expression=expression,
    )
    rule.full_clean()
    rule.save()
    for spec in destinations:
        destination = RuleDestination(rule=rule, country=spec.country, region=spec.region)
        destination.full_clean()
        destination.save()
        set_postal_codes(destination=destination, postal_codes=spec.postal_codes)
    for method in methods:
        config = RuleMethod(rule=rule, integration=method.integration, options=method.options)
        config.full_clean()
        config.save()
    return rule


@transaction.atomic
def set_postal_codes(*, destination: RuleDestination, postal_codes: Iterable[str]) -> None:
    """Make the destination's postal codes exactly these (normalized, each once)."""
    wanted = {normalize_postal_code(code) for code in postal_codes} - {""}
    too_long = sorted(code for code in wanted if len(code) > 32)
    if too_long:
        raise ValidationError(
            gettext("Postal codes are at most 32 characters: %(codes)s")
            % {"codes": ", ".join(too_long)}
        )
    existing = set(destination.postal_codes.values_list("postal_code", flat=True))
    destination.postal_codes.exclude(postal_code__in=wanted).delete()
    RuleDestinationPostalCode.objects.bulk_create(
        RuleDestinationPostalCode(destination=destination, postal_code=code)
        for code in sorted(wanted - existing)
    )


@transaction.atomic
def set_rules_enabled(*, rules: QuerySet[PaymentRule], enabled: bool) -> int:
    """Enable or disable rules; return how many changed."""
    return rules.exclude(enabled=enabled).update(enabled=enabled)
