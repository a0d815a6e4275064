"""Payment rules: which payment methods a buyer sees at checkout (OroCommerce's model).

A rule applies to one currency, optionally only to some billing destinations, and
optionally only when its expression holds; it enables one or more methods. See
docs/payment-rules.md for the evaluation steps.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from integrations.models import Integration

from . import expressions
from .currencies import normalize_currency_code, validate_currency_code

region_validator = RegexValidator(
    r"^[A-Z]{2}-[A-Z0-9]{1,3}$", _("Enter an ISO 3166-2 region code, e.g. DE-BY.")
)


def normalize_postal_code(value: str) -> str:
    """Compare postal codes without case or stray spaces: "sw1a  1aa " is "SW1A 1AA"."""
    return " ".join(value.split()).upper()


class PaymentRule(models.Model):
    name = models.CharField(
        _("name"), max_length=255, help_text=_("How admins recognise this rule.")
    )
    enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("Disabled rules are kept but never offer their methods."),
    )
    sort_order = models.IntegerField(
        _("sort order"),
        default=0,
        help_text=_("Rules are applied in ascending order; equal orders go by creation (id)."),
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        validators=[validate_currency_code],
        help_text=_("The rule applies only to checkouts in this currency (ISO 4217, e.g. EUR)."),
    )
    stop_processing = models.BooleanField(
        _("Stop further processing"),
        default=False,
        help_text=_("When this rule applies, rules with a higher sort order are not considered."),
    )
    expression = models.TextField(
        _("expression"),
        blank=True,
        help_text=_(
            "An optional condition on the checkout, e.g. "
            'total > 500 and billing_address.country == "DE". Empty means always.'
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("payment rule")
        verbose_name_plural = _("payment rules")
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

    rule = models.ForeignKey(
        PaymentRule,
        on_delete=models.CASCADE,
        related_name="destinations",
        verbose_name=_("payment rule"),
    )
    country = CountryField(_("country"))
    region = models.CharField(
        _("region"),
        max_length=6,
        blank=True,
        validators=[region_validator],
        help_text=_("Optional ISO 3166-2 code, e.g. DE-BY; empty means the whole country."),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("destination")
        verbose_name_plural = _("destinations")
        indexes = [
            # The pre-filter looks destinations up per rule by country and region.
            models.Index(fields=["rule", "country", "region"], name="destination_match_idx")
        ]

    def __str__(self) -> str:
        # The country by its name, in the reader's language; a region by its ISO code.
        return f"{self.country.name}{' ' + self.region if self.region else ''}"

    def clean_fields(self, exclude=None) -> None:
        self.region = (self.region or "").strip().upper()
        super().clean_fields(exclude)

    def clean(self) -> None:
        super().clean()
        if self.region and self.country and not self.region.startswith(f"{self.country}-"):
            raise ValidationError(
                {
                    "region": _("The region must lie in the country: expected %(prefix)s-…")
                    % {"prefix": self.country.code}
                }
            )


class RuleDestinationPostalCode(models.Model):
    destination = models.ForeignKey(
        RuleDestination,
        on_delete=models.CASCADE,
        related_name="postal_codes",
        verbose_name=_("destination"),
    )
    # Stored normalized (see normalize_postal_code) so that the pre-filter compares exactly.
    postal_code = models.CharField(_("postal code"), max_length=32)

    class Meta:
        ordering = ["id"]
        verbose_name = _("postal code")
        verbose_name_plural = _("postal codes")
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

    rule = models.ForeignKey(
        PaymentRule,
        on_delete=models.CASCADE,
        related_name="methods",
        verbose_name=_("payment rule"),
    )
    # Deleting an integration removes its configurations; the admin warns which rules
    # lose their last active method before it does.
    integration = models.ForeignKey(
        Integration,
        on_delete=models.CASCADE,
        related_name="payment_rule_methods",
        verbose_name=_("integration"),
    )
    options = models.JSONField(
        _("options"),
        default=dict,
        blank=True,
        help_text=_("Method options handed to checkout with the method (a JSON object)."),
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("method configuration")
        verbose_name_plural = _("method configurations")
        constraints = [
            models.UniqueConstraint(fields=["rule", "integration"], name="rule_method_unique")
        ]

    def __str__(self) -> str:
        return str(self.integration)

    def clean(self) -> None:
        super().clean()
        if not isinstance(self.options, dict):
            raise ValidationError({"options": _("Options must be a JSON object, e.g. {}.")})
