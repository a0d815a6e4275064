"""The ops back office: the guarantees list, a guarantee's page and the operations on it.

Orders are placed through checkout and their calls go to the in-process sandbox, with tasks
run eagerly as their transactions commit; lists are filled in bulk.
"""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from checkout.models import Payment
from infinitepay import selectors
from infinitepay.admin import describe_report
from infinitepay.models import ApiCall, GuaranteeEvent
from infinitepay.operations import Operation, OperationReport, Skipped
from infinitepay.states import State, Step
from tests.factories import StaffUserFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:infinitepay_guarantee_changelist")


@pytest.fixture
def failed(place, infinitepay, sandbox, settings):
    """A guarantee whose Reserve failed twice with HTTP 500 and gave up; faults off again."""
    settings.INFINITEPAY_MAX_ATTEMPTS = 2
    sandbox.set_faults(rate=1.0, kinds=["http_500"])
    guarantee = place(infinitepay)
    sandbox.set_faults(rate=0.0)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    return guarantee


@pytest.fixture
def run(admin_client, django_capture_on_commit_callbacks):
    """Confirm as the admin, run what the request enqueued, return the page after the redirect."""

    def run(url, data=None, *, client=admin_client):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"confirm": "yes", **(data or {})}, follow=True)

    return run


def bulk(action, guarantees, **data) -> tuple[str, dict]:
    """A changelist action's form data for these guarantees."""
    return LIST_URL, {
        "action": action,
        "index": 0,
        ACTION_CHECKBOX_NAME: [g.pk for g in guarantees],
        **data,
    }


def button(operation, guarantee) -> str:
    return reverse(f"admin:infinitepay_guarantee_{operation}", args=[guarantee.pk])


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def state_of(guarantee) -> State:
    guarantee.refresh_from_db()
    return State(guarantee.state)


def staff_with(*codenames: str):
    user = StaffUserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_state_order_customer_amount_attempts_and_the_error(
    admin_client, failed, buyer
):
    page = admin_client.get(LIST_URL).content.decode()
    for text in [
        "RESERVE FAILED",
        failed.payment.order.number,
        buyer.customer.name,
        "€68.86",
        failed.integration.name,
        "InfinitePay failed on its side",  # why, in our words; HTTP 500 on hover
    ]:
        assert text in page
    counts = admin_client.get(LIST_URL).context["state_counts"]
    assert counts[0] == {
        "label": "failed steps",
        "number": "1",
        "query": "failed=yes",
        "alarm": True,
    }


def test_the_counts_per_state_are_one_query(django_assert_num_queries):
    GuaranteeFactory.create_batch(3, state=State.ACTIVATED)
    GuaranteeFactory(state=State.NEW, failed_step=Step.RESERVE)
    GuaranteeFactory(state=State.RESERVED, pending_step=Step.CAPTURE)
    with django_assert_num_queries(1):
        counts = selectors.guarantee_state_counts()
    assert counts.by_state[State.ACTIVATED] == 3
    assert counts.failed == 1
    assert counts.by_state[State.DECLINED] == 0
    assert counts.under_way == 1


def test_the_list_filters_by_state_and_under_way_and_searches(admin_client, place, infinitepay):
    reserved = place(infinitepay)
    other = GuaranteeFactory(state=State.NEW, pending_step=Step.RESERVE)
    other.payment.order.customer.vat_id = "DE999999999"
    other.payment.order.customer.save()

    def listed(**query) -> set[int]:
        response = admin_client.get(LIST_URL, query)
        return {g.pk for g in response.context["cl"].result_list}

    assert listed(state__exact="reserved") == {reserved.pk}
    assert listed(under_way="yes") == {other.pk}
    assert listed(q=reserved.payment.order.number) == {reserved.pk}
    assert listed(q=reserved.ref_no) == {reserved.pk}
    assert listed(q="DE999999999") == {other.pk}
    assert listed(integration__id__exact=infinitepay.pk) == {reserved.pk}


def test_the_guarantee_page_shows_the_timeline_and_links_to_the_order(admin_client, failed):
    sandbox_500 = failed.api_calls.first()
    page = admin_client.get(
        reverse("admin:infinitepay_guarantee_change", args=[failed.pk])
    ).content.decode()
    assert page.count("reserveOrder") >= 2
    assert "Transient failure" in page
    assert sandbox_500.task_id in page
    assert "<details>" in page
    assert "[redacted]" in page  # the request is shown, with the secrets removed
    assert reverse("admin:checkout_order_change", args=[failed.payment.order_id]) in page
    # Only the operations that fit a failed Reserve are offered: retry it, or close it.
    assert button("retry", failed) in page
    assert button("cancel", failed) in page
    assert button("check_status", failed) in page
    assert button("capture", failed) not in page


