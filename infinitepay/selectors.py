"""Reads of the guarantee pipeline."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.timesince import timesince

from checkout.models import Payment

from .models import ApiCall, Guarantee, InfinitePayIntegration
from .states import State

BUYER_WORDS = {
    State.DECLINED: "InfinitePay could not guarantee this invoice",
    State.ACTIVATION_DENIED: "InfinitePay did not guarantee the invoice",
}


def payment_status(*, payment: Payment) -> str:
    """The payment's status in Oro's words, with the reason in our words when declined.

    The provider's own text is for ops: it may be technical, or echo what we sent.
    """
    words = payment.get_status_display()
    if payment.status != Payment.Status.DECLINED:
        return words
    guarantee = Guarantee.objects.filter(payment=payment).only("state").first()
    if guarantee is None:
        return words
    return f"{words}: {BUYER_WORDS.get(State(guarantee.state), '')}."


# --- The back office ---------------------------------------------------------------------


@dataclass(frozen=True)
class StateCounts:
    """How many guarantees are in each state, and how many have a step under way."""

    by_state: dict[State, int]
    under_way: int
    failed: int  # guarantees with a failed step, whatever their state


def guarantee_state_counts() -> StateCounts:
    """Count the guarantees per state in one aggregate query."""
    under_way = ~Q(pending_step="") | ~Q(step_in_flight="")
    counts = Guarantee.objects.aggregate(
        under_way=Count("pk", filter=under_way),
        failed=Count("pk", filter=~Q(failed_step="")),
        **{state.value: Count("pk", filter=Q(state=state)) for state in State},
    )
    return StateCounts(
        by_state={state: counts[state.value] for state in State},
        under_way=counts["under_way"],
        failed=counts["failed"],
    )


def integration_health(
    *, integration_ids: Collection[int], now: datetime | None = None
) -> dict[int, str]:
    """One line of health per InfinitePay integration, all of them in one query.

    Errors are calls that got no answer or a faulty one; a business denial is an answer.
    """
    now = now or timezone.now()
    calls = ApiCall.objects.filter(guarantee__integration=OuterRef("pk")).order_by()
    last_success = calls.filter(outcome=ApiCall.Outcome.APPROVED).order_by("-created_at")
    recent_errors = calls.filter(created_at__gte=now - timedelta(hours=1)).exclude(
        outcome__in=[ApiCall.Outcome.APPROVED, ApiCall.Outcome.DENIED]
    )
    failed = Guarantee.objects.filter(integration=OuterRef("pk")).exclude(failed_step="").order_by()
    rows = (
        InfinitePayIntegration.objects.filter(pk__in=list(integration_ids))
        .annotate(
            last_success=Subquery(last_success.values("created_at")[:1]),
            recent_errors=Coalesce(Subquery(_count(recent_errors, "guarantee__integration")), 0),
            failed=Coalesce(Subquery(_count(failed, "integration")), 0),
        )
        .values_list("pk", "credentials_rejected_at", "last_success", "recent_errors", "failed")
    )
    return {
        pk: _health_line(now, rejected_at, last_success, recent_errors, failed)
        for pk, rejected_at, last_success, recent_errors, failed in rows
    }


def _count(queryset: QuerySet, group_by: str) -> QuerySet:
    return queryset.values(group_by).annotate(n=Count("pk")).values("n")


def _health_line(
    now: datetime,
    rejected_at: datetime | None,
    last_success: datetime | None,
    recent_errors: int,
    failed: int,
) -> str:
    problems = []
    if rejected_at is not None:
        problems.append(f"credentials rejected {_ago(rejected_at, now)}")
    if failed:
        problems.append(f"{failed} failed step(s)")
    if recent_errors:
        problems.append(f"{recent_errors} error(s) in the last hour")
    if last_success is None:
        success = "no successful call yet"
    else:
        success = f"last successful call {_ago(last_success, now)}"
    return " · ".join(["Problem: " + ", ".join(problems) if problems else "OK", success])


def _ago(moment: datetime, now: datetime) -> str:
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago"
