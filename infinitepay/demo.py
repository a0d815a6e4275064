"""Demo data for InfinitePay: one integration pointing at the sandbox the run command starts."""

from django.contrib.auth.models import User

from sandbox.accounts import (  # the sandbox's default account
    SANDBOX_CLIENT_REFERENCE,
    SANDBOX_PASSWORD,
    SANDBOX_SECRET,
    SANDBOX_USERNAME,
)

from .models import InfinitePayIntegration


def seed_integration(*, owner: User) -> InfinitePayIntegration:
    integration = InfinitePayIntegration.objects.filter(name="InfinitePay (sandbox)").first()
    if integration is not None:
        return integration
    integration = InfinitePayIntegration(
        name="InfinitePay (sandbox)",
        label_en="Invoice, guaranteed by InfinitePay",
        label_de="Rechnungskauf, abgesichert durch InfinitePay",
        short_label_en="InfinitePay",
        short_label_de="InfinitePay",
        client_reference=SANDBOX_CLIENT_REFERENCE,
        username=SANDBOX_USERNAME,
        password=SANDBOX_PASSWORD,
        secret=SANDBOX_SECRET,
        auto_capture=True,
        auto_activation=True,
        test_mode=True,
        default_owner=owner,
    )
    integration.full_clean()
    integration.save()
    return integration
