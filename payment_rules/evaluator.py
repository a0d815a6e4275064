"""Turn a checkout context into the ordered list of applicable payment methods.

OroCommerce's five steps, kept exactly:
1. no currency: no methods;
2. database pre-filter: the currency, and no destinations or one matching the billing
   country, region (if set) and postal code (if any listed); without a billing address only
   rules without destinations;
3. drop disabled rules and rules whose expression is false or fails (failures are logged);
4. order by sort order, then id (older first), and keep rules up to and including the first
   one with "stop further processing";
5. union their methods in that order, each once, keeping only methods whose integration is
   active and whose type finds it applicable.

Step 2 and the "disabled" part of step 3 are one indexed query (payment_rules.prefilter);
it also leaves out the rules after the first matching one that stops processing without
an expression, since step 4 would cut them off anyway. Steps 3 and 4 walk the rules in
order and stop at the first applied "stop further processing" rule, so expressions of
rules that would be cut off are not evaluated. The methods of the kept rules and their
integrations come in two more queries, however many rules there are. With `explain=True`
the same steps run over every rule and record, rule by rule, why it did or did not apply:
the rule simulator shows that trace.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integrations import registry
from integrations.models import Integration

from . import expressions, prefilter
from .context import CheckoutContext
from .methods import PaymentMethod
from .models import RuleMethod
from .prefilter import RuleRow

logger = logging.getLogger(__name__)


class RuleOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    WRONG_CURRENCY = "wrong_currency", _("Wrong currency")
    DESTINATION_MISMATCH = "destination_mismatch", _("Destination does not match")
    DISABLED = "disabled", _("Disabled")
    EXPRESSION_FALSE = "expression_false", _("Expression is false")
    EXPRESSION_ERROR = "expression_error", _("Expression failed")
    CUT_OFF = "cut_off", _("Cut off by an earlier rule that stops further processing")


class MethodOutcome(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ALREADY_OFFERED = "already_offered", _("Already offered by an earlier rule")
    INTEGRATION_INACTIVE = "integration_inactive", _("Left out: the integration is inactive")
    NOT_APPLICABLE = "not_applicable", _("Left out: not applicable to this checkout")
    EXCLUDED = "excluded", _("Left out: excluded for this checkout (e.g. after a decline)")


@dataclass(frozen=True)
class MethodTrace:
    identifier: str
    integration_name: str
    outcome: MethodOutcome
    detail: str = ""


@dataclass(frozen=True)
class RuleTrace:
    rule_id: int
    name: str
    sort_order: int
    currency: str
    outcome: RuleOutcome
    detail: str = ""
    stops_processing: bool = False  # this applied rule cut off the rules after it
    methods: tuple[MethodTrace, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    methods: list[PaymentMethod]
    trace: list[RuleTrace]  # empty unless explained


def evaluate(
    *, context: CheckoutContext, exclude: Collection[str] = (), explain: bool = False
) -> Evaluation:
    """Run the five steps; with `explain`, also say for every rule why it (did not) apply."""
    currency = context.currency.strip().upper()
    if not currency:
        return Evaluation(methods=[], trace=[])

    billing = context.billing_address
    traces: dict[int, RuleTrace] = {}
    candidates = []
    if explain:
        rules = prefilter.all_rules_explained(currency=currency, billing_address=billing)
    else:
        rules = prefilter.matching_rules(currency=currency, billing_address=billing)
    for rule in rules:
        outcome = _prefilter_outcome(rule) if explain else None
        if outcome is None:
            candidates.append(rule)
        else:
            traces[rule.id] = _rule_trace(rule, outcome)

    kept = _apply_expressions_and_stop(context, candidates, traces, explain=explain)
    methods_by_rule = _methods_of(rule.id for rule in kept)
    methods = _union_methods(context, kept, methods_by_rule, set(exclude), traces)

    if not explain:
        return Evaluation(methods=methods, trace=[])
    trace = sorted(traces.values(), key=lambda rule: (rule.sort_order, rule.rule_id))
    return Evaluation(methods=methods, trace=trace)


def _prefilter_outcome(rule: RuleRow) -> RuleOutcome | None:
    if not rule.currency_matches:
        return RuleOutcome.WRONG_CURRENCY
    if not rule.destination_matches:
        return RuleOutcome.DESTINATION_MISMATCH
    if not rule.enabled:
        return RuleOutcome.DISABLED
    return None


# Steps 3 and 4: expressions, then the cut after the first "stop further processing".


def _apply_expressions_and_stop(
    context: CheckoutContext,
    candidates: list[RuleRow],
    traces: dict[int, RuleTrace],
    *,
    explain: bool,
) -> list[RuleRow]:
    kept: list[RuleRow] = []
    variables: dict[str, Any] | None = None
    stopped_by: RuleRow | None = None
    for rule in candidates:
        if stopped_by is not None:
            if not explain:
                break
            detail = gettext("Cut off by %(rule)s.") % {"rule": repr(stopped_by.name)}
            traces[rule.id] = _rule_trace(rule, RuleOutcome.CUT_OFF, detail)
            continue
        if rule.expression:
            if variables is None:
                variables = expressions.variables_for(context)
            outcome, detail = _check_expression(rule, variables)
            if outcome is not None:
                traces[rule.id] = _rule_trace(rule, outcome, detail)
                continue
        kept.append(rule)
        if rule.stop_processing:
            stopped_by = rule
    return kept


def _check_expression(rule: RuleRow, variables: dict[str, Any]) -> tuple[RuleOutcome | None, str]:
    try:
        if expressions.matches(rule.expression, variables):
            return None, ""
    except Exception as error:  # a broken rule must never break checkout
        message = (
            expressions.describe_error(error)
            if not isinstance(error, expressions.ExpressionError)
            else str(error)
        )
        logger.warning(
            "Payment rule %s (%r) dropped: its expression failed: %s",
            rule.id,
            rule.name,
            message,
        )
        return RuleOutcome.EXPRESSION_ERROR, message
    return RuleOutcome.EXPRESSION_FALSE, ""


# Step 5: the union of the kept rules' methods.


@dataclass(frozen=True)
class _MethodConfig:
    integration: Integration
    options: Any


def _methods_of(rule_ids: Iterable[int]) -> dict[int, list[_MethodConfig]]:
    """The method configurations of these rules: two queries, whatever their number.

    Configurations come as plain rows and each integration once, since thousands of rules
    share a handful of integrations.
    """
    ids = list(rule_ids)
    by_rule: dict[int, list[_MethodConfig]] = {rule_id: [] for rule_id in ids}
    if not ids:
        return by_rule
    rows = list(
        RuleMethod.objects.filter(rule_id__in=ids)
        .order_by("id")
        .values_list("rule_id", "integration_id", "options")
    )
    integrations = Integration.objects.in_bulk({integration_id for _, integration_id, _ in rows})
    for rule_id, integration_id, options in rows:
        by_rule[rule_id].append(_MethodConfig(integrations[integration_id], options))
    return by_rule


def _union_methods(
    context: CheckoutContext,
    kept: list[RuleRow],
    methods_by_rule: dict[int, list[_MethodConfig]],
    exclude: set[str],
    traces: dict[int, RuleTrace],
) -> list[PaymentMethod]:
    offered: dict[str, PaymentMethod] = {}
    applicability: dict[int, tuple[bool, str]] = {}
    for index, rule in enumerate(kept):
        method_traces = []
        for config in methods_by_rule[rule.id]:
            integration = config.integration
            identifier = integration.method_identifier
            if identifier in offered:
                outcome, detail = MethodOutcome.ALREADY_OFFERED, ""
            elif not integration.is_active:
                outcome, detail = MethodOutcome.INTEGRATION_INACTIVE, ""
            elif identifier in exclude:
                outcome, detail = MethodOutcome.EXCLUDED, ""
            else:
                if integration.pk not in applicability:
                    applicability[integration.pk] = _is_applicable(integration, context)
                applicable, detail = applicability[integration.pk]
                outcome = MethodOutcome.OFFERED if applicable else MethodOutcome.NOT_APPLICABLE
            if outcome is MethodOutcome.OFFERED:
                offered[identifier] = _payment_method(integration, config.options)
            method_traces.append(MethodTrace(identifier, integration.name, outcome, detail))
        stops = bool(rule.stop_processing) and index == len(kept) - 1
        traces[rule.id] = _rule_trace(
            rule, RuleOutcome.APPLIED, stops_processing=stops, methods=tuple(method_traces)
        )
    return list(offered.values())


def _is_applicable(integration: Integration, context: CheckoutContext) -> tuple[bool, str]:
    try:
        return bool(integration.integration_type.is_applicable(integration, context)), ""
    except registry.UnknownIntegrationType:
        logger.error("Integration %s has an unregistered type %r", integration.pk, integration.type)
        return False, gettext("Unknown integration type %(type)s.") % {
            "type": repr(integration.type)
        }
    except Exception:  # a faulty type must not break checkout for the other methods
        logger.exception("Applicability check of integration %s failed", integration.pk)
        return False, gettext("The applicability check failed (see the logs).")


def _payment_method(integration: Integration, options: Any) -> PaymentMethod:
    return PaymentMethod(
        identifier=integration.method_identifier,
        integration_id=integration.pk,
        type_key=integration.type,
        label=integration.label,
        short_label=integration.short_label,
        options=dict(options) if isinstance(options, dict) else {},
    )


def _rule_trace(
    rule: RuleRow,
    outcome: RuleOutcome,
    detail: str = "",
    *,
    stops_processing: bool = False,
    methods: tuple[MethodTrace, ...] = (),
) -> RuleTrace:
    return RuleTrace(
        rule_id=rule.id,
        name=rule.name,
        sort_order=rule.sort_order,
        currency=rule.currency,
        outcome=outcome,
        detail=detail,
        stops_processing=stops_processing,
        methods=methods,
    )
