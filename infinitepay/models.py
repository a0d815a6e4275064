from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from checkout.validators import validate_xml_text
from integrations.encryption import EncryptedTextField
from integrations.models import Integration

from .states import State, Step
from .wording import describe

SECRET_MAX_LENGTH = 255
# A year: longer terms are no business terms, and a date that far ahead overflows.
MAX_PERIOD_DAYS = 365


class InfinitePayIntegration(Integration):
    """The settings of one InfinitePay account, in the order of OroCommerce's form."""

    type_key = "infinitepay"

    client_reference = models.CharField(
        _("client reference"),
        max_length=255,
        validators=[validate_xml_text],
        help_text=_(
            "Your client reference at InfinitePay (CLIENT_REF); it also signs every request."
        ),
    )
    username = models.CharField(
        _("username"),
        max_length=255,
        validators=[validate_xml_text],
        help_text=_("The API user InfinitePay gave you (WS-Security username)."),
    )
    password = EncryptedTextField(
        _("password"),
        validators=[MaxLengthValidator(SECRET_MAX_LENGTH), validate_xml_text],
        help_text=_(
            "The API user's password. Stored encrypted; leave blank to keep the saved one."
        ),
    )
    secret = EncryptedTextField(
        _("secret"),
        validators=[MaxLengthValidator(SECRET_MAX_LENGTH), validate_xml_text],
        help_text=_(
            "The shared secret for the security code (SECURITY_CD). Stored encrypted; "
            "leave blank to keep the saved one."
        ),
    )
    auto_capture = models.BooleanField(
        _("Auto-Capture"),
        default=False,
        help_text=_("Capture each order right after its reservation, without waiting for ops."),
    )
    auto_activation = models.BooleanField(
        _("Auto-Activation"),
        default=False,
        help_text=_(
            "Activate the guarantee right after capture, with the planned delivery date. "
            "Needs Auto-Capture. Leave off to activate by hand once the order ships."
        ),
    )
    test_mode = models.BooleanField(
        _("test mode"),
        default=False,
        help_text=_(
            "Send calls to InfinitePay's test endpoint instead of the live one "
            "(INFINITEPAY_TEST_URL; in development, the sandbox)."
        ),
    )
    debug_mode = models.BooleanField(
        _("debug mode"),
        default=False,
        help_text=_("Log every request and response (with password and security code removed)."),
    )
    invoice_due_period = models.IntegerField(
        _("invoice due period"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PERIOD_DAYS)],
        help_text=_("Days from the invoice date until payment is due (PAYMENT_TERMS)."),
    )
    shipping_duration = models.IntegerField(
        _("shipping duration"),
        default=21,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PERIOD_DAYS)],
        help_text=_(
            "Days from the invoice date until delivery, used when activating automatically."
        ),
    )

    credentials_rejected_at = models.DateTimeField(
        _("credentials rejected at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set when InfinitePay rejected the credentials; cleared by the next good call."
        ),
    )

    class Meta:
        verbose_name = _("InfinitePay integration")
        verbose_name_plural = _("InfinitePay integrations")
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
                    "auto_activation": _(
                        "Auto-Activation needs Auto-Capture: InfinitePay only activates an "
                        "order that has been captured."
                    )
                }
            )