def test_the_order_page_shows_the_same_timeline(admin_client, place, infinitepay):
    guarantee = place(infinitepay)
    url = reverse("admin:checkout_order_change", args=[guarantee.payment.order_id])
    page = admin_client.get(url).content.decode()
    assert "InfinitePay guarantee" in page
    assert "reserveOrder" in page
    assert guarantee.ref_no in page
    assert reverse("admin:infinitepay_guarantee_change", args=[guarantee.pk]) in page


def test_the_api_calls_list_reads(admin_client, failed):
    response = admin_client.get(reverse("admin:infinitepay_apicall_changelist"))
    assert response.status_code == 200
    assert failed.order_id in response.content.decode()
    call = failed.api_calls.first()
    page = admin_client.get(reverse("admin:infinitepay_apicall_change", args=[call.pk]))
    assert page.status_code == 200
    assert "HTTP 500" in page.content.decode()


def test_an_api_calls_page_shows_its_request_and_answer_one_element_a_line(
    admin_client, place, infinitepay
):
    guarantee = place(infinitepay)
    call = guarantee.api_calls.get(operation="reserveOrder")
    assert call.request_xml.strip().count("\n") <= 1  # stored as one line (and a declaration)

    page = admin_client.get(reverse("admin:infinitepay_apicall_change", args=[call.pk]))

    blocks = re.findall(r"<pre[^>]*>(.*?)</pre>", page.content.decode(), re.DOTALL)
    request, response = blocks
    assert "\n  " in request and "&lt;ORDER_ID&gt;" in request
    assert "[redacted]" in request
    assert "&lt;STATUS&gt;1&lt;/STATUS&gt;" in response and response.count("\n") > 5


# --- Operations ---------------------------------------------------------------------------


def test_retry_resumes_the_failed_step_until_activated(run, failed, sandbox, infinitepay):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    response = run(button("retry", failed))
    assert said(response) == ["Retry: 1 queued, 0 skipped."]
    assert state_of(failed) == State.ACTIVATED
    assert sandbox.order(failed.order_id)["state"] == "ACTIVATED"
    assert list(failed.api_calls.values_list("step", "outcome")) == [
        ("reserve", "transient"),
        ("reserve", "transient"),
        ("check_status", "transient"),  # the pipeline asked before giving up for good
        ("check_status", "transient"),
        ("reserve", "approved"),
        ("capture", "approved"),
        ("activate", "approved"),
    ]


def test_capture_in_bulk_skips_what_cannot_be_captured(run, place, infinitepay, sandbox):
    reserved = place(infinitepay)
    canceled = GuaranteeFactory(state=State.CANCELED, order_id="ORD-X-P1")
    response = run(*bulk("capture", [reserved, canceled]))
    assert said(response) == [
        "Capture: 1 queued; 1 skipped, Cannot capture a guarantee in state CANCELED: ORD-X-P1."
    ]
    assert state_of(reserved) == State.CAPTURED
    assert state_of(canceled) == State.CANCELED
    assert sandbox.order(reserved.order_id)["state"] == "CAPTURED"


def test_activate_asks_for_the_delivery_date_and_sends_it(
    admin_client, run, place, infinitepay, sandbox
):
    infinitepay.auto_capture = True
    infinitepay.save()
    captured = place(infinitepay)
    assert captured.state == State.CAPTURED

    asking = admin_client.get(button("activate", captured))
    today = timezone.localdate()
    assert asking.context["form"]["delivery_date"].value() == today
    assert f'value="{today:%Y-%m-%d}"' in asking.content.decode()

    response = run(button("activate", captured), {"confirm": "yes", "delivery_date": today})
    assert said(response) == ["Activate: 1 queued, 0 skipped."]
    assert state_of(captured) == State.ACTIVATED
    assert captured.delivery_date == today
    activation = captured.api_calls.get(step=Step.ACTIVATE)
    assert f"{today:%Y%m%d}" in activation.request_xml
    assert Payment.objects.get(pk=captured.payment_id).status == Payment.Status.PAID_IN_FULL


