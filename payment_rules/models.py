"""Payment rules: which payment methods a buyer sees at checkout (OroCommerce's model).

A rule applies to one currency, optionally only to some billing destinations, and
optionally only when its expression holds; it enables one or more methods. See
docs/payment-rules.md for the evaluation steps.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_countries.fields import CountryField

from integrations.models import Integration

from . import expressions
from .currencies import normalize_currency_code, validate_currency_code

region_validator = RegexValidator(
    r"^[A-Z]{2}-[A-Z0-9]{1,3}$", "Enter an ISO 3166-2 region code, e.g. DE-BY."
)


def normalize_postal_code(value: str) -> str:
    """Compare postal codes without case or stray spaces: "sw1a  1aa " is "SW1A 1AA"."""
    return " ".join(value.split()).upper()


class PaymentRule(models.Model):
    name = models.CharField(max_length=255, help_text="How admins recognise this rule.")
    enabled = models.BooleanField(
        default=True, help_text="Disabled rules are kept but never offer their methods."
    )
    sort_order = models.IntegerField(
        default=0,
        help_text="Rules are applied in ascending order; equal orders go by creation (id).",
    )
    currency = models.CharField(
        max_length=3,
        validators=[validate_currency_code],
        help_text="The rule applies only to checkouts in this currency (ISO 4217, e.g. EUR).",
    )
    stop_processing = models.BooleanField(
        "Stop further processing",
        default=False,
        help_text="When this rule applies, rules with a higher sort order are not considered.",
    )
    expression = models.TextField(
        blank=True,
        help_text="An optional condition on the checkout, e.g. "
        'total > 500 and billing_address.country == "DE". Empty means always.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The tiebreak for equal sort orders is the id: older rules come first.
        ordering = ["sort_order", "id"]
        indexes = [
            # The checkout pre-filter: enabled rules of one currency, in evaluation order.
            models.Index(
                fields=["currency", "enabled", "sort_order", "id"], name="rule_prefilter_idx"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude=None) -> None:
        # Normalize before the validators look: "eur" is EUR, "EURO" and "ABC" are refused.
        self.currency = normalize_currency_code(self.currency)
        self.expression = (self.expression or "").strip()
        super().clean_fields(exclude)

    def clean(self) -> None:
        super().clean()
        if self.expression:
            error = expressions.check_expression(self.expression)
            if error:
                raise ValidationError({"expression": error})


class RuleDestination(models.Model):
    """A billing destination: a country, optionally one region and some postal codes."""

    rule = models.ForeignKey(PaymentRule, on_delete=models.CASCADE, related_name="destinations")
    country = CountryField()
    region = models.CharField(
        max_length=6,
        blank=True,
        validators=[region_validator],
        help_text="Optional ISO 3166-2 code, e.g. DE-BY; empty means the whole country.",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            # The pre-filter looks destinations up per rule by country and region.
            models.Index(fields=["rule", "country", "region"], name="destination_match_idx")
        ]

    def __str__(self) -> str:
        return f"{self.country.code}{' ' + self.region if self.region else ''}"

    def clean_fields(self, exclude=None) -> None:
        self.region = (self.region or "").strip().upper()
        super().clean_fields(exclude)

    def clean(self) -> None:
        super().clean()
        if self.region and self.country and not self.region.startswith(f"{self.country}-"):
            raise ValidationError(
                {"region": f"The region must lie in the country: expected {self.country}-…"}
            )


class RuleDestinationPostalCode(models.Model):
    destination = models.ForeignKey(
        RuleDestination, on_delete=models.CASCADE, related_name="postal_codes"
    )
    # Stored normalized (see normalize_postal_code) so that the pre-filter compares exactly.
    postal_code = models.CharField(max_length=32)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "postal_code"], name="destination_postal_code_unique"
            )
        ]

    def __str__(self) -> str:
        return self.postal_code

    def save(self, *args, **kwargs) -> None:
        self.postal_code = normalize_postal_code(self.postal_code)
        super().save(*args, **kwargs)


class RuleMethod(models.Model):
    """A method configuration: the rule offers this integration's payment method."""

    rule = models.ForeignKey(PaymentRule, on_delete=models.CASCADE, related_name="methods")
    # Deleting an integration removes its configurations; the admin warns which rules
    # lose their last active method before it does.
    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="payment_rule_methods"
    )
    options = models.JSONField(
        default=dict,
        blank=True,
        help_text="Method options handed to checkout with the method (a JSON object).",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "method configuration"
        constraints = [
            models.UniqueConstraint(fields=["rule", "integration"], name="rule_method_unique")
        ]

    def __str__(self) -> str:
        return str(self.integration)

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.options, dict):
            raise ValidationError({"options": "Options must be a JSON object, e.g. {}."})
