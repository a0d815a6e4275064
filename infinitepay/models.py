from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from checkout.validators import validate_xml_text
from integrations.encryption import EncryptedTextField
from integrations.models import Integration

from .states import State, Step

SECRET_MAX_LENGTH = 255
# A year: longer terms are no business terms, and a date that far ahead overflows.
MAX_PERIOD_DAYS = 365


class InfinitePayIntegration(Integration):
    """The settings of one InfinitePay account, in the order of OroCommerce's form."""

    type_key = "infinitepay"

    client_reference = models.CharField(
        max_length=255,
        validators=[validate_xml_text],
        help_text="Your client reference at InfinitePay (CLIENT_REF); it also signs every request.",
    )
    username = models.CharField(
        max_length=255,
        validators=[validate_xml_text],
        help_text="The API user InfinitePay gave you (WS-Security username).",
    )
    password = EncryptedTextField(
        validators=[MaxLengthValidator(SECRET_MAX_LENGTH), validate_xml_text],
        help_text="The API user's password. Stored encrypted; leave blank to keep the saved one.",
    )
    secret = EncryptedTextField(
        validators=[MaxLengthValidator(SECRET_MAX_LENGTH), validate_xml_text],
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
        default=False,
        help_text="Send calls to InfinitePay's test endpoint instead of the live one "
        "(INFINITEPAY_TEST_URL; in development, the sandbox).",
    )
    debug_mode = models.BooleanField(
        default=False,
        help_text="Log every request and response (with password and security code removed).",
    )
    invoice_due_period = models.IntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PERIOD_DAYS)],
        help_text="Days from the invoice date until payment is due (PAYMENT_TERMS).",
    )
    shipping_duration = models.IntegerField(
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PERIOD_DAYS)],
        help_text="Days from the invoice date until delivery, used when activating automatically.",
    )

    credentials_rejected_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set when InfinitePay rejected the credentials; cleared by the next good call.",
    )

    class Meta:
        verbose_name = "InfinitePay integration"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    invoice_due_period__gte=1,
                    invoice_due_period__lte=MAX_PERIOD_DAYS,
                    shipping_duration__gte=1,
                    shipping_duration__lte=MAX_PERIOD_DAYS,
                ),
                name="infinitepay_periods_bounded",
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


class Guarantee(models.Model):
    """InfinitePay's guarantee of one payment, and where its pipeline stands.

    `state` moves only through `infinitepay.states`. A step is first *pending* (wanted,
    enqueued) and then *in flight* (claimed by one worker, call under way); the sweeper
    finds either when it has lasted too long.
    """

    payment = models.OneToOneField(
        "checkout.Payment", on_delete=models.PROTECT, related_name="guarantee"
    )
    integration = models.ForeignKey(
        InfinitePayIntegration, on_delete=models.PROTECT, related_name="guarantees"
    )
    state = models.CharField(
        max_length=20,
        choices=State.choices,
        default=State.NEW,
        db_index=True,
    )
    order_id = models.CharField(
        "ORDER_ID",
        max_length=64,
        unique=True,
        help_text="Sent with every call for this payment, so a repeated call never counts twice.",
    )
    ref_no = models.CharField("REF_NO", max_length=64, blank=True, db_index=True)
    debtor_id = models.CharField(max_length=64, blank=True)
    guaranteed_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    pending_step = models.CharField(max_length=20, choices=Step.choices, blank=True)
    pending_since = models.DateTimeField(
        null=True, blank=True, help_text="When the pending step was enqueued, or falls due."
    )
    step_in_flight = models.CharField(max_length=20, choices=Step.choices, blank=True)
    in_flight_since = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Calls made for the current step.")
    failed_step = models.CharField(
        max_length=20,
        choices=Step.choices,
        blank=True,
        help_text="The step that failed; the state stays where it was. Retry clears it.",
    )
    close_requested = models.BooleanField(
        default=False,
        help_text="Ops asked to cancel a guarantee whose Reserve failed: check status decides "
        "whether InfinitePay releases it or it is closed here.",
    )
    check_status_note = models.TextField(
        blank=True, help_text="What the last check status said, as far as it can be read."
    )
    corrected_debtor = models.JSONField(
        default=dict, blank=True, help_text="The company data as InfinitePay corrected it."
    )
    failure_reason = models.CharField(
        max_length=100,
        blank=True,
        help_text="Why the step failed, as ops read it (translated when shown).",
    )
    last_error_code = models.CharField(max_length=64, blank=True)
    last_error_message = models.TextField(
        blank=True, help_text="What InfinitePay or the connection said, as it came (redacted)."
    )
    next_retry_at = models.DateTimeField(null=True, blank=True)
    delivery_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One permission per ops action, so that a team may, say, retry but not cancel.
        permissions = [
            ("retry_guarantee", "Can retry a failed guarantee"),
            ("capture_guarantee", "Can capture a guarantee"),
            ("activate_guarantee", "Can activate a guarantee"),
            ("cancel_guarantee", "Can cancel a guarantee"),
            ("check_status_guarantee", "Can check a guarantee's status at InfinitePay"),
            ("apply_transaction_guarantee", "Can apply the buyer's payment to a guarantee"),
        ]
        indexes = [
            models.Index(fields=["pending_step", "pending_since"], name="guarantee_pending"),
            models.Index(fields=["step_in_flight", "in_flight_since"], name="guarantee_in_flight"),
            # The dashboard's and the list's "failed steps": a few rows among many.
            models.Index(
                fields=["updated_at"],
                condition=~models.Q(failed_step=""),
                name="guarantee_failed_step",
            ),
        ]

    def __str__(self) -> str:
        return f"Guarantee {self.order_id} ({State(self.state).label})"


class ApiCall(models.Model):
    """One call to InfinitePay, successful or not: the audit trail of a guarantee."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        TRANSIENT = "transient", "Transient failure"
        AUTH_FAILED = "auth_failed", "Credentials rejected"
        REJECTED = "rejected", "Request rejected"
        MALFORMED = "malformed", "Malformed answer"

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="api_calls")
    operation = models.CharField(max_length=40)
    step = models.CharField(max_length=20, choices=Step.choices)
    attempt = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    url = models.CharField(max_length=255, blank=True)
    request_xml = models.TextField(blank=True, help_text="Password and security code removed.")
    response_xml = models.TextField(blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    provider_status = models.CharField(max_length=8, blank=True)
    error_codes = models.JSONField(default=list, blank=True)
    error_messages = models.JSONField(default=list, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "API call"

    def __str__(self) -> str:
        return f"{self.operation} #{self.attempt}: {self.get_outcome_display()}"


class GuaranteeEvent(models.Model):
    """Something that happened to a guarantee beside its calls: written by the services.

    The timeline shows these with the API calls and the ops actions (the admin's log), so
    that ops read a guarantee's whole story in one place: state changes, failed steps, the
    sweeper taking a step over, what check status concluded. `infinitepay.events` writes them.
    """

    class Kind(models.TextChoices):
        STATE_CHANGED = "state_changed", "State changed"
        STEP_FAILED = "step_failed", "Step failed"
        STEP_REQUESTED = "step_requested", "Step requested"
        SWEEPER = "sweeper", "Sweeper"
        CHECK_STATUS = "check_status", "Check status"
        DEBTOR_CORRECTED = "debtor_corrected", "Debtor data corrected"

    guarantee = models.ForeignKey(Guarantee, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    # Who asked for it, when a person did (an ops operation); empty for the pipeline's own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["guarantee", "at"], name="guarantee_event_timeline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"
