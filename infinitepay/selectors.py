"""Reads of the guarantee pipeline."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Avg, Count, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate, TruncHour
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy, ngettext

from backoffice.money import format_number
from checkout.models import Customer, Order, Payment
from integrations.registry import Health

from . import wording
from .models import ApiCall, Guarantee, GuaranteeEvent, InfinitePayIntegration
from .states import State, Step

BUYER_WORDS = {
    State.DECLINED: gettext_lazy("InfinitePay could not guarantee this invoice"),
    State.ACTIVATION_DENIED: gettext_lazy("InfinitePay did not guarantee the invoice"),
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
    reason = BUYER_WORDS.get(State(guarantee.state))
    if reason is None:
        return words
    return gettext("%(status)s: %(reason)s.") % {"status": words, "reason": reason}


# --- The back office ---------------------------------------------------------------------


@dataclass(frozen=True)
class StateCounts:
    """How many guarantees are in each state, and how many have a step under way."""

    by_state: dict[State, int]
    under_way: int
    failed: int  # guarantees with a failed step, whatever their state


# A step of the guarantee is queued or in flight.
UNDER_WAY = ~Q(pending_step="") | ~Q(step_in_flight="")


def guarantee_state_counts() -> StateCounts:
    """Count the guarantees per state in one aggregate query."""
    counts = Guarantee.objects.aggregate(
        under_way=Count("pk", filter=UNDER_WAY),
        failed=Count("pk", filter=~Q(failed_step="")),
        **{state.value: Count("pk", filter=Q(state=state)) for state in State},
    )
    return StateCounts(
        by_state={state: counts[state.value] for state in State},
        under_way=counts["under_way"],
        failed=counts["failed"],
    )


# Outcomes that are answers, whatever they say: a denial is InfinitePay's business decision.
ERROR_FREE = [ApiCall.Outcome.APPROVED, ApiCall.Outcome.DENIED]


def integration_health(
    *, integration_ids: Collection[int], now: datetime | None = None
) -> dict[int, Health]:
    """The health of each InfinitePay integration, its verdict and its line, in one query.

    Errors are calls that got no answer or a faulty one; a business denial is an answer.
    """
    now = now or timezone.now()
    calls = ApiCall.objects.filter(guarantee__integration=OuterRef("pk")).order_by()
    last_success = calls.filter(outcome=ApiCall.Outcome.APPROVED).order_by("-created_at")
    recent_errors = calls.filter(created_at__gte=now - timedelta(hours=1)).exclude(
        outcome__in=ERROR_FREE
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
        pk: _health(now, rejected_at, last_success, recent_errors, failed)
        for pk, rejected_at, last_success, recent_errors, failed in rows
    }


def _count(queryset: QuerySet, group_by: str) -> QuerySet:
    return queryset.values(group_by).annotate(n=Count("pk")).values("n")


def _health(
    now: datetime,
    rejected_at: datetime | None,
    last_success: datetime | None,
    recent_errors: int,
    failed: int,
) -> Health:
    problems: list[str] = []
    if rejected_at is not None:
        problems.append(gettext("credentials rejected %(ago)s") % {"ago": _ago(rejected_at, now)})
    if failed:
        problems.append(
            ngettext("%(count)s failed step", "%(count)s failed steps", failed)
            % {"count": format_number(failed)}
        )
    if recent_errors:
        problems.append(
            ngettext(
                "%(count)s error in the last hour",
                "%(count)s errors in the last hour",
                recent_errors,
            )
            % {"count": format_number(recent_errors)}
        )
    if last_success is None:
        success = gettext("no successful call yet")
    else:
        success = gettext("last successful call %(ago)s") % {"ago": _ago(last_success, now)}
    if problems:
        verdict = gettext("Problem: %(problems)s") % {"problems": ", ".join(problems)}
    else:
        verdict = gettext("OK")
    return Health(ok=not problems, line=" · ".join([verdict, success]))


def _ago(moment: datetime, now: datetime) -> str:
    if now - moment < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment, now, depth=1)}


# --- A guarantee's timeline ----------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a guarantee's story: a provider call, an event, or an ops action."""

    at: datetime
    kind: str  # "placed", "call", "event" or "ops"
    title: str
    text: str = ""  # in the reader's language
    detail: str = ""  # what InfinitePay or the connection said, as it came
    who: str = ""  # the person who asked for it; empty for the pipeline's own doing
    call: ApiCall | None = None


