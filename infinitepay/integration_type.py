"""InfinitePay as an integration type: what checkout and payment rules may ask of it."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from backoffice.phrases import Phrase
from integrations.registry import ConnectionCheck, Health, IntegrationType, InvoiceTerms
from payment_rules.context import CheckoutContext

from .forms import DebtorDataForm
from .models import InfinitePayIntegration


class InfinitePayType(IntegrationType[InfinitePayIntegration]):
    key = "infinitepay"
    name = "InfinitePay"
    model = InfinitePayIntegration
    # Checkout asks the buyer for the Debtor Data InfinitePay checks: e-mail and legal form.
    method_form_class = DebtorDataForm
    method_form_title = gettext_lazy("Debtor Data")  # type: ignore[assignment]
    # The order page in the back office shows each payment's guarantee and its calls.
    admin_payment_template = "admin/infinitepay/_payment_guarantee.html"
    # Activated, InfinitePay guarantees the invoice; the buyer pays it when it falls due.
    guarantees_invoice = True

    def initial_method_data(
        self, *, method_data: Mapping[str, Any], context: CheckoutContext | None
    ) -> dict:
        """The buyer's own e-mail until they give another (the legal form starts at AG)."""
        buyer = context.buyer if context is not None else None
        initial = {"debtor_email": buyer.email} if buyer is not None and buyer.email else {}
        return {**initial, **method_data}

    def is_applicable(self, integration: InfinitePayIntegration, context: Any) -> bool:
        # InfinitePay guarantees payments of companies only: it needs the buyer's VAT ID.
        customer = getattr(context, "customer", None)
        return bool(customer is not None and getattr(customer, "vat_id", ""))

    def start(self, payment: Any) -> None:
        from . import services

        services.start_guarantee(payment=payment)

    def check_connection(self, integration: InfinitePayIntegration) -> ConnectionCheck:
        """Make one authenticated call; say whether it connected and, in plain words, how."""
        from .client import (
            UNREADABLE_PREFIX,
            ConnectionStatus,
            InfinitePayClient,
            check_connection,
        )

        # A secret that cannot be decrypted raises UndecryptableSecret, which the admin's
        # check of every type answers (integrations.admin.check_connection_of).
        specific = integration.specific()
        assert isinstance(specific, InfinitePayIntegration)
        check = check_connection(InfinitePayClient.for_integration(specific))
        # Kept as phrases: the integration's last check reads in whoever's language reads it;
        # what InfinitePay or the connection said is kept as it came.
        if check.status == ConnectionStatus.CONNECTED:
            return ConnectionCheck(True, _said(CONNECTED, integration))
        if check.status == ConnectionStatus.CREDENTIALS_REJECTED:
            return ConnectionCheck(False, _said(CREDENTIALS_REJECTED, integration, check.detail))
        if check.status == ConnectionStatus.SERVICE_DESCRIPTION_UNREADABLE:
            # The detail repeats what the phrase says before it: keep only the cause.
            cause = check.detail.removeprefix(UNREADABLE_PREFIX)
            return ConnectionCheck(False, _said(UNREADABLE, integration, cause))
        return ConnectionCheck(False, _said(UNREACHABLE, integration, check.detail))

    def health(self, integration_ids: list[int]) -> dict[int, Health]:
        """One line per integration for the integrations list, in one query for all."""
        from . import selectors

        return selectors.integration_health(integration_ids=integration_ids)

    def invoice_terms(self, payment: Any) -> InvoiceTerms:
        """The Invoice Due Period from the invoice date: the day of the successful Activate,
        or, before it, the order's day when Activate runs by itself right after the order
        (with ops activating on shipping, the date is known only then)."""
        from .models import ApiCall
        from .states import Step

        integration = payment.integration.specific()
        activated = (
            ApiCall.objects.filter(
                guarantee__payment_id=payment.pk,
                step=Step.ACTIVATE,
                outcome=ApiCall.Outcome.APPROVED,
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        invoiced_at = activated or (
            payment.created_at if integration.auto_capture and integration.auto_activation else None
        )
        if invoiced_at is None:
            return InvoiceTerms(days=integration.invoice_due_period, due_on=None)
        due_on = timezone.localdate(invoiced_at) + timedelta(days=integration.invoice_due_period)
        return InvoiceTerms(days=integration.invoice_due_period, due_on=due_on)

    def is_confirming(self, payment: Any) -> bool:
        """A step is queued or in flight, and none has failed (ops take over then)."""
        from . import selectors
        from .models import Guarantee

        return (
            Guarantee.objects.filter(payment_id=payment.pk, failed_step="")
            .filter(selectors.UNDER_WAY)
            .exists()
        )

    def describe_status(self, payment: Any) -> str:
        from . import selectors

        return selectors.payment_status(payment=payment)


# What Check connection says, by outcome (`detail`: what InfinitePay or the connection said).
CONNECTED = gettext_noop("%(integration)s: connected.")
CREDENTIALS_REJECTED = gettext_noop(
    "%(integration)s: credentials rejected. Check the Client Reference, Username, Password "
    "and Secret (%(detail)s)."
)
UNREADABLE = gettext_noop(
    "%(integration)s: InfinitePay's service description could not be read (%(detail)s)."
)
UNREACHABLE = gettext_noop("%(integration)s: unreachable (%(detail)s).")


def _said(text: str, integration: Any, detail: str = "") -> Phrase:
    return Phrase(text, {"integration": str(integration), "detail": detail})
