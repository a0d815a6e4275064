"""The ops dashboard: what needs ops now, charts drawn here, the same queries at any size."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from checkout.models import Payment
from infinitepay import dashboard, selectors
from infinitepay.models import ApiCall, Guarantee, InfinitePayIntegration
from infinitepay.states import State, Step
from tests.checkout.factories import BuyerFactory, OrderFactory, PaymentFactory
from tests.factories import InfinitePayIntegrationFactory, StaffUserFactory
from tests.infinitepay.factories import GuaranteeFactory

pytestmark = pytest.mark.django_db

URL = reverse("dashboard")


def tiles(response) -> dict[str, int]:
    return {tile.label: tile.number for tile in response.context["tiles"]}


def call(guarantee, outcome: str, *, ago: timedelta = timedelta(minutes=5)) -> ApiCall:
    made = ApiCall.objects.create(
        guarantee=guarantee, operation="reserveOrder", step="reserve", attempt=1, outcome=outcome
    )
    ApiCall.objects.filter(pk=made.pk).update(created_at=timezone.now() - ago)
    return made


def test_the_dashboard_counts_what_needs_ops(admin_client, settings):
    failed = GuaranteeFactory(
        state=State.RESERVED,
        failed_step=Step.CAPTURE,
        failure_reason="InfinitePay failed on its side",
        last_error_message="HTTP 503",
    )
    GuaranteeFactory(state=State.CAPTURED)
    denied = GuaranteeFactory(
        state=State.ACTIVATION_DENIED, payment=PaymentFactory(amount=Decimal("1234.50"))
    )
    long_ago = timezone.now() - timedelta(seconds=settings.INFINITEPAY_PENDING_GRACE_SECONDS + 5)
    GuaranteeFactory(state=State.NEW, pending_step=Step.RESERVE, pending_since=long_ago)
    GuaranteeFactory(state=State.NEW, pending_step=Step.RESERVE, pending_since=timezone.now())
    call(failed, ApiCall.Outcome.TRANSIENT)
    call(failed, ApiCall.Outcome.DENIED)  # an answer, not an error
    call(failed, ApiCall.Outcome.TRANSIENT, ago=timedelta(hours=2))  # not in the last hour

    response = admin_client.get(URL)

    assert response.status_code == 200
    assert tiles(response) == {
        "Failed steps": 1,
        "Stuck": 1,
        "Under way": 2,
        "Awaiting activation": 1,
        "Activation denied": 1,
        "Errors in the last hour": 1,
    }
    page = response.content.decode()
    assert "holding €1,234.50: cancel to release" in page
    # Failed steps by reason, each a link to those guarantees.
    listed = page.split('id="failed-by-reason"')[1].split("</table>")[0]
    assert "InfinitePay failed on its side" in listed
    assert "?failed=capture&amp;reason=InfinitePay+failed+on+its+side" in listed
    assert f"?state__exact={denied.state}" in page


def test_captured_orders_past_their_shipping_duration_are_listed(admin_client):
    overdue = GuaranteeFactory(state=State.CAPTURED)
    InfinitePayIntegration.objects.filter(pk=overdue.integration_id).update(shipping_duration=5)
    within = GuaranteeFactory(state=State.CAPTURED, integration=overdue.integration)
    activated = GuaranteeFactory(state=State.ACTIVATED, integration=overdue.integration)
    Guarantee.objects.filter(pk__in=[overdue.pk, activated.pk]).update(
        updated_at=timezone.now() - timedelta(days=6)
    )
    Guarantee.objects.filter(pk=within.pk).update(updated_at=timezone.now() - timedelta(days=4))

    assert list(selectors.overdue_activations()) == [overdue]
    page = admin_client.get(URL).content.decode()
    listed = page.split('id="overdue-activations"')[1].split("</table>")[0]
    assert reverse("admin:infinitepay_guarantee_change", args=[overdue.pk]) in listed
    assert reverse("admin:infinitepay_guarantee_change", args=[within.pk]) not in listed


def test_steps_in_flight_past_their_lease_are_listed(admin_client, settings):
    lease = timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS)
    stuck = GuaranteeFactory(
        state=State.RESERVED,
        step_in_flight=Step.CAPTURE,
        in_flight_since=timezone.now() - lease - timedelta(minutes=1),
    )
    flying = GuaranteeFactory(
        state=State.RESERVED, step_in_flight=Step.CAPTURE, in_flight_since=timezone.now()
    )

    assert list(selectors.stuck_in_flight()) == [stuck]
    page = admin_client.get(URL).content.decode()
    listed = page.split('id="stuck-in-flight"')[1].split("</table>")[0]
    assert reverse("admin:infinitepay_guarantee_change", args=[stuck.pk]) in listed
    assert reverse("admin:infinitepay_guarantee_change", args=[flying.pk]) not in listed
    assert "Capture" in listed


def test_the_charts_are_svg_drawn_here_with_nothing_fetched_from_elsewhere(admin_client):
    guarantee = GuaranteeFactory(state=State.ACTIVATED)
    call(guarantee, ApiCall.Outcome.APPROVED)

    page = admin_client.get(URL).content.decode()

    charts = re.findall(r'<figure class="chart"[^>]*>(.*?)</figure>', page, re.DOTALL)
    assert [chart.lstrip()[:4] for chart in charts] == ["<svg"] * 7
    assert "Orders per day, last 30 days, by payment status" in charts[0]
    assert "Calls to InfinitePay per hour, last 24 hours, by outcome" in charts[1]
    assert "Guarantees by state" in charts[2]
    assert "Calls with no usable answer, last 24 hours, per integration (%)" in charts[3]
    assert "Average call time, last 24 hours, per integration (ms)" in charts[4]
    assert "Open exposure per integration" in charts[5]
    assert "Open exposure of the 10 largest debtors" in charts[6]
    # pygal's own script would come from its CDN: the product runs with no network.
    assert not any("<script" in chart or "http://kozea" in chart for chart in charts)
    assert "kozea.github.io" not in page


def test_orders_per_day_count_each_day_by_payment_status():
    today = timezone.now()
    for status, days_ago in [
        (Payment.Status.PAID_IN_FULL, 0),
        (Payment.Status.PAID_IN_FULL, 0),
        (Payment.Status.DECLINED, 0),
        (Payment.Status.PENDING, 3),
        (Payment.Status.PENDING, 40),  # before the window
    ]:
        payment = PaymentFactory(status=status)
        payment.order.current_payment = payment
        payment.order.save()
        type(payment.order).objects.filter(pk=payment.order.pk).update(
            created_at=today - timedelta(days=days_ago)
        )

    per_day = selectors.orders_per_day(days=30, now=today)

    assert len(per_day) == 30
    local_today = timezone.localdate(today)
    assert per_day[local_today] == {"paid_in_full": 2, "declined": 1}
    assert per_day[local_today - timedelta(days=3)] == {"pending": 1}
    assert sum(sum(day.values()) for day in per_day.values()) == 4


def test_calls_per_hour_count_each_hour_by_outcome():
    guarantee = GuaranteeFactory()
    call(guarantee, ApiCall.Outcome.APPROVED, ago=timedelta(minutes=0))
    call(guarantee, ApiCall.Outcome.TRANSIENT, ago=timedelta(hours=3))
    call(guarantee, ApiCall.Outcome.TRANSIENT, ago=timedelta(hours=30))  # before the window

    per_hour = selectors.calls_per_hour(hours=24)

    assert len(per_hour) == 24
    counted = {}
    for outcomes in per_hour.values():
        for outcome, n in outcomes.items():
            counted[outcome] = counted.get(outcome, 0) + n
    assert counted == {"approved": 1, "transient": 1}


def test_calls_by_integration_give_the_failure_rate_and_average_time():
    eu = GuaranteeFactory(integration=InfinitePayIntegrationFactory(name="EU shop"))
    uk = GuaranteeFactory(integration=InfinitePayIntegrationFactory(name="UK shop"))
    for guarantee, outcome, duration_ms in [
        (eu, ApiCall.Outcome.APPROVED, 100),
        (eu, ApiCall.Outcome.DENIED, 200),  # an answer, not a failure
        (eu, ApiCall.Outcome.TRANSIENT, 300),
        (eu, ApiCall.Outcome.TRANSIENT, 400),
        (uk, ApiCall.Outcome.APPROVED, 50),
    ]:
        made = call(guarantee, outcome)
        ApiCall.objects.filter(pk=made.pk).update(duration_ms=duration_ms)
    call(uk, ApiCall.Outcome.TRANSIENT, ago=timedelta(hours=30))  # before the window

    assert selectors.calls_by_integration(hours=24) == [
        selectors.IntegrationCalls("EU shop", calls=4, failure_rate=0.5, average_ms=250.0),
        selectors.IntegrationCalls("UK shop", calls=1, failure_rate=0.0, average_ms=50.0),
    ]


def test_open_exposure_sums_what_is_reserved_or_captured_not_yet_activated():
    eu = InfinitePayIntegrationFactory(name="EU shop")
    uk = InfinitePayIntegrationFactory(name="UK shop")
    for integration, state, amount in [
        (eu, State.RESERVED, "100.00"),
        (eu, State.CAPTURED, "250.00"),
        (eu, State.ACTIVATED, "9999.00"),  # activated: no longer open
        (uk, State.CAPTURED, "300.00"),
    ]:
        GuaranteeFactory(
            integration=integration,
            state=state,
            payment=PaymentFactory(amount=Decimal(amount), currency="EUR"),
        )

    exposure = selectors.open_exposure(largest_debtors=1)

    assert [(row.name, row.currency, row.amount) for row in exposure.by_integration] == [
        ("EU shop", "EUR", Decimal("350.00")),
        ("UK shop", "EUR", Decimal("300.00")),
    ]
    (top_debtor,) = exposure.largest_debtors
    assert top_debtor.amount == Decimal("300.00")  # each guarantee is its own company here

    # A company buying through both integrations holds the sum of both.
    buyer = BuyerFactory()
    for integration, amount in [(eu, "400.00"), (uk, "500.00")]:
        GuaranteeFactory(
            integration=integration,
            state=State.RESERVED,
            payment=PaymentFactory(
                order=OrderFactory(buyer=buyer), amount=Decimal(amount), currency="EUR"
            ),
        )
    (top_debtor,) = selectors.open_exposure(largest_debtors=1).largest_debtors
    assert (top_debtor.name, top_debtor.amount) == (buyer.customer.name, Decimal("900.00"))


def test_the_dashboard_runs_the_same_queries_for_few_or_many_guarantees(admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(URL).status_code == 200
        return len(captured)

    GuaranteeFactory(state=State.RESERVED, failed_step=Step.CAPTURE)
    few = queries()
    for _ in range(15):
        guarantee = GuaranteeFactory(state=State.RESERVED, failed_step=Step.CAPTURE)
        call(guarantee, ApiCall.Outcome.TRANSIENT)
    assert queries() == few


def test_ops_see_the_dashboard_and_staff_without_the_role_get_the_403_page(client):
    ops = StaffUserFactory()
    ops.user_permissions.add(Permission.objects.get(codename="view_guarantee"))
    client.force_login(ops)
    assert client.get(URL).status_code == 200
    assert URL in client.get(reverse("admin:index")).content.decode()  # the link to it

    client.force_login(StaffUserFactory())
    response = client.get(URL)
    assert response.status_code == 403
    page = response.content.decode()
    assert "Not open to your role" in page
    assert "in no role" in page
    assert 'id="dashboard-link"' not in page


def test_an_activation_denial_is_canceled_from_the_dashboard_after_asking(
    client, place, infinitepay, buyer, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from sandbox.accounts import DENIED_AT_ACTIVATION

    buyer.customer.vat_id = DENIED_AT_ACTIVATION.vat_id
    buyer.customer.save()
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    denied = place(infinitepay)
    assert denied.state == State.ACTIVATION_DENIED
    ops = StaffUserFactory()
    ops.groups.add(Group.objects.get(name="Payment ops"))
    client.force_login(ops)

    page = client.get(URL).content.decode()
    cancel = reverse("admin:infinitepay_guarantee_cancel", args=[denied.pk])
    assert f'action="{cancel}"' in page
    assert "Cancel to release the limit" in page
    asking = client.post(cancel, {"back": URL})
    assert asking.status_code == 200  # Cancel asks first, with the amount
    assert "cancelOrder" in asking.content.decode()
    denied.refresh_from_db()
    assert denied.state == State.ACTIVATION_DENIED

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(cancel, {"back": URL, "confirm": "yes"})
    assert done.url == URL
    denied.refresh_from_db()
    assert denied.state == State.CANCELED
    assert "No activation denial holds a buyer's limit." in client.get(URL).content.decode()


def test_who_may_not_cancel_is_not_offered_it_on_the_dashboard(client):
    GuaranteeFactory(state=State.ACTIVATION_DENIED)
    user = StaffUserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_guarantee"))
    client.force_login(user)
    assert "Cancel to release the limit" not in client.get(URL).content.decode()


def test_failed_steps_are_grouped_by_reason_each_a_link_to_its_guarantees(
    admin_client, django_assert_num_queries
):
    unreachable = GuaranteeFactory.create_batch(
        3,
        state=State.RESERVED,
        failed_step=Step.CAPTURE,
        failure_reason="InfinitePay could not be reached",
        last_error_message="ConnectError: [Errno 111] Connection refused",
    )
    rejected = GuaranteeFactory(
        state=State.NEW,
        failed_step=Step.RESERVE,
        failure_reason="Credentials rejected",
        last_error_message="wsse:FailedAuthentication",
    )
    GuaranteeFactory(
        state=State.RESERVED,
        failed_step=Step.CAPTURE,
        failure_reason="Declined by InfinitePay",
        last_error_code="4711",
        last_error_message="4711 order not capturable",
    )
    GuaranteeFactory(state=State.RESERVED)  # nothing failed

    with django_assert_num_queries(1):
        groups = selectors.failed_by_reason()

    assert [(g.step, g.reason, g.count) for g in groups] == [
        (Step.CAPTURE, "InfinitePay could not be reached", 3),
        (Step.CAPTURE, "Declined by InfinitePay", 1),
        (Step.RESERVE, "Credentials rejected", 1),
    ]
    page = admin_client.get(URL).content.decode()
    listed = page.split('id="failed-by-reason"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", listed, re.DOTALL)[1:]
    assert ["InfinitePay could not be reached" in rows[0], ">3</a>" in rows[0]] == [True, True]
    assert "Declined by InfinitePay" in rows[1] and "Capture" in rows[1]
    assert "Credentials rejected" in rows[2] and "Reserve" in rows[2]

    # Each reason's link lists exactly the guarantees it counts.
    link = re.search(r'href="([^"]+)"', rows[0]).group(1).replace("&amp;", "&")
    shown = admin_client.get(link).context["cl"].result_list
    assert {g.pk for g in shown} == {g.pk for g in unreachable}
    link = re.search(r'href="([^"]+)"', rows[2]).group(1).replace("&amp;", "&")
    assert [g.pk for g in admin_client.get(link).context["cl"].result_list] == [rejected.pk]


def test_the_charts_write_each_mark_of_an_axis_once(admin_client):
    guarantee = GuaranteeFactory(state=State.RESERVED)
    # A failure rate of a few percent: marks of 0.5 %, not "0, 0, 1, 1, 2".
    for n in range(40):
        call(guarantee, ApiCall.Outcome.TRANSIENT if n == 0 else ApiCall.Outcome.APPROVED)

    page = admin_client.get(URL).content.decode()

    # Horizontal bars have their values on the x axis; the orders chart has none to show.
    for chart_id, axis, drawn_marks in [
        ("failures-chart", "x", True),
        ("latency-chart", "x", True),
        ("calls-chart", "y", True),
        ("orders-chart", "y", False),
    ]:
        chart = page.split(f'id="{chart_id}"')[1].split("</figure>")[0]
        drawn = f'{chart}<g class="axis {axis}'.split(f'<g class="axis {axis}')[1]
        drawn = drawn.split('<g class="axis', 1)[0]
        marks = re.findall(r"<text[^>]*>([^<]+)</text>", drawn)
        assert (len(marks) >= 2) == drawn_marks, (chart_id, marks)
        assert len(marks) == len(set(marks)), (chart_id, marks)
    failures = page.split('id="failures-chart"')[1].split("</figure>")[0]
    assert ">0.5<" in failures  # 1 of 40 calls failed: 2.5 %


def test_an_empty_chart_says_nothing_yet_in_a_quiet_line(admin_client):
    page = admin_client.get(URL).content.decode()

    chart = page.split('id="exposure-chart"')[1].split("</figure>")[0]
    assert "Nothing yet" in chart
    assert re.search(r"\.no_data\s*\{[^}]*font-size:\s*16", chart)
    # No axis of "0"s under it.
    assert re.findall(r"<text[^>]*>([^<]+)</text>", chart) == [
        "Open exposure per integration",
        "Nothing yet",
    ]


@pytest.mark.parametrize(
    ("language", "labels"), [("de", ["24. Nov.", "1. Dez."]), ("en", ["Nov 24", "Dec 1"])]
)
def test_the_orders_chart_writes_its_days_as_the_language_does(language, labels):
    first = date(2026, 11, 24)
    per_day = {first + timedelta(days=n): {"pending": 1} for n in range(8)}

    with translation.override(language):
        svg = dashboard.orders_chart(per_day)

    # A mark each week: the first day and the eighth.
    axis = svg.split('class="axis x')[1].split('class="axis')[0]
    assert re.findall(r"<text[^>]*>([^<]+)</text>", axis)[:2] == labels


def test_the_calls_chart_draws_each_outcome_in_a_colour_of_its_own():
    """Its legend tells outcomes apart by colour alone: denied and transient failures, which
    share a badge colour, and the three errors each get their own."""
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)

    svg = dashboard.calls_chart({hour: {outcome.value: 1 for outcome in ApiCall.Outcome}})

    colours = dict(re.findall(r"\.color-(\d+)[^{]*\{[^}]*?(?:fill|stroke):\s*(#[0-9a-fA-F]+)", svg))
    assert len(colours) == len(ApiCall.Outcome)
    assert len(set(colours.values())) == len(ApiCall.Outcome), colours