def guarantee_timeline(*, guarantee: Guarantee) -> list[TimelineEntry]:
    """Everything that happened to a guarantee, newest first, in three queries.

    Provider calls (`ApiCall`), the pipeline's events (`GuaranteeEvent`) and what ops asked
    for (the admin's log of the guarantee: who and when) are merged by time.
    """
    entries = [
        TimelineEntry(
            at=guarantee.created_at,
            kind="placed",
            title=gettext("Order placed"),
            text=gettext("Guarantee %(state)s; %(step)s queued.")
            % {"state": State.NEW.label, "step": Step.RESERVE.label},
        )
    ]
    entries += [
        TimelineEntry(at=call.created_at, kind="call", title=call.operation, call=call)
        for call in guarantee.api_calls.all()
    ]
    entries += [
        TimelineEntry(
            at=event.at,
            kind="event",
            title=event.get_kind_display(),
            text=wording.describe(event.text, event.params),
            detail=str(event.params.get("detail", "")),
            who=event.user.get_username() if event.user else "",
        )
        for event in GuaranteeEvent.objects.filter(guarantee=guarantee).select_related("user")
    ]
    entries += [
        TimelineEntry(
            at=entry.action_time,
            kind="ops",
            title=gettext("Ops action"),
            # Operations log their msgid (operations.LOGGED); Django's own are JSON it reads.
            text=wording.describe(entry.get_change_message()),
            who=str(entry.user),
        )
        for entry in LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Guarantee),
            object_id=str(guarantee.pk),
        ).select_related("user")
    ]
    # Newest first: what ops came for is at the top. Entries of the same moment keep the
    # order they happened in, reversed with the rest (a stable sort, then reversed).
    return sorted(entries, key=lambda entry: entry.at)[::-1]


@dataclass(frozen=True)
class Progress:
    """Where a guarantee's pipeline stands, for its page to follow while a step runs."""

    under_way: bool
    version: str  # changes whenever the page would show something new


def guarantee_progress(*, guarantee: Guarantee) -> Progress:
    """Whether a step is queued or in flight, and a mark of the last change, in one query."""
    calls = guarantee.api_calls.aggregate(n=Count("pk"))["n"]
    stands = (
        guarantee.state,
        guarantee.pending_step,
        guarantee.step_in_flight,
        guarantee.failed_step,
        guarantee.attempts,
        calls,
    )
    return Progress(
        under_way=bool(guarantee.pending_step or guarantee.step_in_flight),
        version="/".join(str(part) for part in stands),
    )


# --- The ops dashboard ---------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """Guarantees in one state holding buyers' limits, with their amount in one currency."""

    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Attention:
    """What asks ops to act, counted in a few aggregate queries."""

    stuck: int  # a step queued or in flight for longer than the sweeper allows
    errors_last_hour: int  # calls that got no usable answer
    activation_denied: list[Held]  # limits held until ops cancel


def attention(*, now: datetime | None = None) -> Attention:
    """Stuck steps (by the pipeline's two indexes), recent errors, limits held after a denial."""
    now = now or timezone.now()
    pending_too_long = now - timedelta(seconds=settings.INFINITEPAY_PENDING_GRACE_SECONDS)
    in_flight_too_long = now - timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS)
    stuck = Guarantee.objects.filter(
        Q(pending_step__gt="", pending_since__lt=pending_too_long)
        | Q(step_in_flight__gt="", in_flight_since__lt=in_flight_too_long)
    ).count()
    errors = ApiCall.objects.filter(created_at__gte=now - timedelta(hours=1)).exclude(
        outcome__in=ERROR_FREE
    )
    denied = (
        Guarantee.objects.filter(state=State.ACTIVATION_DENIED)
        .values("payment__currency")
        .annotate(count=Count("pk"), amount=Sum("payment__amount"))
        .order_by("payment__currency")
    )
    return Attention(
        stuck=stuck,
        errors_last_hour=errors.count(),
        activation_denied=[
            Held(currency=row["payment__currency"], count=row["count"], amount=row["amount"])
            for row in denied
        ],
    )


@dataclass(frozen=True)
class FailedGroup:
    """The guarantees whose same step failed for the same reason."""

    step: Step
    reason: str  # the stored msgid (infinitepay.wording); shown translated
    count: int
    oldest: datetime  # when the longest-standing of them last changed


