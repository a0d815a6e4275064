"""The claim: one worker per step, and what the step's request reads, right for each claim."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from infinitepay.claim import claim
from infinitepay.states import Step


def claim_now(guarantee_id: int, step: Step):
    now = timezone.now()
    return claim(guarantee_id, step, now=now, lease_expired=now - timedelta(seconds=60))


@pytest.mark.parametrize("prepared", [True, False])
def test_each_claim_reads_its_own_guarantee_and_joins(place, infinitepay, settings, prepared):
    """On PostgreSQL a step's claim statement is built (and prepared, unless turned off)
    once per connection and reused: what each claim returns must still be its own."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    first, second = place(infinitepay, run=False), place(infinitepay, run=False)
    claimed = [claim_now(first.pk, Step.RESERVE), claim_now(second.pk, Step.RESERVE)]
    for guarantee, placed in zip(claimed, [first, second], strict=True):
        assert guarantee.pk == placed.pk
        assert guarantee.payment.order.number == placed.payment.order.number
        assert guarantee.payment.order.customer_id == placed.payment.order.customer_id
        assert guarantee.integration.pk == infinitepay.pk
        assert (guarantee.step_in_flight, guarantee.pending_step) == (Step.RESERVE, "")
        assert guarantee.attempts == 1


def test_a_step_is_claimed_once(place, infinitepay):
    guarantee = place(infinitepay, run=False)
    assert claim_now(guarantee.pk, Step.RESERVE) is not None
    assert claim_now(guarantee.pk, Step.RESERVE) is None  # in flight, its lease running
    assert claim_now(guarantee.pk, Step.CAPTURE) is None  # never asked for


def test_an_abandoned_step_is_claimed_again_once_its_lease_ran_out(place, infinitepay):
    guarantee = place(infinitepay, run=False)
    started = timezone.now()
    claim(guarantee.pk, Step.RESERVE, now=started, lease_expired=started - timedelta(seconds=60))
    later = started + timedelta(seconds=120)
    again = claim(
        guarantee.pk, Step.RESERVE, now=later, lease_expired=later - timedelta(seconds=60)
    )
    assert again is not None
    assert again.attempts == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared on PostgreSQL only")
def test_a_claim_runs_the_statement_prepared_for_its_step(place, infinitepay):
    first, second = place(infinitepay, run=False), place(infinitepay, run=False)
    claim_now(first.pk, Step.RESERVE)
    with CaptureQueriesContext(connection) as captured:
        claim_now(second.pk, Step.RESERVE)
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["EXECUTE"]
