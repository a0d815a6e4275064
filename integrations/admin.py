"""Manage Integrations: one list for every type, each type edited on its own form."""

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as confirm_and_delete_selected
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.timesince import timesince
from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from modeltranslation.admin import TranslationAdmin

from backoffice.phrases import Phrase

from . import registry, services
from .encryption import (
    UNDECRYPTABLE_PHRASE,
    UndecryptableSecret,
    describe_undecryptable,
    find_undecryptable,
    undecryptable_fields,
)
from .models import Integration


def typed_admin_url(model: type[Integration], view: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


# Apps built on integrations (payment rules) tell what deactivating or deleting some would
# break. Integrations cannot import them, so they append a hook here in AppConfig.ready().
RemovalImpactHook = Callable[[Collection[int]], list[str]]
removal_impact_hooks: list[RemovalImpactHook] = []


def removal_impact(integration_ids: Collection[int]) -> list[str]:
    """Warnings, one per line, about what goes when these integrations go."""
    ids = list(integration_ids)
    return [warning for hook in removal_impact_hooks for warning in hook(ids)]


class WarnOfRemovalImpact(admin.ModelAdmin):
    """Show the removal impact on the delete confirmation pages."""

    def render_delete_form(self, request: HttpRequest, context: dict) -> HttpResponse:
        for warning in removal_impact([context["object"].pk]):
            messages.warning(request, warning)
        return super().render_delete_form(request, context)


@admin.register(Integration)
class IntegrationAdmin(WarnOfRemovalImpact, admin.ModelAdmin):
    list_display = ["name_link", "type", "status", "health", "default_owner", "created_at"]
    # The name links to the type's own form only for whom may open it (ops may not).
    list_display_links = None
    list_filter = ["type", "status"]
    search_fields = ["name", "label"]
    list_select_related = ["default_owner"]
    date_hierarchy = "created_at"
    actions = ["activate", "deactivate", "check_connection", "delete_selected"]

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        attach_health(changelist.result_list)
        attach_form_links(request, self.admin_site, changelist.result_list)
        return changelist

    @admin.display(description=gettext_lazy("name"), ordering="name")
    def name_link(self, integration: Integration) -> str:
        url = getattr(integration, "form_url", "")
        if not url:
            return integration.name
        return format_html('<a href="{}">{}</a>', url, integration.name)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method == "GET":
            warn_of_undecryptable_secrets(request)
        return super().changelist_view(request, extra_context)

    @admin.display(description=gettext_lazy("health"))
    def health(self, integration: Integration) -> str:
        summary = getattr(integration, "health_summary", "")
        last_check = describe_last_check(integration)
        if not summary and not last_check:
            return "—"
        verdict = "health-ok" if getattr(integration, "health_ok", False) else "health-problem"
        line = format_html('<span class="{}">{}</span>', verdict, summary) if summary else ""
        if not last_check:
            return line
        check_verdict = "health-ok" if integration.last_check_ok else "health-problem"
        check_line = format_html('<span class="{}">{}</span>', check_verdict, last_check)
        return format_html("{}<br>{}", line, check_line) if line else check_line

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        """Ask which type to create, then hand over to that type's form."""
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        choices = [
            {"name": t.name, "url": typed_admin_url(t.model, "add")} for t in registry.all_types()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Add integration"),
            "types": choices,
        }
        return TemplateResponse(request, "admin/integrations/choose_type.html", context)

    def change_view(self, request: HttpRequest, object_id: str, form_url="", extra_context=None):
        integration = self.get_object(request, object_id)
        if integration is None:
            return super().change_view(request, object_id, form_url, extra_context)
        model = integration.integration_type.model
        return HttpResponseRedirect(typed_admin_url(model, "change", integration.pk))

    @admin.action(
        description=gettext_lazy("Activate selected integrations"), permissions=["change"]
    )
    def activate(self, request: HttpRequest, queryset) -> None:
        changed = services.set_integrations_status(
            integrations=queryset, status=Integration.Status.ACTIVE
        )
        message = ngettext(
            "%(count)d integration activated.", "%(count)d integrations activated.", changed
        )
        self.message_user(request, message % {"count": changed}, messages.SUCCESS)

    @admin.action(
        description=gettext_lazy("Deactivate selected integrations"), permissions=["change"]
    )
    def deactivate(self, request: HttpRequest, queryset) -> HttpResponse | None:
        impact = removal_impact(
            queryset.filter(status=Integration.Status.ACTIVE).values_list("pk", flat=True)
        )
        if impact and request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": gettext("Deactivate integrations?"),
                "integrations": queryset,
                "impact": impact,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/integrations/confirm_deactivation.html", context
            )
        changed = services.set_integrations_status(
            integrations=queryset, status=Integration.Status.INACTIVE
        )
        message = ngettext(
            "%(count)d integration deactivated.", "%(count)d integrations deactivated.", changed
        )
        self.message_user(request, message % {"count": changed}, messages.SUCCESS)
        return None

    @admin.action(description=gettext_lazy("Check connection"), permissions=["change"])
    def check_connection(self, request: HttpRequest, queryset) -> None:
        """One authenticated call per integration whose type talks to a provider."""
        for integration in queryset:
            connected, message = check_saved_connection(integration)
            self.message_user(request, str(message), message_level(connected))

    @admin.action(description=gettext_lazy("Delete selected integrations"), permissions=["delete"])
    def delete_selected(self, request: HttpRequest, queryset) -> HttpResponse | None:
        response = confirm_and_delete_selected(self, request, queryset)
        if response is not None:  # the confirmation page, not the deletion
            for warning in removal_impact(queryset.values_list("pk", flat=True)):
                messages.warning(request, warning)
        return response


