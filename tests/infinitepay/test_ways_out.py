"""Every guarantee ends somewhere true: a recorded outcome, a failed mark beside the business
state, and a way out for ops and the buyer. Tasks run eagerly against the sandbox.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from checkout import selectors as checkout_selectors
from checkout.models import Payment
from infinitepay import operations, services
from infinitepay.messages import Exchange, Result
from infinitepay.messages import Operation as Operation_
from infinitepay.models import ApiCall, Guarantee, InfinitePayIntegration
from infinitepay.operations import Operation
from infinitepay.states import State, Step
from infinitepay.wording import describe
from sandbox.accounts import DENIED_AT_ACTIVATION, DENIED_AT_RESERVE

pytestmark = pytest.mark.django_db


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Run an ops operation on one guarantee, with what it enqueues; return it fresh."""

    def act(guarantee: Guarantee, operation: Operation, **options) -> Guarantee:
        with django_capture_on_commit_callbacks(execute=True):
            report = operations.apply_to_guarantees(
                guarantee_ids=[guarantee.pk], operation=operation, **options
            )
        assert report.queued == [guarantee.pk], report.skipped
        return Guarantee.objects.select_related("payment").get(pk=guarantee.pk)

    return act


def automated(infinitepay: InfinitePayIntegration) -> InfinitePayIntegration:
    infinitepay.auto_capture = infinitepay.auto_activation = True
    infinitepay.save()
    return infinitepay


def calls(guarantee: Guarantee) -> list[tuple[str, str]]:
    return list(guarantee.api_calls.values_list("step", "outcome"))


def has_a_way_out(guarantee: Guarantee) -> bool:
    return bool(operations.available_operations(guarantee))


# --- A step always ends in a recorded outcome --------------------------------------------


def test_a_secret_that_cannot_be_decrypted_fails_the_step_once_with_the_reason(
    place, infinitepay, settings
):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE infinitepay_infinitepayintegration SET secret = %s "
            "WHERE integration_ptr_id = %s",
            ["gAAAAABnot-a-token-of-ours", infinitepay.pk],
        )
    guarantee = place(infinitepay)

    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    assert calls(guarantee) == [("reserve", "rejected")]  # once: waiting would not cure it
    assert "cannot be built" in guarantee.last_error_message
    assert "decrypt" in guarantee.last_error_message
    assert has_a_way_out(guarantee)
    later = timezone.now() + timedelta(hours=1)
    assert services.sweep_guarantees(now=later).taken_over == 0


def test_a_request_that_cannot_be_sent_fails_at_once_with_what_to_fix(place, infinitepay):
    guarantee = place(infinitepay, run=False)
    # A product name stored before names were checked: XML cannot carry its control character.
    guarantee.payment.order.lines.update(name="Paper\x0b A4")
    services.run_step(guarantee_id=guarantee.pk, step=Step.RESERVE)
    guarantee.refresh_from_db()

    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    assert calls(guarantee) == [("reserve", "rejected")]  # once, and nothing was sent
    assert "reserveOrder cannot be sent" in guarantee.last_error_message
    assert guarantee.pending_step == guarantee.step_in_flight == ""