def test_activate_in_bulk_goes_through_the_date_page(admin_client, run, place, infinitepay):
    infinitepay.auto_capture = True
    infinitepay.save()
    first, second = place(infinitepay), place(infinitepay)
    url, data = bulk("activate", [first, second])
    asking = admin_client.post(url, data)
    assert asking.status_code == 200
    assert "Give the real delivery date" in asking.content.decode()
    assert state_of(first) == State.CAPTURED

    yesterday = timezone.localdate() - timedelta(days=1)
    data.pop("index")  # the date page posts back as an action's confirmation page does
    response = run(url, {**data, "confirm": "yes", "delivery_date": timezone.localdate()})
    assert said(response) == ["Activate: 2 queued, 0 skipped."]
    assert {state_of(first), state_of(second)} == {State.ACTIVATED}

    third = place(infinitepay)
    response = run(button("activate", third), {"confirm": "yes", "delivery_date": yesterday})
    assert "before the order was placed" in said(response)[0]
    assert state_of(third) == State.CAPTURED


def test_cancel_confirms_with_the_amount_and_releases_the_limit(
    admin_client, run, place, infinitepay, sandbox, buyer
):
    reserved = place(infinitepay)
    assert sandbox.debtor(buyer.customer.vat_id)["reserved"] == "68.86"
    page = html.unescape(admin_client.get(button("cancel", reserved)).content.decode())
    assert "€68.86" in page
    assert "releases the buyer's limit" in page
    assert state_of(reserved) == State.RESERVED

    response = run(button("cancel", reserved), {"confirm": "yes"})
    assert said(response) == ["Cancel: 1 queued, 0 skipped."]
    assert state_of(reserved) == State.CANCELED
    assert sandbox.debtor(buyer.customer.vat_id)["reserved"] == "0.00"
    assert Payment.objects.get(pk=reserved.payment_id).status == Payment.Status.CANCELED


