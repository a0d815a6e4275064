"""The page a user sees where their role does not reach: in the back office, its own."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, gettext_noop
from django.views import defaults

from integrations import registry
from integrations.models import Integration

# The staff roles' groups (made by infinitepay's migrations) are data; their names are in our
# catalogue so that a page listing someone's roles reads in the reader's language.
STAFF_ROLE_NAMES = (gettext_noop("Payment admins"), gettext_noop("Payment ops"))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: in the back office, say who you are, which roles you have and where to go.

    Elsewhere (the shop), Django's plain page.
    """
    in_back_office = request.path.startswith(reverse("admin:index"))
    if not (in_back_office and request.user.is_authenticated and request.user.is_staff):
        return defaults.permission_denied(request, exception or Exception())
    # The roles' names are data, but the demo's groups are named in our catalogue.
    roles = [gettext(group.name) for group in request.user.groups.order_by("name")]
    context = {
        **admin.site.each_context(request),
        "title": gettext("Not open to your role"),
        "roles": roles,
        "reason": str(exception or ""),
        "integrations_page": on_an_integration_types_page(request.path),
    }
    return render(request, "admin/403.html", context, status=403)


def on_an_integration_types_page(path: str) -> bool:
    """A page of an integration type's own model, which holds the type's credentials.

    The Integrations list (the base model's) shows no credentials and is not one of them."""
    models = {integration_type.model for integration_type in registry.all_types()}
    return any(
        path.startswith(
            reverse("admin:app_list", args=[model._meta.app_label]) + f"{model._meta.model_name}/"
        )
        for model in models - {Integration}
    )
