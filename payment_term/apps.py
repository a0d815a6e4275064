from django.apps import AppConfig


class PaymentTermConfig(AppConfig):
    name = "payment_term"
    verbose_name = "Payment Term"

    def ready(self) -> None:
        from integrations import registry

        from .integration_type import PaymentTermType

        registry.register(PaymentTermType())
