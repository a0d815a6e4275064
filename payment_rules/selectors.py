"""Reads of payment rules: what checkout offers, and what removing integrations breaks."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext

from integrations.models import Integration

from . import evaluator
from .context import CheckoutContext
from .methods import PaymentMethod
from .models import PaymentRule, RuleMethod


def applicable_methods(
    *, context: CheckoutContext, exclude: Collection[str] = ()
) -> list[PaymentMethod]:
    """The payment methods to offer at checkout, in order; `exclude` drops identifiers."""
    return evaluator.evaluate(context=context, exclude=exclude).methods


def explain_rules(
    *, context: CheckoutContext, exclude: Collection[str] = ()
) -> evaluator.Evaluation:
    """The same evaluation, with every rule's outcome and the reason for it."""
    return evaluator.evaluate(context=context, exclude=exclude, explain=True)


def rules_losing_last_active_method(*, integration_ids: Collection[int]) -> QuerySet[PaymentRule]:
    """Rules that offer an active method now and none once these integrations are gone."""
    ids = list(integration_ids)
    active = Integration.Status.ACTIVE
    other_active_method = RuleMethod.objects.filter(
        rule=OuterRef("pk"), integration__status=active
    ).exclude(integration_id__in=ids)
    removed_active_method = RuleMethod.objects.filter(
        rule=OuterRef("pk"), integration__status=active, integration_id__in=ids
    )
    return (
        PaymentRule.objects.filter(Exists(removed_active_method))
        .exclude(Exists(other_active_method))
        .order_by("sort_order", "id")
    )


def describe_rules_losing_last_method(integration_ids: Collection[int]) -> list[str]:
    """One warning per rule that would offer nothing once these integrations are gone."""
    return [
        (
            gettext(
                "Payment rule %(name)s (%(currency)s, sort order %(sort_order)s) loses its "
                "last active method."
            )
            if rule.enabled
            else gettext(
                "Payment rule %(name)s (%(currency)s, sort order %(sort_order)s, disabled) "
                "loses its last active method."
            )
        )
        % {"name": repr(rule.name), "currency": rule.currency, "sort_order": rule.sort_order}
        for rule in rules_losing_last_active_method(integration_ids=integration_ids)
    ]
