"""InfinitePay as an integration type: what checkout and payment rules may ask of it."""

from typing import Any

from .models import InfinitePayIntegration


class InfinitePayType:
    key = "infinitepay"
    name = "InfinitePay"
    # Checkout asks the buyer for Debtor Data (e-mail, legal form) for this method.
    needs_debtor_data = True
    # The order page in the back office shows each payment's guarantee and its calls.
    admin_payment_template = "admin/infinitepay/_payment_guarantee.html"

    @property
    def model(self) -> type[InfinitePayIntegration]:
        return InfinitePayIntegration

    def is_applicable(self, integration: InfinitePayIntegration, context: Any) -> bool:
        # InfinitePay guarantees payments of companies only: it needs the buyer's VAT ID.
        customer = getattr(context, "customer", None)
        return bool(customer is not None and getattr(customer, "vat_id", ""))

    def start(self, payment: Any) -> None:
        from . import services

        services.start_guarantee(payment=payment)

    def check_connection(self, integration: InfinitePayIntegration) -> tuple[bool, str]:
        """Make one authenticated call; say whether it connected and, in plain words, how."""
        from integrations.encryption import UndecryptableSecret

        from .client import ConnectionStatus, InfinitePayClient, check_connection

        try:
            client = InfinitePayClient.for_integration(integration.specific())
        except UndecryptableSecret as error:
            return False, f"{integration}: {error}"
        check = check_connection(client)
        if check.status == ConnectionStatus.CONNECTED:
            return True, f"{integration}: connected."
        if check.status == ConnectionStatus.CREDENTIALS_REJECTED:
            return False, (
                f"{integration}: credentials rejected. Check the Client Reference, Username, "
                f"Password and Secret ({check.detail})."
            )
        if check.status == ConnectionStatus.SERVICE_DESCRIPTION_UNREADABLE:
            return False, f"{integration}: {check.detail}"
        return False, f"{integration}: unreachable ({check.detail})."

    def health(self, integration_ids: list[int]) -> dict[int, str]:
        """One line per integration for the integrations list, in one query for all."""
        from . import selectors

        return selectors.integration_health(integration_ids=integration_ids)

    def describe_status(self, payment: Any) -> str:
        from . import selectors

        return selectors.payment_status(payment=payment)
