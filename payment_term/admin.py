from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from integrations.admin import IntegrationTypeAdmin

from .models import PaymentTermIntegration


@admin.register(PaymentTermIntegration)
class PaymentTermIntegrationAdmin(IntegrationTypeAdmin):
    fieldsets = [
        (None, {"fields": ["name", "label", "short_label"]}),
        (_("Status"), {"fields": ["status", "default_owner"]}),
    ]
