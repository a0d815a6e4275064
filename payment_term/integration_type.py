"""Payment Term as an integration type: always applicable, nothing to call."""

from typing import Any

from .models import PaymentTermIntegration


class PaymentTermType:
    key = "payment_term"
    name = "Payment Term"

    @property
    def model(self) -> type[PaymentTermIntegration]:
        return PaymentTermIntegration

    def is_applicable(self, integration: PaymentTermIntegration, context: Any) -> bool:
        return True

    def start(self, payment: Any) -> None:
        # The buyer pays the invoice later; there is no provider to tell.
        return None

    def describe_status(self, payment: Any) -> str:
        return "Pending payment"
