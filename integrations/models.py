from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backoffice.phrases import Phrase

from . import registry


class Integration(models.Model):  # type: ignore[django-manager-missing]  # a plugin limit
    """One configured connection to a payment provider (or an offline method).

    The settings of each type live in a subclass (multi-table inheritance), so every
    integration, whatever its type, is listed and ruled on through this one table.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    name = models.CharField(
        _("name"),
        max_length=255,
        help_text=_("How admins recognise this integration in lists and rules."),
    )
    type = models.CharField(_("type"), max_length=32, choices=registry.type_choices, editable=False)
    label = models.CharField(
        _("label"), max_length=255, help_text=_("The payment method's name buyers see at checkout.")
    )
    short_label = models.CharField(
        _("short label"),
        max_length=255,
        help_text=_("A shorter name, used on order pages and in the back office."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=Status.choices,
        default=Status.ACTIVE,
        db_index=True,
        help_text=_("Only active integrations are offered at checkout and make provider calls."),
    )
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_integrations",
        limit_choices_to={"is_staff": True},
        blank=True,
        verbose_name=_("default owner"),
        help_text=_("The staff member responsible for this integration. Defaults to its creator."),
    )
    # The last Check connection of the saved settings, shown in the list's health column. Its
    # answer is kept as a phrase and its parameters (backoffice.phrases), so that each reader
    # reads it in their own language.
    last_check_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_ok = models.BooleanField(null=True, editable=False)
    last_check_message = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Set by each type's model; saved into `type` so that the base table knows it.
    type_key: ClassVar[str] = ""

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.type_key:
            self.type = self.type_key
        super().save(*args, **kwargs)

    @property
    def last_check_detail(self) -> Phrase:
        """The last Check connection's answer, read in the active language."""
        return Phrase.from_json(self.last_check_message or {})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def method_identifier(self) -> str:
        return str(registry.MethodIdentifier(type_key=self.type, integration_id=self.pk))

    @property
    def integration_type(self) -> registry.IntegrationType:
        return registry.get_type(self.type)

    def specific(self) -> "Integration":
        """Return this integration as an instance of its type's own model."""
        model = self.integration_type.model
        if isinstance(self, model):
            return self
        return model.objects.get(pk=self.pk)