def check_connection_of(integration: Integration) -> registry.ConnectionCheck:
    """Its type's connection check, saying so when a stored secret cannot be decrypted."""
    try:
        return registry.get_type(integration.type).check_connection(integration)
    except UndecryptableSecret:
        return registry.ConnectionCheck(
            False,
            Phrase(
                gettext_noop("%(integration)s: %(problem)s."),
                {"integration": str(integration), "problem": UNDECRYPTABLE_PHRASE},
            ),
        )


def check_saved_connection(integration: Integration) -> registry.ConnectionCheck:
    """Check an integration's saved settings and keep the answer for the health column."""
    check = check_connection_of(integration)
    if check.connected is not None:
        services.record_connection_check(
            integration_id=integration.pk,
            connected=check.connected,
            detail=without_integration_name(check.message, integration),
        )
    return check


def without_integration_name(message: Phrase | str, integration: Integration) -> Phrase | str:
    """The answer to keep: a phrase whole (its name is left out when it is read), plain text
    without the name it starts with."""
    if isinstance(message, str):
        return message.removeprefix(f"{integration}: ")
    return message


def describe_last_check(integration: Integration) -> str:
    """E.g. "Last check: connected 5 minutes ago" or "Last check failed 2 minutes ago: …"."""
    if integration.last_check_at is None:
        return ""
    ago = timesince(integration.last_check_at)
    if integration.last_check_ok:
        return gettext("Last check: connected %(time)s ago") % {"time": ago}
    return gettext("Last check failed %(time)s ago: %(answer)s") % {
        "time": ago,
        "answer": read_answer(integration.last_check_detail),
    }


def read_answer(answer: Phrase) -> str:
    """A kept answer in the reader's language, without the integration's name it starts
    with: the health column stands beside the name."""
    text = str(answer)
    name = answer.params.get("integration")
    return text.removeprefix(f"{name}: ") if name else text


def message_level(connected: bool | None) -> int:
    """How a connection check's answer is shown; None: an offline type, nothing to connect to."""
    if connected is None:
        return messages.INFO
    return messages.SUCCESS if connected else messages.ERROR


def warn_of_undecryptable_secrets(request: HttpRequest) -> None:
    """Say on the list which integrations hold secrets the configured keys cannot decrypt."""
    for instance, fields in find_undecryptable():
        messages.warning(request, describe_undecryptable(instance, fields))


def attach_health(integrations: Iterable[Integration]) -> None:
    """Give each listed integration its type's health line, one call per type, not per row."""
    by_type: dict[str, list[Integration]] = defaultdict(list)
    for integration in integrations:
        by_type[integration.type].append(integration)
    for type_key, members in by_type.items():
        health = registry.get_type(type_key).health([i.pk for i in members])
        for integration in members:
            # Read by the list's health column; not fields of the model.
            ok, line = health.get(integration.pk, (False, ""))
            setattr(integration, "health_summary", line)  # noqa: B010
            setattr(integration, "health_ok", ok)  # noqa: B010


