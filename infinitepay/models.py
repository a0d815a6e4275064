from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models

from integrations.encryption import EncryptedTextField
from integrations.models import Integration

SECRET_MAX_LENGTH = 255


class InfinitePayIntegration(Integration):
    """The settings of one InfinitePay account, in the order of OroCommerce's form."""

    type_key = "infinitepay"

    client_reference = models.CharField(
        max_length=255,
        help_text="Your client reference at InfinitePay (CLIENT_REF); it also signs every request.",
    )
    username = models.CharField(
        max_length=255, help_text="The API user InfinitePay gave you (WS-Security username)."
    )
    password = EncryptedTextField(
        validators=[MaxLengthValidator(SECRET_MAX_LENGTH)],
        help_text="The API user's password. Stored encrypted; leave blank to keep the saved one.",
    )
    secret = EncryptedTextField(
        validators=[MaxLengthValidator(SECRET_MAX_LENGTH)],
        help_text="The shared secret for the security code (SECURITY_CD). Stored encrypted; "
        "leave blank to keep the saved one.",
    )
    auto_capture = models.BooleanField(
        "Auto-Capture",
        default=False,
        help_text="Capture each order right after its reservation, without waiting for ops.",
    )
    auto_activation = models.BooleanField(
        "Auto-Activation",
        default=False,
        help_text="Activate the guarantee right after capture, with the planned delivery date. "
        "Needs Auto-Capture. Leave off to activate by hand once the order ships.",
    )
    test_mode = models.BooleanField(
        default=True,
        help_text="Send calls to InfinitePay's test endpoint (in development: the sandbox).",
    )
    debug_mode = models.BooleanField(
        default=False,
        help_text="Log every request and response (with password and security code removed).",
    )
    invoice_due_period = models.IntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="Days from the invoice date until payment is due (PAYMENT_TERMS).",
    )
    shipping_duration = models.IntegerField(
        default=21,
        validators=[MinValueValidator(1)],
        help_text="Days from the invoice date until delivery, used when activating automatically.",
    )

    class Meta:
        verbose_name = "InfinitePay integration"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invoice_due_period__gte=1, shipping_duration__gte=1),
                name="infinitepay_periods_positive",
            )
        ]

    def clean(self) -> None:
        super().clean()
        if self.auto_activation and not self.auto_capture:
            raise ValidationError(
                {
                    "auto_activation": "Auto-Activation needs Auto-Capture: InfinitePay only "
                    "activates an order that has been captured."
                }
            )
