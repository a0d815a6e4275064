from django.contrib import admin

from integrations.admin import IntegrationTypeAdmin

from .forms import InfinitePayIntegrationForm
from .models import InfinitePayIntegration


@admin.register(InfinitePayIntegration)
class InfinitePayIntegrationAdmin(IntegrationTypeAdmin):
    form = InfinitePayIntegrationForm
    fieldsets = [
        (None, {"fields": ["name"]}),
        (
            "InfinitePay",
            {
                "fields": [
                    "label",
                    "short_label",
                    "client_reference",
                    "username",
                    "password",
                    "secret",
                    "auto_capture",
                    "auto_activation",
                    "test_mode",
                    "debug_mode",
                    "invoice_due_period",
                    "shipping_duration",
                ]
            },
        ),
        ("Status", {"fields": ["status", "default_owner"]}),
    ]
