from integrations.models import Integration


class PaymentTermIntegration(Integration):
    """Pay by invoice on the shop's own terms: offline, no provider call, no guarantee."""

    type_key = "payment_term"

    class Meta:
        verbose_name = "Payment Term integration"
