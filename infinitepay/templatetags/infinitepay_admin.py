"""Coloured badges for guarantee states and API call outcomes, and a guarantee's timeline."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, gettext_noop
from lxml import etree

from infinitepay import selectors, wording
from infinitepay.models import ApiCall, Guarantee
from infinitepay.states import State, Step

register = template.Library()

RED, AMBER, GREEN, DARK_GREEN, BLUE, GREY = (
    "#ba2121",
    "#b25e00",
    "#2e7d32",
    "#1b5e20",
    "#2f6db0",
    "#6b6b6b",
)
STATE_COLOURS = {
    State.NEW: GREY,
    State.RESERVED: BLUE,
    State.CAPTURED: BLUE,
    State.ACTIVATED: GREEN,
    State.SETTLED: DARK_GREEN,
    State.DECLINED: AMBER,
    State.ACTIVATION_DENIED: AMBER,
    State.CANCELED: GREY,
}
OUTCOME_COLOURS = {
    ApiCall.Outcome.APPROVED: GREEN,
    ApiCall.Outcome.DENIED: AMBER,
    ApiCall.Outcome.TRANSIENT: AMBER,
    ApiCall.Outcome.AUTH_FAILED: RED,
    ApiCall.Outcome.REJECTED: RED,
    ApiCall.Outcome.MALFORMED: RED,
}


def badge(text: str, colour: str) -> SafeString:
    # An inline block: one line where it fits, and in a narrow column (a list at 1280 pixels,
    # a long German step name) it wraps between words instead of pushing columns off screen.
    return format_html(
        '<span style="background:{};color:#fff;padding:1px 7px;border-radius:9px;'
        'font-size:11px;font-weight:600;display:inline-block">{}</span>',
        colour,
        text,
    )


@register.filter
def state_badge(state: str) -> SafeString:
    state = State(state)
    return badge(str(state.label), STATE_COLOURS[state])


@register.filter
def failed_badge(step: str) -> SafeString:
    """The failed mark beside the state: which step failed."""
    if not step:
        return SafeString("")
    return badge((gettext("%(step)s failed") % {"step": Step(step).label}).upper(), RED)


@register.filter
def outcome_badge(outcome: str) -> SafeString:
    outcome = ApiCall.Outcome(outcome)
    return badge(str(outcome.label), OUTCOME_COLOURS[outcome])


@register.filter
def failure_reason(reason: str) -> str:
    """`{{ guarantee.failure_reason|failure_reason }}`: why a step failed, in the reader's words."""
    return wording.failure_reason(reason)


@register.filter
def call_outcome_badge(call: ApiCall) -> SafeString:
    """A call's outcome; a check status that found nothing says so, it denied nothing."""
    if call.step == Step.CHECK_STATUS and call.outcome == ApiCall.Outcome.DENIED:
        return badge(gettext(NOTHING_HELD), GREY)
    return outcome_badge(call.outcome)


NOTHING_HELD = gettext_noop("Not found at InfinitePay")


@register.filter
def call_answer(call: ApiCall) -> str:
    """What came back, in the wire's own terms: "HTTP 200 · STATUS 1 · 42 ms"."""
    return (
        f"HTTP {call.http_status or '—'} · STATUS {call.provider_status or '—'}"
        f" · {call.duration_ms} ms"
    )


@register.filter
def pretty_xml(xml: str) -> str:
    """`{{ call.request_xml|pretty_xml }}`: stored XML indented, one element a line.

    Read with entities and network access off; what does not parse is shown as stored.
    """
    if not xml:
        return xml
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False
    )
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser)
    except (etree.XMLSyntaxError, ValueError):
        return xml
    return etree.tostring(root, pretty_print=True, encoding="unicode")


@register.simple_tag
def guarantee_timeline(guarantee: Guarantee) -> list[selectors.TimelineEntry]:
    """`{% guarantee_timeline guarantee as timeline %}`: its calls, events and ops actions."""
    return selectors.guarantee_timeline(guarantee=guarantee)
