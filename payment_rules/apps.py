from django.apps import AppConfig


class PaymentRulesConfig(AppConfig):
    name = "payment_rules"
    verbose_name = "Payment rules"
