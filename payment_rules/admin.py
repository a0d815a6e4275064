"""The Payment Rules back office: the list, the rule form and the rule simulator."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_countries.fields import Country

from backoffice.money import format_number
from integrations.models import Integration

from . import bounded_engine, expressions, selectors, services
from .evaluator import RuleOutcome
from .forms import RuleDestinationForm, SimulationForm
from .models import PaymentRule, RuleDestination, RuleMethod

VARIABLE_HELP = [
    ("currency", _('the checkout\'s currency, e.g. "EUR"')),
    ("subtotal", _("net sum of the lines (number)")),
    ("total", _("gross total with shipping and VAT (number)")),
    ("billing_address", _('.country, .region, .postal_code, .city ("" when absent)')),
    ("shipping_address", _("the same attributes as billing_address")),
    (
        "line_items",
        _("a list; each has .sku, .name, .quantity, .unit_price, .vat_rate, .net_total"),
    ),
    ("customer", _('.name, .vat_id ("" when absent)')),
    ("buyer", _('.email ("" when absent)')),
]


def expression_help() -> str:
    variables = format_html_join(
        "", "<li><code>{}</code>: {}</li>", ((name, text) for name, text in VARIABLE_HELP)
    )
    examples = format_html_join(
        "", "<li><code>{}</code>: {}</li>", ((text, why) for text, why in expressions.EXAMPLES)
    )
    # The translated text is HTML of ours; only the numbers and lists are filled in.
    text = gettext(
        "Leave the expression empty to apply the rule to every matching checkout. "
        "Operators: <code>== != &lt; &lt;= &gt; &gt;= and or not</code>, "
        "<code>=~</code> (regular expression matched from the start), <code>in</code>, "
        "<code>.starts_with(…)</code>, <code>.ends_with(…)</code>, <code>.as_lower</code>, "
        "<code>[x for x in list if …]</code>, <code>list.length</code>. "
        "Strings in double quotes. The expression is checked when you save."
        "<p>Limits, so that one rule cannot stall checkout: at most {length} characters; "
        "regular expressions in RE2 syntax, which runs in linear time (no back-references or "
        "look-arounds; <code>\\w</code>, <code>\\d</code> are ASCII, "
        "<code>\\pL</code> is any letter); on a checkout, an expression that needs more than "
        "{steps} steps or {seconds} s, or values over {size} characters or items, stops and "
        "counts as failed.</p>"
        "<p>Variables:</p><ul>{variables}</ul><p>Examples:</p><ul>{examples}</ul>"
    )
    return format_html(
        text,
        length=format_number(bounded_engine.MAX_LENGTH),
        steps=format_number(bounded_engine.MAX_STEPS),
        seconds=format_number(bounded_engine.MAX_CPU_SECONDS),
        size=format_number(bounded_engine.MAX_SIZE),
        variables=variables,
        examples=examples,
    )


class RuleDestinationInline(admin.TabularInline):
    model = RuleDestination
    form = RuleDestinationForm
    extra = 0
    verbose_name_plural = _("Destinations (billing address; none means everywhere)")


class RuleMethodFormSet(BaseInlineFormSet):
    # A rule without methods offers nothing: say so in the product's words.
    default_error_messages = {"too_few_forms": _("A payment rule needs at least one method.")}


class RuleMethodInline(admin.TabularInline):
    model = RuleMethod
    formset = RuleMethodFormSet
    fields = ["integration", "options"]
    extra = 0
    min_num = 1
    verbose_name_plural = _("Payment methods (at least one)")

    def get_formset(self, request, obj=None, **kwargs):
        # The admin shows min_num forms but only checks it when asked to.
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class MethodIntegrationFilter(admin.SimpleListFilter):
    title = _("method")
    parameter_name = "integration"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Integration.objects.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(methods__integration_id=self.value()).distinct()
        return queryset


class DestinationCountryFilter(admin.SimpleListFilter):
    title = _("destination country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = RuleDestination.objects.values_list("country", flat=True).distinct()
        # Countries by name, in the reader's language and order.
        named = sorted(((code, Country(code).name) for code in codes), key=lambda c: c[1])
        return [("none", _("No destinations (everywhere)")), *named]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(destinations__isnull=True)
        if self.value():
            return queryset.filter(destinations__country=self.value()).distinct()
        return queryset


@admin.register(PaymentRule)
class PaymentRuleAdmin(admin.ModelAdmin):
    list_display = [
        "enabled",
        "name",
        "sort_order",
        "currency",
        "stop_processing",
        "method_list",
        "destination_list",
    ]
    list_display_links = ["name"]
    list_filter = [
        "enabled",
        "currency",
        "stop_processing",
        MethodIntegrationFilter,
        DestinationCountryFilter,
    ]
    search_fields = ["name", "expression"]
    ordering = ["sort_order", "id"]
    actions = ["enable", "disable"]
    inlines = [RuleDestinationInline, RuleMethodInline]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["name", "enabled", "sort_order", "currency", "stop_processing"]}),
            (_("Expression"), {"fields": ["expression"], "description": expression_help()}),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PaymentRule]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("methods", queryset=RuleMethod.objects.select_related("integration")),
                "destinations__postal_codes",
            )
        )

    @admin.display(description=_("Methods"))
    def method_list(self, rule: PaymentRule) -> str:
        return ", ".join(
            config.integration.name
            if config.integration.is_active
            else gettext("%(integration)s (inactive)") % {"integration": config.integration.name}
            for config in rule.methods.all()
        )

    @admin.display(description=_("Destinations"))
    def destination_list(self, rule: PaymentRule) -> str:
        parts = []
        for destination in rule.destinations.all():
            codes = [code.postal_code for code in destination.postal_codes.all()]
            parts.append(f"{destination}" + (f" ({', '.join(codes)})" if codes else ""))
        return "; ".join(parts) or gettext("Everywhere")

    @admin.action(description=_("Enable selected payment rules"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[PaymentRule]) -> None:
        changed = services.set_rules_enabled(rules=queryset, enabled=True)
        message = ngettext(
            "%(count)d payment rule enabled.", "%(count)d payment rules enabled.", changed
        )
        self.message_user(request, message % {"count": changed}, messages.SUCCESS)

    @admin.action(description=_("Disable selected payment rules"), permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[PaymentRule]) -> None:
        changed = services.set_rules_enabled(rules=queryset, enabled=False)
        message = ngettext(
            "%(count)d payment rule disabled.", "%(count)d payment rules disabled.", changed
        )
        self.message_user(request, message % {"count": changed}, messages.SUCCESS)

    def get_urls(self):
        simulate = path(
            "simulate/",
            self.admin_site.admin_view(self.simulate_view),
            name="payment_rules_paymentrule_simulate",
        )
        return [simulate, *super().get_urls()]

    def simulate_view(self, request: HttpRequest) -> HttpResponse:
        """Run the evaluator on a typed checkout and show every rule's outcome."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SimulationForm(request.GET or None)
        evaluation = None
        if form.is_valid():
            evaluation = selectors.explain_rules(
                context=form.checkout_context(), exclude=form.cleaned_data["exclude"]
            )
        trace = evaluation.trace if evaluation else []
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Simulate checkout"),
            "form": form,
            "evaluation": evaluation,
            "considered": [t for t in trace if t.outcome != RuleOutcome.WRONG_CURRENCY],
            "other_currency": [t for t in trace if t.outcome == RuleOutcome.WRONG_CURRENCY],
        }
        return TemplateResponse(request, "admin/payment_rules/paymentrule/simulate.html", context)
