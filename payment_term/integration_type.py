"""Payment Term as an integration type: pay by invoice on the shop's terms, nothing to call.

OroCommerce offers Payment Term to customers that have a term assigned; here every
customer buys on the shop's one term (named in the method's label), so it always applies.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from integrations.registry import IntegrationType

from .models import PaymentTermIntegration


class PaymentTermType(IntegrationType[PaymentTermIntegration]):
    """Nothing to ask the buyer, no provider to call or check: the base class's defaults."""

    key = "payment_term"
    name = _("Payment Term")
    model = PaymentTermIntegration

    def is_applicable(self, integration: PaymentTermIntegration, context: Any) -> bool:
        return True

    def start(self, payment: Any) -> None:
        # The buyer pays the invoice later; there is no provider to tell.
        return None

    def describe_status(self, payment: Any) -> str:
        # The shop marks the invoice paid itself; the payment's own status says it all.
        return payment.get_status_display()
