"""The ops dashboard: what needs ops now, and how orders and calls went lately.

Every figure is an aggregate query (a handful in all, the same at any number of orders);
the charts are SVG drawn here on the server by pygal, with no script and nothing fetched
from elsewhere: the page works with no network and without JavaScript.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pygal  # type: ignore[import-untyped]
from babel.dates import format_skeleton
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from pygal.etree import etree  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from backoffice.money import format_money, format_number
from checkout.models import Payment

from . import selectors, wording
from .models import ApiCall, InfinitePayIntegration
from .operations import Operation
from .states import State
from .templatetags.infinitepay_admin import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    RED,
    STATE_COLOURS,
)

DAYS = 30
HOURS = 24
LARGEST_DEBTORS = 10
PAYMENT_COLOURS = {
    Payment.Status.PAID_IN_FULL: GREEN,
    Payment.Status.PENDING: BLUE,
    Payment.Status.DECLINED: AMBER,
    Payment.Status.CANCELED: GREY,
}
# The calls chart tells outcomes apart by colour alone, where a badge has its text: the
# outcomes that share a badge colour (denied and transient; the three errors) get a shade each.
CALL_CHART_COLOURS = {
    ApiCall.Outcome.APPROVED: GREEN,
    ApiCall.Outcome.DENIED: AMBER,
    ApiCall.Outcome.TRANSIENT: "#e3a21a",
    ApiCall.Outcome.AUTH_FAILED: RED,
    ApiCall.Outcome.REJECTED: "#7b1fa2",
    ApiCall.Outcome.MALFORMED: "#5d4037",
}


@dataclass(frozen=True)
class Tile:
    """One figure at the top of the dashboard, a link to the guarantees it counts."""

    label: str
    number: int
    url: str
    alarm: bool = False
    note: str = ""


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    """The ops dashboard; for staff who may see guarantees (both roles may)."""
    if not request.user.has_perm("infinitepay.view_guarantee"):
        raise PermissionDenied(
            gettext("The dashboard shows guarantees: it needs the view permission.")
        )
    now = timezone.now()
    counts = selectors.guarantee_state_counts()
    attention = selectors.attention(now=now)
    exposure = selectors.open_exposure(largest_debtors=LARGEST_DEBTORS)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Dashboard"),
        "tiles": tiles(counts, attention),
        "orders_chart": orders_chart(selectors.orders_per_day(days=DAYS, now=now)),
        "calls_chart": calls_chart(selectors.calls_per_hour(hours=HOURS, now=now)),
        "states_chart": states_chart(counts.by_state),
        **integration_calls_charts(selectors.calls_by_integration(hours=HOURS, now=now)),
        "exposure_chart": exposure_chart(
            exposure.by_integration, title=gettext("Open exposure per integration")
        ),
        "debtors_chart": exposure_chart(
            exposure.largest_debtors,
            title=gettext("Open exposure of the %(count)d largest debtors")
            % {"count": LARGEST_DEBTORS},
        ),
        "failed_groups": failed_groups(),
        "activation_denials": list(selectors.activation_denials()),
        "overdue_activations": list(selectors.overdue_activations(now=now)),
        "stuck_in_flight": list(selectors.stuck_in_flight(now=now)),
        "may_cancel": request.user.has_perm(f"infinitepay.{Operation.CANCEL.permission}"),
        "health": integrations_health(),
        "days": DAYS,
        "hours": HOURS,
        "now": now,
    }
    return TemplateResponse(request, "admin/infinitepay/dashboard.html", context)


def tiles(counts: selectors.StateCounts, attention: selectors.Attention) -> list[Tile]:
    guarantees = reverse("admin:infinitepay_guarantee_changelist")
    held = " · ".join(
        format_money(held.amount, held.currency) for held in attention.activation_denied
    )
    return [
        Tile(
            gettext("Failed steps"),
            counts.failed,
            f"{guarantees}?failed=yes",
            alarm=counts.failed > 0,
        ),
        Tile(
            gettext("Stuck"),
            attention.stuck,
            f"{guarantees}?under_way=yes",
            alarm=attention.stuck > 0,
            note=gettext("queued or in flight too long"),
        ),
        Tile(gettext("Under way"), counts.under_way, f"{guarantees}?under_way=yes"),
        Tile(
            gettext("Awaiting activation"),
            counts.by_state[State.CAPTURED],
            f"{guarantees}?state__exact={State.CAPTURED.value}",
            note=gettext("captured: activate once shipped"),
        ),
        Tile(
            gettext("Activation denied"),
            counts.by_state[State.ACTIVATION_DENIED],
            f"{guarantees}?state__exact={State.ACTIVATION_DENIED.value}",
            alarm=counts.by_state[State.ACTIVATION_DENIED] > 0,
            note=gettext("holding %(amounts)s: cancel to release") % {"amounts": held}
            if held
            else "",
        ),
        Tile(
            gettext("Errors in the last hour"),
            attention.errors_last_hour,
            reverse("admin:infinitepay_apicall_changelist"),
            alarm=attention.errors_last_hour > 0,
            note=gettext("calls with no usable answer"),
        ),
    ]


@dataclass(frozen=True)
class FailedLine:
    """One reason steps failed for, as the dashboard lists it: a link to those guarantees."""

    reason: str
    step: str
    count: int
    oldest: datetime
    url: str


def failed_groups() -> list[FailedLine]:
    """Each step and reason that steps failed for, with a link to the guarantees it counts."""
    guarantees = reverse("admin:infinitepay_guarantee_changelist")
    return [
        FailedLine(
            reason=wording.failure_reason(group.reason),
            step=str(group.step.label),
            count=group.count,
            oldest=group.oldest,
            url=f"{guarantees}?{urlencode({'failed': group.step.value, 'reason': group.reason})}",
        )
        for group in selectors.failed_by_reason()
    ]


def integrations_health() -> list[dict[str, Any]]:
    """Each InfinitePay integration with its health line, as the integrations list has it."""
    integrations = list(InfinitePayIntegration.objects.order_by("name").values_list("pk", "name"))
    health = selectors.integration_health(integration_ids=[pk for pk, _ in integrations])
    return [{"name": name, "health": health.get(pk)} for pk, name in integrations]


# --- Charts --------------------------------------------------------------------------------


def orders_chart(per_day: Mapping[date, Mapping[str, int]]) -> SafeString:
    days = sorted(per_day)
    series = {
        status: [per_day[day].get(status.value, 0) for day in days] for status in Payment.Status
    }
    chart = _stacked_bars(
        [(str(status.label), PAYMENT_COLOURS[status], counts) for status, counts in series.items()]
    )
    chart.title = gettext("Orders per day, last %(count)d days, by payment status") % {
        "count": len(days)
    }
    chart.x_labels = [_day_label(day) for day in days]
    chart.x_labels_major = chart.x_labels[::7]
    _value_axis(chart, max((sum(per_day[day].values()) for day in days), default=0))
    return _svg(chart)


def calls_chart(per_hour: Mapping[datetime, Mapping[str, int]]) -> SafeString:
    hours = sorted(per_hour)
    series = {
        outcome: [per_hour[hour].get(outcome.value, 0) for hour in hours]
        for outcome in ApiCall.Outcome
    }
    chart = _stacked_bars(
        [
            (str(outcome.label), CALL_CHART_COLOURS[outcome], counts)
            for outcome, counts in series.items()
        ]
    )
    chart.title = gettext("Calls to InfinitePay per hour, last %(count)d hours, by outcome") % {
        "count": len(hours)
    }
    chart.x_labels = [hour.strftime("%H:00") for hour in hours]
    chart.x_labels_major = chart.x_labels[::6]
    _value_axis(chart, max((sum(per_hour[hour].values()) for hour in hours), default=0))
    return _svg(chart)


def states_chart(by_state: Mapping[State, int]) -> SafeString:
    chart = _chart(pygal.HorizontalBar, colours=[GREY])
    chart.title = gettext("Guarantees by state")
    chart.show_legend = False
    chart.x_labels = [str(state.label) for state in State]
    chart.add(
        gettext("guarantees"),
        [{"value": by_state[state], "color": STATE_COLOURS[state]} for state in State],
    )
    _value_axis(chart, max(by_state.values(), default=0))
    return _svg(chart)


def integration_calls_charts(calls: list[selectors.IntegrationCalls]) -> dict[str, SafeString]:
    """The failure rate and the average call time of each integration, a chart each."""
    names = [
        ngettext("%(name)s (%(count)s call)", "%(name)s (%(count)s calls)", row.calls)
        % {"name": row.integration, "count": format_number(row.calls)}
        for row in calls
    ]
    failures = _chart(pygal.HorizontalBar, colours=[AMBER])
    failures.title = gettext(
        "Calls with no usable answer, last %(count)d hours, per integration (%%)"
    ) % {"count": HOURS}
    failures.show_legend = False
    failures.x_labels = names
    rates = [round(row.failure_rate * 100, 1) for row in calls]
    if calls:
        failures.add(gettext("failed"), rates)
    _value_axis(failures, max(rates, default=0), whole=False)
    latency = _chart(pygal.HorizontalBar, colours=[BLUE])
    latency.title = gettext("Average call time, last %(count)d hours, per integration (ms)") % {
        "count": HOURS
    }
    latency.show_legend = False
    latency.x_labels = names
    averages = [round(row.average_ms, 1) for row in calls]
    if calls:
        latency.add(gettext("ms"), averages)
    _value_axis(latency, max(averages, default=0), whole=False)
    return {"failures_chart": _svg(failures), "latency_chart": _svg(latency)}


def exposure_chart(exposure: list[selectors.Exposure], *, title: str) -> SafeString:
    """Limits held by guarantees reserved or captured, not yet activated: one bar each."""
    chart = _chart(pygal.HorizontalBar, colours=[BLUE])
    chart.title = title
    chart.show_legend = False
    chart.x_labels = [f"{row.name} ({row.currency})" for row in exposure]
    amounts = [float(row.amount) for row in exposure]
    if exposure:
        chart.add(gettext("open"), amounts)
    _value_axis(chart, max(amounts, default=0), whole=False)
    return _svg(chart)


def _day_label(day: date) -> str:
    """A day without its year as the active language writes it: "1. Dez." or "Dec 1".

    Babel knows each language's short pattern (Django's formats have none without the year).
    """
    locale = translation.to_locale(translation.get_language() or "en")
    return format_skeleton("MMMd", day, locale=locale)


def _stacked_bars(series: list[tuple[str, str, list[int]]]) -> Any:
    """Stacked bars of the series that have any count: (label, colour, counts).

    A series of zeros says nothing and costs drawing time (pygal draws every bar).
    """
    shown = [(label, colour, counts) for label, colour, counts in series if any(counts)]
    chart = _chart(pygal.StackedBar, colours=[colour for _, colour, _ in shown])
    for label, _, counts in shown:
        chart.add(label, counts)
    return chart


def _chart(kind: Any, *, colours: list[str]) -> Any:
    style = Style(
        background="transparent",
        plot_background="transparent",
        foreground="#333",
        foreground_strong="#333",
        foreground_subtle="#ddd",
        opacity="1",
        opacity_hover=".8",
        colors=tuple(colours) or (GREY,),
        font_family="inherit",
        title_font_size=15,
        label_font_size=11,
        major_label_font_size=11,
        legend_font_size=12,
        # "Nothing yet" in an empty chart: a quiet line, not pygal's 64-pixel banner.
        no_data_font_size=16,
    )
    return kind(
        style=style,
        width=640,
        height=300,
        # No script of pygal's (it would be fetched from elsewhere): a plain, static SVG.
        js=[],
        disable_xml_declaration=True,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        show_minor_x_labels=False,
        truncate_label=-1,
        truncate_legend=-1,
        print_zeroes=False,
        no_data_text=gettext("Nothing yet"),
    )


def _value_axis(chart: Any, top: float, *, whole: bool = True) -> None:
    """At most six distinct marks from 0 to at least `top`, each written once.

    The step is 1, 2 or 5 times a power of ten, so the marks are round numbers; counts
    (`whole`) never step by less than 1. Marks are written with as many decimals as the
    step has, in the language's format, so no two read the same ("0, 0, 1, 1").
    A chart with nothing to show has no marks: it says "Nothing yet".
    """
    if not chart.raw_series:
        # pygal would write "0" along an empty axis (a horizontal chart's values run along x).
        if isinstance(chart, pygal.HorizontalBar):
            chart.show_x_labels = False
        else:
            chart.show_y_labels = False
        return
    step = _round_step(max(float(top), 0) / 5 or 1)
    if whole:
        step = max(step, 1)
    decimals = -math.floor(math.log10(step)) if step < 1 else 0
    marks = [0.0]
    while marks[-1] < top or len(marks) < 2:
        marks.append(round(marks[-1] + step, decimals))
    chart.y_labels = marks
    chart.y_labels_major = marks  # each mark written; pygal would skip the "minor" ones
    chart.value_formatter = lambda value: format_number(value, decimals)


def _round_step(rough: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least `rough`."""
    power = 10 ** math.floor(math.log10(rough))
    return next(factor * power for factor in (1, 2, 5, 10) if factor * power >= rough)


def _svg(chart: Any) -> SafeString:
    """The chart as SVG to put in the page, without the script pygal adds for its tooltips."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == "script":
                parent.remove(child)
    # pygal writes every label and value through its XML library, escaped.
    return mark_safe(etree.tostring(tree, encoding="unicode"))  # noqa: S308
