from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentTermConfig(AppConfig):
    name = "payment_term"
    verbose_name = _("Payment Term")

    def ready(self) -> None:
        from integrations import registry

        from .integration_type import PaymentTermType

        registry.register(PaymentTermType())