def test_check_status_adopts_a_reserve_whose_answer_was_lost(
    run, place, infinitepay, sandbox, settings
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    # The pipeline's own check status after giving up fails too: ops' check status adopts it.
    sandbox.fail_next(["lost_answer", "http_500"])
    guarantee = place(infinitepay)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    assert sandbox.order(guarantee.order_id)["state"] == "RESERVED"

    response = run(*bulk("check_status", [guarantee]))
    assert said(response) == ["Check status: 1 queued, 0 skipped."]
    assert state_of(guarantee) == State.RESERVED
    assert guarantee.ref_no
    assert guarantee.api_calls.last().operation == "checkStatusOrder"


def test_apply_transaction_settles_an_activated_guarantee(run, place, infinitepay, sandbox):
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    activated = place(infinitepay)
    response = run(button("apply_transaction", activated))
    assert said(response) == ["Apply transaction: 1 queued, 0 skipped."]
    assert state_of(activated) == State.SETTLED
    assert sandbox.order(activated.order_id)["state"] == "SETTLED"


def test_each_operation_is_logged_with_who_asked(run, admin_user, place, infinitepay):
    reserved = place(infinitepay)
    run(button("check_status", reserved))
    entry = admin_user.logentry_set.get()
    assert entry.object_id == str(reserved.pk)
    assert entry.get_change_message() == "Check status requested."


def test_skipped_orders_are_grouped_by_reason_with_the_longest_lists_cut_short():
    under_way = "Capture is already under way."
    canceled = "Cannot capture a guarantee in state CANCELED."
    report = OperationReport(
        queued=[1, 2],
        skipped=[Skipped(10 + n, f"ORD-{n}", under_way) for n in range(12)]
        + [Skipped(99, "ORD-C", canceled)],
    )
    assert describe_report(Operation.CAPTURE, report) == (
        "Capture: 2 queued; 12 skipped, Capture is already under way: ORD-0, ORD-1, ORD-2, "
        "ORD-3, ORD-4, ORD-5, ORD-6, ORD-7, ORD-8, ORD-9 and 2 more; "
        "1 skipped, Cannot capture a guarantee in state CANCELED: ORD-C."
    )


# --- Double submission --------------------------------------------------------------------


def test_a_second_click_while_the_first_is_queued_sends_nothing(
    admin_client, place, infinitepay, sandbox, django_capture_on_commit_callbacks
):
    reserved = place(infinitepay)
    with django_capture_on_commit_callbacks() as enqueued:
        first = admin_client.post(button("capture", reserved), {"confirm": "yes"}, follow=True)
        second = admin_client.post(*bulk("capture", [reserved], confirm="yes"), follow=True)
    assert said(first) == ["Capture: 1 queued, 0 skipped."]
    assert said(second) == [
        f"Capture: 0 queued; 1 skipped, Capture is already under way: {reserved.order_id}."
    ]
    assert len(enqueued) == 1
    enqueued[0]()  # the worker picks up the one task
    assert state_of(reserved) == State.CAPTURED
    assert sandbox.calls()["operations"].get("captureOrder") == 1


def test_retry_clicked_twice_retries_once(run, failed, sandbox):
    run(button("retry", failed))
    again = run(button("retry", failed))
    assert said(again) == [
        "Retry: 0 queued; 1 skipped, Only a failed step can be retried; nothing has failed "
        f"here: {failed.order_id}."
    ]
    assert sandbox.calls()["operations"]["reserveOrder"] == 3  # two failed, one good


def test_a_get_on_an_operation_url_only_asks(admin_client, place, infinitepay):
    reserved = place(infinitepay)
    response = admin_client.get(button("capture", reserved))
    assert response.status_code == 200
    assert "captureOrder" in response.content.decode()
    assert state_of(reserved) == State.RESERVED
    assert not reserved.pending_step


CONFIRMATIONS = [
    # operation, the guarantee's state and failed step, the call, words of what it does
    ("retry", State.NEW, Step.RESERVE, "reserveOrder", "holds the amount against"),
    ("capture", State.RESERVED, "", "captureOrder", "records the invoice amount as owed"),
    ("activate", State.CAPTURED, "", "activateOrder", "guarantees the invoice from the"),
    ("cancel", State.ACTIVATION_DENIED, "", "cancelOrder", "releases the buyer's limit"),
    ("check_status", State.RESERVED, "", "checkStatusOrder", "nothing changes there"),
    ("apply_transaction", State.ACTIVATED, "", "applyTransactionOnActivatedOrder", "settled"),
    ("correct_debtor_data", State.NEW, Step.RESERVE, "reserveOrder", "checks the buyer"),
]


@pytest.mark.parametrize(("operation", "state", "failed_step", "call", "effect"), CONFIRMATIONS)
def test_every_operation_asks_first_with_the_amount_and_what_the_call_does(
    admin_client, operation, state, failed_step, call, effect
):
    guarantee = GuaranteeFactory(state=state, failed_step=failed_step)
    guarantee.payment.amount = Decimal("1197.02")
    guarantee.payment.save()

    response = admin_client.get(button(operation, guarantee))

    assert response.status_code == 200
    confirmation = html.unescape(response.content.decode())
    assert guarantee.payment.order.number in confirmation
    assert "€1,197.02" in confirmation
    assert f"<code>{call}</code>" in confirmation
    assert effect in confirmation
    assert Operation(operation).confirm_label in confirmation
    guarantee.refresh_from_db()
    assert (guarantee.pending_step, guarantee.state) == ("", state)  # nothing asked yet


def test_a_bulk_operation_asks_first_naming_each_guarantee(admin_client, place, infinitepay):
    first, second = place(infinitepay), place(infinitepay)
    canceled = GuaranteeFactory(state=State.CANCELED)

    asking = admin_client.post(*bulk("capture", [first, second, canceled]))

    page = asking.content.decode()
    assert asking.status_code == 200
    for guarantee in (first, second, canceled):
        assert guarantee.payment.order.number in page
    assert page.count("<code>captureOrder</code>") == 3  # two rows and what it does
    assert "none: skipped" in page  # the canceled one
    assert "€137.72" in page  # the total of the two it calls for
    assert {state_of(first), state_of(second)} == {State.RESERVED}


# --- Permissions and roles ----------------------------------------------------------------


def test_ops_cannot_see_the_credentials(ops_client, infinitepay):
    url = reverse("admin:infinitepay_infinitepayintegration_change", args=[infinitepay.pk])
    assert ops_client.get(url).status_code == 403
    check = reverse(
        "admin:infinitepay_infinitepayintegration_check_connection", args=[infinitepay.pk]
    )
    assert ops_client.post(check).status_code == 403
    # The integrations list (name, status, health) is theirs to read, not to change.
    response = ops_client.get(reverse("admin:integrations_integration_changelist"))
    assert response.status_code == 200
    assert "demo-password" not in response.content.decode()
    # Nor are they shown a link they cannot follow: the name is plain text for them.
    assert url not in response.content.decode()
    assert infinitepay.name in response.content.decode()


def test_only_who_may_open_an_integration_is_shown_a_link_to_it(
    ops_client, admin_client, infinitepay
):
    guarantee = GuaranteeFactory(integration=infinitepay)
    url = reverse("admin:infinitepay_infinitepayintegration_change", args=[infinitepay.pk])
    page = reverse("admin:infinitepay_guarantee_change", args=[guarantee.pk])
    integrations = reverse("admin:integrations_integration_changelist")
    assert url in admin_client.get(page).content.decode()
    assert url in admin_client.get(integrations).content.decode()
    assert url not in ops_client.get(page).content.decode()


def test_ops_operate_guarantees_and_read_orders(ops_client, run, place, infinitepay):
    reserved = place(infinitepay)
    assert ops_client.get(LIST_URL).status_code == 200
    order_url = reverse("admin:checkout_order_change", args=[reserved.payment.order_id])
    assert "reserveOrder" in ops_client.get(order_url).content.decode()
    response = run(button("capture", reserved), client=ops_client)
    assert said(response) == ["Capture: 1 queued, 0 skipped."]
    assert state_of(reserved) == State.CAPTURED


def test_without_the_permission_the_operation_is_refused(
    client, run, place, infinitepay, django_capture_on_commit_callbacks
):
    reserved = place(infinitepay)
    client.force_login(staff_with("view_guarantee", "capture_guarantee"))
    page = client.get(LIST_URL)
    offered = [name for name, _ in page.context["action_form"].fields["action"].choices]
    assert "capture" in offered
    assert "cancel" not in offered

    with django_capture_on_commit_callbacks() as enqueued:
        assert client.post(button("cancel", reserved), {"confirm": "yes"}).status_code == 403
        client.post(*bulk("cancel", [reserved], confirm="yes"))
    assert enqueued == []
    assert state_of(reserved) == State.RESERVED
    assert not reserved.pending_step


def test_payment_admins_manage_integrations_but_do_not_operate(client, place, infinitepay):
    reserved = place(infinitepay)
    user = StaffUserFactory()
    user.groups.add(Group.objects.get(name="Payment admins"))
    client.force_login(user)
    url = reverse("admin:infinitepay_infinitepayintegration_change", args=[infinitepay.pk])
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:payment_rules_paymentrule_changelist")).status_code == 200
    assert client.get(LIST_URL).status_code == 200
    assert client.post(button("capture", reserved)).status_code == 403


def test_the_demo_users_have_their_roles():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", stdout=None)
    users = get_user_model().objects
    ops = users.get(username="ops")
    assert not ops.is_superuser
    assert [g.name for g in ops.groups.all()] == ["Payment ops"]
    assert ops.has_perm("infinitepay.retry_guarantee")
    assert not ops.has_perm("infinitepay.view_infinitepayintegration")
    assert ops.has_perm("infinitepay.view_guaranteeevent")
    admin = users.get(username="admin")
    assert not admin.is_superuser
    assert [g.name for g in admin.groups.all()] == ["Payment admins"]
    assert admin.has_perm("infinitepay.change_infinitepayintegration")
    assert admin.has_perm("infinitepay.view_guaranteeevent")
    assert not admin.has_perm("infinitepay.retry_guarantee")
    assert not admin.has_perm("auth.change_user")
    assert users.get(username="setup").is_superuser


def test_seeding_again_puts_an_earlier_superuser_admin_in_its_role():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    StaffUserFactory(username="admin", is_superuser=True)
    call_command("seed_demo", stdout=None)
    assert not get_user_model().objects.get(username="admin").is_superuser


# --- Integration health -------------------------------------------------------------------


def test_the_integrations_list_shows_each_integrations_health(admin_client, infinitepay):
    now = timezone.now()
    guarantee = GuaranteeFactory(integration=infinitepay, failed_step=Step.CAPTURE)
    good = ApiCall.objects.create(
        guarantee=guarantee, operation="reserveOrder", step="reserve", attempt=1, outcome="approved"
    )
    ApiCall.objects.filter(pk=good.pk).update(created_at=now - timedelta(hours=2))
    for outcome in ["transient", "denied"]:
        ApiCall.objects.create(
            guarantee=guarantee,
            operation="captureOrder",
            step="capture",
            attempt=1,
            outcome=outcome,
        )
    infinitepay.credentials_rejected_at = now - timedelta(minutes=5)
    infinitepay.save()

    healthy = GuaranteeFactory(state=State.ACTIVATED)
    ApiCall.objects.create(
        guarantee=healthy, operation="reserveOrder", step="reserve", attempt=1, outcome="approved"
    )

    page = admin_client.get(reverse("admin:integrations_integration_changelist"))
    lines = {i.pk: i.health_summary for i in page.context["cl"].result_list}
    assert lines[infinitepay.pk] == (
        "Problem: credentials rejected 5\xa0minutes ago, 1 failed step, 1 error in the last hour"
        " · last successful call 2\xa0hours ago"
    )
    assert lines[healthy.integration_id] == "OK · last successful call just now"


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_healthy_integration_and_a_troubled_one_are_told_apart_in_any_language(
    admin_client, infinitepay, language
):
    GuaranteeFactory(integration=infinitepay, failed_step=Step.CAPTURE)
    healthy = GuaranteeFactory(state=State.ACTIVATED)
    ApiCall.objects.create(
        guarantee=healthy, operation="reserveOrder", step="reserve", attempt=1, outcome="approved"
    )
    for url in [reverse("admin:integrations_integration_changelist"), reverse("dashboard")]:
        page = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        verdicts = re.findall(r'class="(health-ok|health-problem)">([^<]*)<', page)
        # The one with a failed step is marked a problem, whatever the language's words.
        problems = [line for verdict, line in verdicts if verdict == "health-problem"]
        assert len(problems) == 1 and "1" in problems[0].split("·")[0], (url, verdicts)
        assert any(verdict == "health-ok" for verdict, _ in verdicts), (url, verdicts)


def test_the_integrations_list_reads_health_in_constant_queries(
    admin_client, infinitepay, payment_term, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:integrations_integration_changelist")
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(5):
        GuaranteeFactory(failed_step=Step.CAPTURE)  # each with an integration of its own
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)


# --- What a failed step's figures say -------------------------------------------------------


def test_a_failed_step_counts_the_calls_it_made_not_the_check_after_it(admin_client):
    # Capture gave up after six calls; the pipeline then asked for the status (attempts: 1),
    # which found nothing held.
    guarantee = GuaranteeFactory(state=State.RESERVED, failed_step=Step.CAPTURE, attempts=1)
    GuaranteeEvent.objects.create(
        guarantee=guarantee,
        kind=GuaranteeEvent.Kind.STATE_CHANGED,
        text="New → Reserved",
        at=timezone.now() - timedelta(minutes=5),
    )
    for attempt in range(1, 7):
        ApiCall.objects.create(
            guarantee=guarantee,
            operation="captureOrder",
            step=Step.CAPTURE,
            attempt=attempt,
            outcome=ApiCall.Outcome.TRANSIENT,
        )
    ApiCall.objects.create(
        guarantee=guarantee,
        operation="checkStatus",
        step=Step.CHECK_STATUS,
        attempt=1,
        outcome=ApiCall.Outcome.DENIED,
        provider_status="0",
    )
    GuaranteeEvent.objects.create(
        guarantee=guarantee, kind=GuaranteeEvent.Kind.STEP_FAILED, text="Capture: gave up"
    )

    page = admin_client.get(reverse("admin:infinitepay_guarantee_change", args=[guarantee.pk]))
    text = page.content.decode()
    assert "6 calls of Capture" in text
    assert "Not found at InfinitePay" in text  # the check found nothing: it denied nothing
    listed = admin_client.get(LIST_URL, {"failed": "yes"}).content.decode()
    assert "6 attempts" in listed
    assert "1 attempt" not in listed
    calls = admin_client.get(reverse("admin:infinitepay_apicall_changelist")).content.decode()
    assert calls.count("Not found at InfinitePay") == 1


def test_the_error_shows_only_while_the_step_stays_failed(admin_client, failed, run):
    page = reverse("admin:infinitepay_guarantee_change", args=[failed.pk])
    assert 'class="errornote"' in admin_client.get(page).content.decode()
    run(button("retry", failed))
    failed.refresh_from_db()
    assert failed.state == State.RESERVED
    assert 'class="errornote"' not in admin_client.get(page).content.decode()


def test_money_in_the_lists_is_in_the_languages_format(admin_client):
    GuaranteeFactory(payment__amount="1197.02", payment__currency="EUR")
    assert "€1,197.02" in admin_client.get(LIST_URL).content.decode()
