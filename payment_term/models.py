from django.utils.translation import gettext_lazy as _

from integrations.models import Integration


class PaymentTermIntegration(Integration):
    """Pay by invoice on the shop's own terms: offline, no provider call, no guarantee."""

    type_key = "payment_term"

    class Meta:
        verbose_name = _("Payment Term integration")
        verbose_name_plural = _("Payment Term integrations")