def failed_by_reason() -> list[FailedGroup]:
    """Failed steps grouped by step and reason, the largest group first, in one query.

    It reads only the guarantees with a failed step (the partial index holds just those).
    """
    rows = (
        Guarantee.objects.exclude(failed_step="")
        .values("failed_step", "failure_reason")
        .annotate(count=Count("pk"), oldest=Min("updated_at"))
        .order_by("-count", "failed_step", "failure_reason")
    )
    return [
        FailedGroup(
            step=Step(row["failed_step"]),
            reason=row["failure_reason"],
            count=row["count"],
            oldest=row["oldest"],
        )
        for row in rows
    ]


def activation_denials(*, limit: int = 10) -> QuerySet[Guarantee]:
    """Activation denials still holding buyers' limits, oldest first, with nothing under way."""
    return (
        Guarantee.objects.filter(state=State.ACTIVATION_DENIED, pending_step="", step_in_flight="")
        .select_related("payment__order__customer", "integration")
        .order_by("updated_at")[:limit]
    )


def overdue_activations(*, now: datetime | None = None, limit: int = 10) -> QuerySet[Guarantee]:
    """Captured guarantees not activated past their integration's shipping duration.

    Captured is a state nothing but activation or cancellation leaves, so the last change of
    a captured guarantee is its capture or later: a cheap bound that never calls one overdue
    too soon.
    """
    now = now or timezone.now()
    # One condition per shipping duration in use (a handful): plain comparisons on an index,
    # with no date arithmetic in SQL, which each database writes its own way.
    durations = InfinitePayIntegration.objects.values_list("shipping_duration", flat=True)
    past_shipping = Q(pk__in=[])
    for days in set(durations):
        past_shipping |= Q(
            integration__shipping_duration=days, updated_at__lt=now - timedelta(days=days)
        )
    return (
        Guarantee.objects.filter(past_shipping, state=State.CAPTURED)
        .select_related("payment__order__customer", "integration")
        .order_by("updated_at")[:limit]
    )


def stuck_in_flight(*, now: datetime | None = None, limit: int = 10) -> QuerySet[Guarantee]:
    """Steps in flight longer than their lease, oldest first (by the in-flight index)."""
    now = now or timezone.now()
    in_flight_too_long = now - timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS)
    return (
        Guarantee.objects.filter(step_in_flight__gt="", in_flight_since__lt=in_flight_too_long)
        .select_related("payment__order__customer", "integration")
        .order_by("in_flight_since")[:limit]
    )


