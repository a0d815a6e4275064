from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

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

    def get_urls(self):
        check = self.admin_site.admin_view(require_POST(self.check_connection_view))
        return [
            path(
                "<path:object_id>/check-connection/",
                check,
                name="infinitepay_infinitepayintegration_check_connection",
            ),
            *super().get_urls(),
        ]

    def check_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The change form's Check connection button: one authenticated call, then back."""
        integration = self.get_object(request, object_id)
        if integration is None or not self.has_change_permission(request, integration):
            raise PermissionDenied
        connected, message = integration.integration_type.check_connection(integration)
        self.message_user(request, message, messages.SUCCESS if connected else messages.ERROR)
        return HttpResponseRedirect(
            reverse("admin:infinitepay_infinitepayintegration_change", args=[integration.pk])
        )
