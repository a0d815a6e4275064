"""Demo data for Payment Term: the fallback method of the demo rules."""

from django.contrib.auth.models import User

from .models import PaymentTermIntegration


def seed_integration(*, owner: User) -> PaymentTermIntegration:
    integration = PaymentTermIntegration.objects.filter(name="Payment Term").first()
    if integration is not None:
        return integration
    integration = PaymentTermIntegration(
        name="Payment Term",
        label_en="Invoice (30 days net)",
        label_de="Rechnung (30 Tage netto)",
        short_label_en="Payment Term",
        short_label_de="Zahlungsziel",
        default_owner=owner,
    )
    integration.full_clean()
    integration.save()
    return integration
