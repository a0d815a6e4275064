"""A guarantee's timeline (calls, the pipeline's events, ops actions with who and when) and
its page following a step under way."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from infinitepay import selectors
from infinitepay.events import Kind, record_event
from infinitepay.models import ApiCall
from infinitepay.states import State, Step
from tests.factories import StaffUserFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db


def page_url(guarantee) -> str:
    return reverse("admin:infinitepay_guarantee_change", args=[guarantee.pk])


def progress_url(guarantee) -> str:
    return reverse("admin:infinitepay_guarantee_progress", args=[guarantee.pk])


def add_call(guarantee, outcome=ApiCall.Outcome.TRANSIENT, *, attempt=1, at=None) -> ApiCall:
    call = ApiCall.objects.create(
        guarantee=guarantee,
        operation="reserveOrder",
        step=Step.RESERVE,
        attempt=attempt,
        outcome=outcome,
        http_status=500 if outcome == ApiCall.Outcome.TRANSIENT else 200,
        request_xml="<reserveOrder>…</reserveOrder>",
        task_id=f"task-{attempt}",
    )
    if at is not None:
        ApiCall.objects.filter(pk=call.pk).update(created_at=at)
    return call


def test_the_timeline_merges_calls_events_and_ops_actions_by_time(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    guarantee = GuaranteeFactory(
        state=State.NEW, failed_step=Step.RESERVE, last_error_message="Gave up after 2 attempts"
    )
    start = timezone.now() - timedelta(minutes=10)
    type(guarantee).objects.filter(pk=guarantee.pk).update(created_at=start)
    guarantee.refresh_from_db()
    add_call(guarantee, attempt=1, at=start + timedelta(minutes=1))
    add_call(guarantee, attempt=2, at=start + timedelta(minutes=2))
    record_event(
        guarantee_id=guarantee.pk,
        kind=Kind.STEP_FAILED,
        text="Reserve failed: gave up after 2 attempts (HTTP 500).",
        at=start + timedelta(minutes=3),
    )
    # Ops retry from the guarantee's page: the admin's log keeps who and when.
    with django_capture_on_commit_callbacks(execute=False):
        admin_client.post(
            reverse("admin:infinitepay_guarantee_retry", args=[guarantee.pk]), {"confirm": "yes"}
        )

    timeline = selectors.guarantee_timeline(guarantee=guarantee)

    assert [(entry.kind, entry.title) for entry in timeline] == [
        ("ops", "Ops action"),
        ("event", "Step failed"),
        ("call", "reserveOrder"),
        ("call", "reserveOrder"),
        ("placed", "Order placed"),
    ]
    assert timeline[0].text == "Retry requested."
    assert timeline[0].who == admin_user.username
    assert timeline[1].who == ""  # the pipeline's own doing

    page = admin_client.get(page_url(guarantee)).content.decode()
    assert "Reserve failed: gave up after 2 attempts (HTTP 500)." in page
    assert "Retry requested." in page
    assert page.count('class="call-operation"') == 2
    assert "task-2" in page
    # Newest first: the retry, then the failure, then the calls that led to it.
    assert page.index("Retry requested.") < page.index("Step failed") < page.index("task-2")
    assert page.index("task-2") < page.index("task-1")


def test_an_event_keeps_who_asked_for_it(admin_user):
    guarantee = GuaranteeFactory()
    record_event(
        guarantee_id=guarantee.pk,
        kind=Kind.DEBTOR_CORRECTED,
        text="E-mail and legal form corrected; Reserve sent again.",
        user=admin_user,
    )
    (event,) = [e for e in selectors.guarantee_timeline(guarantee=guarantee) if e.kind == "event"]
    assert (event.title, event.who) == ("Debtor data corrected", admin_user.username)


def test_the_guarantee_page_runs_the_same_queries_for_2_or_20_calls(admin_client):
    guarantee = GuaranteeFactory(state=State.NEW, failed_step=Step.RESERVE)
    for attempt in (1, 2):
        add_call(guarantee, attempt=attempt)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(page_url(guarantee)).status_code == 200
        return len(captured)

    with_2 = queries()
    for attempt in range(3, 21):
        add_call(guarantee, attempt=attempt)
        record_event(guarantee_id=guarantee.pk, kind=Kind.SWEEPER, text="Taken over.")
    assert queries() == with_2


def test_the_page_follows_a_step_under_way_and_not_otherwise(admin_client):
    under_way = GuaranteeFactory(
        state=State.RESERVED, pending_step=Step.CAPTURE, pending_since=timezone.now()
    )
    settled = GuaranteeFactory(state=State.ACTIVATED)

    page = admin_client.get(page_url(under_way)).content.decode()
    assert "infinitepay/guarantee-live.js" in page
    live = re.search(r'<div id="guarantee-live"[^>]*>', page).group(0)
    assert f'data-progress-url="{progress_url(under_way)}"' in live
    assert "data-under-way" in live

    live = re.search(
        r'<div id="guarantee-live"[^>]*>', admin_client.get(page_url(settled)).content.decode()
    ).group(0)
    assert "data-under-way" not in live


def test_the_progress_answer_changes_when_a_call_is_recorded_and_says_when_the_step_ended(
    admin_client,
):
    guarantee = GuaranteeFactory(
        state=State.NEW, pending_step=Step.RESERVE, pending_since=timezone.now()
    )
    first = admin_client.get(progress_url(guarantee))
    assert first.status_code == 200
    assert "no-store" in first["Cache-Control"]  # never an old answer from a cache
    assert first.json()["under_way"] is True
    assert set(first.json()["parts"]) == {"summary", "timeline"}

    add_call(guarantee, ApiCall.Outcome.TRANSIENT)
    second = admin_client.get(progress_url(guarantee)).json()
    assert second["version"] != first.json()["version"]
    assert "reserveOrder" in second["parts"]["timeline"]

    guarantee.pending_step = ""
    guarantee.state = State.RESERVED
    guarantee.save()
    third = admin_client.get(progress_url(guarantee)).json()
    assert third["under_way"] is False
    assert "RESERVED" in third["parts"]["summary"]


def test_the_progress_answer_asked_with_the_version_shown_draws_nothing_until_it_changes(
    admin_client,
):
    guarantee = GuaranteeFactory(
        state=State.NEW, pending_step=Step.RESERVE, pending_since=timezone.now()
    )
    version = admin_client.get(progress_url(guarantee)).json()["version"]
    unchanged = admin_client.get(progress_url(guarantee), {"since": version}).json()
    assert unchanged == {"under_way": True, "version": version, "parts": {}}

    add_call(guarantee, ApiCall.Outcome.TRANSIENT)
    changed = admin_client.get(progress_url(guarantee), {"since": version}).json()
    assert changed["version"] != version
    assert "reserveOrder" in changed["parts"]["timeline"]


def test_the_progress_answer_needs_the_view_permission(client):
    guarantee = GuaranteeFactory()
    client.force_login(StaffUserFactory())
    assert client.get(progress_url(guarantee)).status_code == 403
    viewer = StaffUserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_guarantee"))
    client.force_login(viewer)
    assert client.get(progress_url(guarantee)).status_code == 200


def test_the_request_and_response_xml_are_shown_indented(admin_client):
    guarantee = GuaranteeFactory(state=State.RESERVED)
    call = add_call(guarantee, ApiCall.Outcome.APPROVED)
    call.request_xml = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        "<reserveOrder><ORDER_ID>ORD-1</ORDER_ID></reserveOrder></soap:Body></soap:Envelope>"
    )
    call.response_xml = "not XML at all <"
    call.save()

    page = admin_client.get(page_url(guarantee)).content.decode()

    assert (
        "\n  <soap:Body>\n    <reserveOrder>\n      <ORDER_ID>ORD-1</ORDER_ID>".replace(
            "<", "&lt;"
        ).replace(">", "&gt;")
        in page
    )
    assert "not XML at all &lt;" in page  # shown as stored when it does not parse