def orders_per_day(*, days: int, now: datetime | None = None) -> dict[date, dict[str, int]]:
    """Orders placed on each of the last `days` days (shop time), by payment status.

    One grouped query over the orders' `created_at` index: the days asked for only.
    """
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())
    rows = (
        Order.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values("day", "current_payment__status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_day: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range(days)}
    for row in rows:
        status = row["current_payment__status"] or ""
        per_day.setdefault(row["day"], {})[status] = row["n"]
    return per_day


def calls_per_hour(*, hours: int, now: datetime | None = None) -> dict[datetime, dict[str, int]]:
    """Calls to InfinitePay in each of the last `hours` hours, by outcome, in one query."""
    now = timezone.localtime(now or timezone.now())
    last = now.replace(minute=0, second=0, microsecond=0)
    first = last - timedelta(hours=hours - 1)
    rows = (
        ApiCall.objects.filter(created_at__gte=first)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    per_hour: dict[datetime, dict[str, int]] = {
        first + timedelta(hours=i): {} for i in range(hours)
    }
    for row in rows:
        per_hour.setdefault(timezone.localtime(row["hour"]), {})[row["outcome"]] = row["n"]
    return per_hour


@dataclass(frozen=True)
class IntegrationCalls:
    """How one integration's calls to InfinitePay went over a window."""

    integration: str
    calls: int
    failure_rate: float  # the share of calls with no usable answer, 0 to 1
    average_ms: float


def calls_by_integration(*, hours: int, now: datetime | None = None) -> list[IntegrationCalls]:
    """Each integration's calls of the last `hours` hours: failure rate and average time."""
    since = (now or timezone.now()) - timedelta(hours=hours)
    rows = (
        ApiCall.objects.filter(created_at__gte=since)
        .values("guarantee__integration__name")
        .annotate(
            calls=Count("pk"),
            failed=Count("pk", filter=~Q(outcome__in=ERROR_FREE)),
            average_ms=Avg("duration_ms"),
        )
        .order_by("guarantee__integration__name")
    )
    return [
        IntegrationCalls(
            integration=row["guarantee__integration__name"],
            calls=row["calls"],
            failure_rate=row["failed"] / row["calls"],
            average_ms=float(row["average_ms"] or 0),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Exposure:
    """Limits held by guarantees reserved or captured, not yet activated, in one currency."""

    name: str
    currency: str
    amount: Decimal


@dataclass(frozen=True)
class OpenExposure:
    """What guarantees reserved or captured, not yet activated, hold: two views of it."""

    by_integration: list[Exposure]  # every integration, largest first
    largest_debtors: list[Exposure]  # the companies holding the most, largest first


def open_exposure(*, largest_debtors: int) -> OpenExposure:
    """Open exposure per integration and of the largest debtors, from one grouped query.

    The sums are grouped by ids (integration, company, currency), which needs no join to the
    companies' names; the names of the few shown are read afterwards, one small query each.
    """
    rows = (
        Guarantee.objects.filter(state__in=[State.RESERVED, State.CAPTURED])
        .values_list("payment__currency", "integration_id", "payment__order__customer_id")
        .annotate(amount=Sum("payment__amount"))
        .order_by()
    )
    per_integration: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    per_customer: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for currency, integration_id, customer_id, amount in rows:
        per_integration[(integration_id, currency)] += amount
        per_customer[(customer_id, currency)] += amount
    largest = sorted(per_customer.items(), key=lambda item: -item[1])[:largest_debtors]
    integration_names = dict(
        InfinitePayIntegration.objects.filter(pk__in={pk for pk, _ in per_integration}).values_list(
            "pk", "name"
        )
    )
    customer_names = dict(
        Customer.objects.filter(pk__in={pk for (pk, _), _ in largest}).values_list("pk", "name")
    )
    return OpenExposure(
        by_integration=_largest_first(
            Exposure(name=integration_names[pk], currency=currency, amount=amount)
            for (pk, currency), amount in per_integration.items()
        ),
        largest_debtors=_largest_first(
            Exposure(name=customer_names[pk], currency=currency, amount=amount)
            for (pk, currency), amount in largest
        ),
    )


def _largest_first(exposures: Iterable[Exposure]) -> list[Exposure]:
    return sorted(exposures, key=lambda exposure: (-exposure.amount, exposure.name))


# --- The step under way or failed, as ops count it -------------------------------------------


def step_attempts(*, guarantees: Collection[Guarantee]) -> dict[int, int]:
    """How many calls the step each guarantee is at (in flight, queued or failed) has made.

    Counted since the step's run began: the guarantee's last change of state, corrected
    debtor data, or the failure before (a Retry starts a run). `Guarantee.attempts` cannot
    tell this: the pipeline starts it again when it gives up on a step and asks InfinitePay
    for the status, so a step that failed after six calls would read "1". Two queries for
    any number of rows.
    """
    at_step = {
        g.pk: (g.step_in_flight or g.pending_step or g.failed_step, bool(g.failed_step))
        for g in guarantees
        if g.step_in_flight or g.pending_step or g.failed_step
    }
    if not at_step:
        return {}
    boundaries: dict[int, list[tuple[datetime, str]]] = {pk: [] for pk in at_step}
    for pk, kind, at in GuaranteeEvent.objects.filter(
        guarantee_id__in=at_step, kind__in=RUN_BOUNDARIES
    ).values_list("guarantee_id", "kind", "at"):
        boundaries[pk].append((at, kind))
    window: dict[int, tuple[datetime | None, datetime | None]] = {}
    for pk, (_, failed) in at_step.items():
        marks = sorted(boundaries[pk])
        end = None
        if failed and marks and marks[-1][1] == GuaranteeEvent.Kind.STEP_FAILED:
            end = marks.pop()[0]  # the failure that ended the run
        window[pk] = (marks[-1][0] if marks else None, end)
    counts = dict.fromkeys(at_step, 0)
    calls = ApiCall.objects.filter(guarantee_id__in=at_step).order_by()
    for pk, step, created_at in calls.values_list("guarantee_id", "step", "created_at"):
        start, end = window[pk]
        if (
            step == at_step[pk][0]
            and (start is None or created_at >= start)
            and (end is None or created_at <= end)
        ):
            counts[pk] += 1
    return counts


RUN_BOUNDARIES = [
    GuaranteeEvent.Kind.STATE_CHANGED,
    GuaranteeEvent.Kind.DEBTOR_CORRECTED,
    GuaranteeEvent.Kind.STEP_FAILED,
]
