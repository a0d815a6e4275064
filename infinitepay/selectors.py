"""Reads of the guarantee pipeline."""

from checkout.models import Payment

from .models import Guarantee
from .states import State

BUYER_WORDS = {
    State.DECLINED: "InfinitePay could not guarantee this invoice",
    State.ACTIVATION_DENIED: "InfinitePay did not guarantee the invoice",
}


def payment_status(*, payment: Payment) -> str:
    """The payment's status in Oro's words, with the reason when it was declined."""
    words = payment.get_status_display()
    if payment.status != Payment.Status.DECLINED:
        return words
    guarantee = Guarantee.objects.filter(payment=payment).only("state", "last_error_message")
    guarantee = guarantee.first()
    if guarantee is None:
        return words
    reason = BUYER_WORDS.get(State(guarantee.state), "")
    detail = guarantee.last_error_message
    return f"{words}: {reason}" + (f" ({detail})." if detail else ".")