def test_a_step_taken_over_again_and_again_ends_failed_not_in_a_loop(
    place, infinitepay, sandbox, settings, django_capture_on_commit_callbacks
):
    guarantee = place(infinitepay, run=False)
    # Every worker that claimed it vanished mid-call: the attempts are used up.
    Guarantee.objects.filter(pk=guarantee.pk).update(
        pending_step="",
        step_in_flight=Step.RESERVE,
        in_flight_since=timezone.now(),
        attempts=settings.INFINITEPAY_MAX_ATTEMPTS,
    )
    later = timezone.now() + timedelta(seconds=settings.INFINITEPAY_STEP_LEASE_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_guarantees(now=later).taken_over == 1
    guarantee.refresh_from_db()

    assert guarantee.failed_step == Step.RESERVE
    assert "without finishing" in guarantee.last_error_message
    # Recorded, and the reserve InfinitePay may hold is asked about: it holds nothing here.
    assert calls(guarantee) == [("reserve", "malformed"), ("check_status", "denied")]
    assert guarantee.step_in_flight == guarantee.pending_step == ""
    assert services.sweep_guarantees(now=later + timedelta(hours=1)).taken_over == 0


# --- FAILED is a mark beside the business state ------------------------------------------


def test_a_failed_apply_transaction_leaves_the_buyer_paid_in_full(
    place, infinitepay, sandbox, settings, act
):
    guarantee = place(automated(infinitepay))
    assert guarantee.state == State.ACTIVATED
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    sandbox.fail_next(["http_500"])
    guarantee = act(guarantee, Operation.APPLY_TRANSACTION)

    assert (guarantee.state, guarantee.failed_step) == (State.ACTIVATED, Step.APPLY_TRANSACTION)
    assert guarantee.payment.status == Payment.Status.PAID_IN_FULL
    assert Operation.RETRY in operations.available_operations(guarantee)


def test_a_failed_cancel_after_an_activation_denial_keeps_pay_again(
    place, infinitepay, sandbox, settings, act, buyer
):
    buyer.customer.vat_id = DENIED_AT_ACTIVATION.vat_id
    buyer.customer.save()
    guarantee = place(automated(infinitepay))
    assert guarantee.state == State.ACTIVATION_DENIED
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    sandbox.fail_next(["http_500"])
    guarantee = act(guarantee, Operation.CANCEL)

    assert (guarantee.state, guarantee.failed_step) == (State.ACTIVATION_DENIED, Step.CANCEL)
    assert guarantee.payment.status == Payment.Status.DECLINED
    assert checkout_selectors.can_pay_again(guarantee.payment.order)


def test_check_status_keeps_what_a_decline_said(place, infinitepay, act, buyer):
    buyer.customer.vat_id = DENIED_AT_RESERVE.vat_id
    buyer.customer.save()
    guarantee = place(infinitepay)
    reason = guarantee.last_error_message
    assert guarantee.state == State.DECLINED and reason

    guarantee = act(guarantee, Operation.CHECK_STATUS)
    assert guarantee.state == State.DECLINED
    assert guarantee.last_error_message == reason
    assert guarantee.check_status_note == "Check status: not found at InfinitePay"
    assert guarantee.check_status_detail.startswith("STATUS '0'")


# --- A way out for ops and the buyer -----------------------------------------------------


def test_ops_close_a_failed_reserve_that_infinitepay_does_not_hold(
    place, infinitepay, sandbox, settings, act
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    sandbox.fail_next(["http_500"])
    guarantee = place(infinitepay)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    assert sandbox.order(guarantee.order_id) is None

    guarantee = act(guarantee, Operation.CANCEL)
    assert (guarantee.state, guarantee.failed_step) == (State.CANCELED, "")
    assert guarantee.payment.status == Payment.Status.CANCELED
    assert checkout_selectors.can_pay_again(guarantee.payment.order)
    assert calls(guarantee)[-1] == ("check_status", "denied")


def test_ops_cancel_a_failed_reserve_that_infinitepay_holds_releases_it_there(
    place, infinitepay, sandbox, settings, act, buyer
):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    # The reserve took effect but its answer was lost, and the check after it failed too.
    sandbox.fail_next(["lost_answer", "http_500"])
    guarantee = place(infinitepay)
    assert (guarantee.state, guarantee.failed_step) == (State.NEW, Step.RESERVE)
    assert sandbox.order(guarantee.order_id)["state"] == "RESERVED"

    guarantee = act(guarantee, Operation.CANCEL)
    assert guarantee.state == State.CANCELED
    assert sandbox.order(guarantee.order_id)["state"] == "CANCELED"
    assert Decimal(sandbox.debtor(buyer.customer.vat_id)["reserved"]) == 0
    assert calls(guarantee)[-2:] == [("check_status", "approved"), ("cancel", "approved")]


def test_ops_correct_the_debtor_data_and_retry(place, infinitepay, sandbox, settings, act):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    sandbox.fail_next(["http_500", "http_500"])
    guarantee = place(infinitepay)
    assert guarantee.failed_step == Step.RESERVE

    guarantee = act(
        guarantee,
        Operation.CORRECT_DEBTOR_DATA,
        debtor_email="billing@muster.example",
        legal_form="ag",
    )
    assert guarantee.state == State.RESERVED
    assert guarantee.payment.method_data == {
        "debtor_email": "billing@muster.example",
        "legal_form": "ag",
    }
    sent = guarantee.api_calls.filter(step="reserve").last().request_xml
    assert "<BD_EMAIL>billing@muster.example</BD_EMAIL>" in sent
    assert "<COM_OR_PER>ag</COM_OR_PER>" in sent


def test_every_guarantee_that_is_not_final_offers_ops_an_operation(place, infinitepay, sandbox):
    guarantee = place(infinitepay)  # RESERVED
    assert has_a_way_out(guarantee)
    for state in State:
        for failed_step in ["", *Step]:
            Guarantee.objects.filter(pk=guarantee.pk).update(state=state, failed_step=failed_step)
            guarantee.refresh_from_db()
            final = state in (State.SETTLED, State.DECLINED, State.CANCELED) and not failed_step
            assert final or has_a_way_out(guarantee), (state, failed_step)


# --- What the buyer reads ----------------------------------------------------------------


def test_a_buyer_reads_our_words_for_a_decline_never_the_providers(
    place, infinitepay, buyer, buyer_client
):
    buyer.customer.vat_id = DENIED_AT_RESERVE.vat_id
    buyer.customer.save()
    guarantee = place(infinitepay)
    provider_text = guarantee.api_calls.get().error_messages[0]
    assert provider_text

    order = guarantee.payment.order
    status = buyer_client.get(reverse("checkout:order_status", args=[order.number])).json()
    page = buyer_client.get(reverse("checkout:order_detail", args=[order.number]))
    assert provider_text not in str(status)
    assert provider_text not in page.content.decode()
    assert "InfinitePay could not guarantee this invoice" in str(status)


def test_provider_text_that_echoes_a_secret_is_never_stored(place, infinitepay, sandbox):
    infinitepay.password = "pa<ss>&w0rd-echoed"
    infinitepay.save()
    guarantee = place(infinitepay)  # the sandbox refuses the password, and says which
    stored = [
        *ApiCall.objects.filter(guarantee=guarantee).values_list(
            "request_xml", "response_xml", "error_messages"
        ),
        Guarantee.objects.values_list("last_error_message").get(pk=guarantee.pk),
    ]
    text = str(stored)
    assert "pa<ss>&w0rd-echoed" not in text
    assert "pa&lt;ss&gt;&amp;w0rd-echoed" not in text


def test_the_pipeline_writes_the_guarantees_story_as_events(place, infinitepay, sandbox, settings):
    settings.INFINITEPAY_MAX_ATTEMPTS = 1
    sandbox.fail_next(["http_500", "http_500"])
    failed = place(infinitepay)
    # Each event keeps its msgid and parameters: what InfinitePay said as data, never words.
    assert [(e.kind, e.text, e.params) for e in failed.events.all()] == [
        (
            "step_failed",
            "%(step)s failed: %(reason)s",
            {"step": "reserve", "reason": "InfinitePay failed on its side", "detail": "HTTP 500"},
        ),
        ("check_status", "Check status failed", {"detail": "HTTP 500"}),
    ]
    guarantee = place(automated(infinitepay))
    changes = guarantee.events.filter(kind="state_changed")
    assert [describe(e.text, e.params) for e in changes] == [
        "NEW → RESERVED",
        "RESERVED → CAPTURED",
        "CAPTURED → ACTIVATED",
    ]
    with translation.override("de"):
        assert [describe(e.text, e.params) for e in changes][0] == "NEU → RESERVIERT"


def test_an_approval_recorded_after_a_replaced_workers_failure_moves_on_with_no_failure(
    place, infinitepay
):
    """The sweeper gave the step to a second worker; the first recorded a failure, then the
    second's approval came: the guarantee moves on and nothing is left failed."""
    guarantee = place(infinitepay)  # RESERVED, capture not automated
    Guarantee.objects.filter(pk=guarantee.pk).update(
        failed_step=Step.CAPTURE, last_error_message="Gave up", step_in_flight=Step.CAPTURE
    )
    exchange = Exchange(Operation_.CAPTURE, "u", "<r/>", "<a/>", 200, 1)
    approval = Result(Operation_.CAPTURE, "1", guarantee.order_id, "", "", None, "", (), exchange)
    services._record_result(
        guarantee_id=guarantee.pk, step=Step.CAPTURE, result=approval, task_id=""
    )
    guarantee.refresh_from_db()
    assert (guarantee.state, guarantee.failed_step) == (State.CAPTURED, "")
    assert has_a_way_out(guarantee)