def attach_form_links(
    request: HttpRequest, site: admin.AdminSite, integrations: Iterable[Integration]
) -> None:
    """Give each listed integration the URL of its type's form, if the user may open it."""
    may_open: dict[str, bool] = {}
    for integration in integrations:
        model = registry.get_type(integration.type).model
        if integration.type not in may_open:
            model_admin = site._registry.get(model)
            may_open[integration.type] = model_admin is not None and (
                model_admin.has_view_or_change_permission(request)
            )
        url = typed_admin_url(model, "change", integration.pk) if may_open[integration.type] else ""
        # Read by the list's name column; not a field of the model.
        setattr(integration, "form_url", url)  # noqa: B010


class IntegrationTypeAdmin(WarnOfRemovalImpact, TranslationAdmin):
    """Base admin for one type's own form; it lives behind the Manage Integrations list.

    Its form can check the connection with what it holds, before anything is saved.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        # Reached from the Integrations list, not listed on the admin index by itself.
        return False

    def get_urls(self):
        opts = self.model._meta
        # The form posts the password and secret: keep every field out of error reports.
        check = self.admin_site.admin_view(
            sensitive_post_parameters()(require_POST(self.check_connection_view))
        )
        name = f"{opts.app_label}_{opts.model_name}_check_connection"
        return [
            # A new integration's form (before "<object_id>/", which "add" would match too).
            path("add/check-connection/", check, name=name),
            path("<path:object_id>/check-connection/", check, name=name),
            *super().get_urls(),
        ]

    def check_connection_view(self, request: HttpRequest, object_id: str = "") -> HttpResponse:
        """Make one authenticated call with the form's settings, saved or not; save nothing.

        The form's Check connection button posts the whole form here (a blank password or
        secret means the stored one) and shows the answer among the page's messages, or on a
        page of its own without JavaScript. A post without the form checks the saved settings
        and comes back to the form with the answer as a message.
        """
        integration = self.get_object(request, unquote(object_id)) if object_id else None
        if object_id and integration is None:
            raise Http404(gettext("No such integration."))
        if not (
            self.has_change_permission(request, integration)
            if integration is not None
            else self.has_add_permission(request)
        ):
            raise PermissionDenied
        if integration is not None and "name" not in request.POST:
            connected, message = check_saved_connection(integration)
            self.message_user(request, str(message), message_level(connected))
            return HttpResponseRedirect(typed_admin_url(self.model, "change", integration.pk))
        form_class = self.get_form(request, integration, change=integration is not None)
        form = form_class(request.POST, request.FILES, instance=integration)
        if form.is_valid():
            unsaved = form.instance
            unsaved.type = unsaved.type_key  # as saving it would
            connected, answer = check_connection_of(unsaved)
            message = str(answer)
        else:
            connected = False
            message = gettext("Not checked: %(errors)s") % {
                "errors": " ".join(registry.form_errors(form))
            }
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse({"connected": connected, "message": message})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Check connection"),
            "connected": connected,
            "message": message,
        }
        return TemplateResponse(request, "admin/integrations/check_connection.html", context)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        """Ask again for each stored secret that cannot be decrypted, saying why."""
        form = super().get_form(request, obj, change=change, **kwargs)
        unreadable = [f.name for f in undecryptable_fields(obj)] if obj is not None else []
        if not unreadable:
            return form

        class EnterUnreadableSecretsAgain(form):  # type: ignore[valid-type,misc]
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                for name in unreadable:
                    if name in self.fields:
                        field = self.fields[name]
                        field.required = True
                        field.help_text = f"{capfirst(str(UNDECRYPTABLE_PHRASE))}."
                        field.error_messages["required"] = field.help_text

        return EnterUnreadableSecretsAgain

    def render_change_form(
        self, request: HttpRequest, context, add=False, change=False, form_url="", obj=None
    ):
        unreadable = undecryptable_fields(obj) if obj is not None else []
        if unreadable and request.method == "GET":
            messages.warning(request, describe_undecryptable(obj, unreadable))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"default_owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if obj.default_owner_id is None:
            obj.default_owner = request.user
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:integrations_integration_changelist"))

    def response_post_save_add(self, request, obj):
        return HttpResponseRedirect(reverse("admin:integrations_integration_changelist"))

    def response_post_save_change(self, request, obj):
        return HttpResponseRedirect(reverse("admin:integrations_integration_changelist"))
