from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentRulesConfig(AppConfig):
    name = "payment_rules"
    verbose_name = _("Payment rules")

    def ready(self) -> None:
        from integrations import admin as integrations_admin

        from .selectors import describe_rules_losing_last_method

        # Integrations' admin warns, before a deactivation or deletion, which rules would
        # be left without an active method; it cannot import payment rules itself.
        integrations_admin.removal_impact_hooks.append(describe_rules_losing_last_method)
