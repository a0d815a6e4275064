from django.contrib import admin

from integrations.admin import IntegrationTypeAdmin

from .models import PaymentTermIntegration


@admin.register(PaymentTermIntegration)
class PaymentTermIntegrationAdmin(IntegrationTypeAdmin):
    fieldsets = [
        (None, {"fields": ["name", "label", "short_label"]}),
        ("Status", {"fields": ["status", "default_owner"]}),
    ]
