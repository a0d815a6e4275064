"""Fixtures of the InfinitePay tests: an order placed and its pipeline run against the sandbox."""

import pytest

from checkout import services as checkout_services
from infinitepay.models import Guarantee


@pytest.fixture
def place(ready_cart, buyer, sandbox, eager_tasks, django_capture_on_commit_callbacks):
    """Place an order paid with InfinitePay; the pipeline runs as the transaction commits."""

    def place(infinitepay, *, run: bool = True) -> Guarantee:
        cart = ready_cart(infinitepay, debtor_email="ap@muster.example", legal_form="gmbh")
        with django_capture_on_commit_callbacks(execute=run):
            order = checkout_services.place_order(
                buyer=buyer, checkout_token=cart.checkout_token, buyer_ip="203.0.113.7"
            )
        return Guarantee.objects.select_related("payment").get(payment__order=order)

    return place