class Guarantee(models.Model):
    """InfinitePay's guarantee of one payment, and where its pipeline stands.

    `state` moves only through `infinitepay.states`. A step is first *pending* (wanted,
    enqueued) and then *in flight* (claimed by one worker, call under way); the sweeper
    finds either when it has lasted too long.
    """

    payment = models.OneToOneField(
        "checkout.Payment",
        on_delete=models.PROTECT,
        related_name="guarantee",
        verbose_name=_("payment"),
    )
    integration = models.ForeignKey(
        InfinitePayIntegration,
        on_delete=models.PROTECT,
        related_name="guarantees",
        verbose_name=_("integration"),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=State.choices,
        default=State.NEW,
    )
    order_id = models.CharField(
        _("ORDER_ID"),
        max_length=64,
        unique=True,
        help_text=_(
            "Sent with every call for this payment, so a repeated call never counts twice."
        ),
    )
    ref_no = models.CharField(_("REF_NO"), max_length=64, blank=True)
    debtor_id = models.CharField(_("debtor ID"), max_length=64, blank=True)
    guaranteed_amount = models.DecimalField(
        _("guaranteed amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    pending_step = models.CharField(
        _("pending step"), max_length=20, choices=Step.choices, blank=True
    )
    pending_since = models.DateTimeField(
        _("pending since"),
        null=True,
        blank=True,
        help_text=_("When the pending step was enqueued, or falls due."),
    )
    step_in_flight = models.CharField(
        _("step in flight"), max_length=20, choices=Step.choices, blank=True
    )
    in_flight_since = models.DateTimeField(_("in flight since"), null=True, blank=True)
    attempts = models.PositiveIntegerField(
        _("attempts"), default=0, help_text=_("Calls made for the current step.")
    )
    failed_step = models.CharField(
        _("failed step"),
        max_length=20,
        choices=Step.choices,
        blank=True,
        help_text=_("The step that failed; the state stays where it was. Retry clears it."),
    )
    close_requested = models.BooleanField(
        _("close requested"),
        default=False,
        help_text=_(
            "Ops asked to cancel a guarantee whose Reserve failed: check status decides "
            "whether InfinitePay releases it or it is closed here."
        ),
    )
    check_status_note = models.TextField(
        _("check status note"),
        blank=True,
        help_text=_(
            "What the last check status concluded (stored in English, shown in the reader's "
            "language)."
        ),
    )
    check_status_detail = models.TextField(
        _("check status answer"),
        blank=True,
        help_text=_("What InfinitePay answered to the last check status, as it came."),
    )
    corrected_debtor = models.JSONField(
        _("corrected debtor"),
        default=dict,
        blank=True,
        help_text=_("The company data as InfinitePay corrected it."),
    )
    failure_reason = models.CharField(
        _("failure reason"),
        max_length=100,
        blank=True,
        help_text=_("Why the step failed (stored in English, shown in the reader's language)."),
    )
    last_error_code = models.CharField(_("last error code"), max_length=64, blank=True)
    last_error_message = models.TextField(
        _("last error message"),
        blank=True,
        help_text=_("What InfinitePay or the connection said, as it came (redacted)."),
    )
    next_retry_at = models.DateTimeField(_("next retry at"), null=True, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("guarantee")
        verbose_name_plural = _("guarantees")
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
        # Every step rewrites the row and each index with it: no index the reads do not use
        # (a CharField's db_index adds a second one, for LIKE, on PostgreSQL).
        indexes = [
            models.Index(fields=["state"], name="guarantee_state"),
            models.Index(fields=["ref_no"], name="guarantee_ref_no"),
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
        return _("Guarantee %(order_id)s (%(state)s)") % {
            "order_id": self.order_id,
            "state": State(self.state).label,
        }


class ApiCall(models.Model):
    """One call to InfinitePay, successful or not: the audit trail of a guarantee."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        DENIED = "denied", _("Denied")
        TRANSIENT = "transient", _("Transient failure")
        AUTH_FAILED = "auth_failed", _("Credentials rejected")
        REJECTED = "rejected", _("Request rejected")
        MALFORMED = "malformed", _("Malformed answer")

    guarantee = models.ForeignKey(
        Guarantee,
        on_delete=models.CASCADE,
        related_name="api_calls",
        verbose_name=_("guarantee"),
    )
    operation = models.CharField(_("operation"), max_length=40)
    step = models.CharField(_("step"), max_length=20, choices=Step.choices)
    attempt = models.PositiveIntegerField(_("attempt"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    url = models.CharField(_("URL"), max_length=255, blank=True)
    request_xml = models.TextField(
        _("request XML"), blank=True, help_text=_("Password and security code removed.")
    )
    response_xml = models.TextField(_("response XML"), blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    provider_status = models.CharField(_("STATUS"), max_length=8, blank=True)
    error_codes = models.JSONField(_("error codes"), default=list, blank=True)
    error_messages = models.JSONField(_("error messages"), default=list, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    task_id = models.CharField(_("task ID"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("API call")
        verbose_name_plural = _("API calls")

    def __str__(self) -> str:
        return f"{self.operation} #{self.attempt}: {self.get_outcome_display()}"


class GuaranteeEvent(models.Model):
    """Something that happened to a guarantee beside its calls: written by the services.

    The timeline shows these with the API calls and the ops actions (the admin's log), so
    that ops read a guarantee's whole story in one place: state changes, failed steps, the
    sweeper taking a step over, what check status concluded. `infinitepay.events` writes them.
    """

    class Kind(models.TextChoices):
        STATE_CHANGED = "state_changed", _("State changed")
        STEP_FAILED = "step_failed", _("Step failed")
        STEP_REQUESTED = "step_requested", _("Step requested")
        SWEEPER = "sweeper", _("Sweeper")
        CHECK_STATUS = "check_status", pgettext_lazy("timeline event", "Check status")
        DEBTOR_CORRECTED = "debtor_corrected", _("Debtor data corrected")

    guarantee = models.ForeignKey(
        Guarantee,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("guarantee"),
        db_index=False,  # the timeline's index (guarantee, at) serves it
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The English msgid of what happened (infinitepay.wording), translated when shown, with
    # its parameters apart: step and state codes, reasons, and raw text kept as it came.
    text = models.TextField(_("text"))
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # Who asked for it, when a person did (an ops operation); empty for the pipeline's own.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("guarantee event")
        verbose_name_plural = _("guarantee events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["guarantee", "at"], name="guarantee_event_timeline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {describe(self.text, self.params)}"
