from collections import defaultdict
from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from backoffice.list_search import LateRowPaginator, search_orders
from backoffice.money import format_money, format_number
from backoffice.read_only_admin import ReadOnlyAdmin
from checkout.models import as_order_number
from integrations.admin import IntegrationTypeAdmin

from . import selectors, wording
from .forms import DebtorDataForm, InfinitePayIntegrationForm
from .models import ApiCall, Guarantee, InfinitePayIntegration
from .operations import (
    LABELS,
    Operation,
    OperationReport,
    apply_to_guarantees,
    available_operations,
    planned_call,
)
from .states import Step
from .steps import STEPS
from .templatetags.infinitepay_admin import (
    call_answer,
    call_outcome_badge,
    failed_badge,
    pretty_xml,
    state_badge,
)


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
        (_("Status"), {"fields": ["status", "default_owner"]}),
    ]

    @method_decorator(sensitive_post_parameters("password", "secret"))
    def changeform_view(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        """The form posts the password and secret: keep them out of error reports."""
        return super().changeform_view(request, *args, **kwargs)


# --- Guarantees: the ops back office -------------------------------------------------------

MAX_ORDERS_PER_REASON = 10


class CorrectDebtorDataForm(DebtorDataForm):
    """The Debtor Data a failed Reserve sent, put right by ops before it is sent again.

    The very form the buyer filled in at checkout, so ops can store only what checkout can.
    """

    def __init__(self, *args, guarantees: Collection[Guarantee] = (), **kwargs) -> None:
        payment = next(iter(guarantees)).payment if guarantees else None
        if payment is not None:
            kwargs.setdefault("initial", dict(payment.method_data))
        super().__init__(*args, **kwargs)


class DeliveryDateForm(forms.Form):
    delivery_date = forms.DateField(
        label=_("Delivery date"),
        initial=timezone.localdate,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("When the goods reached the buyer; InfinitePay guarantees from this date."),
    )

    def __init__(self, *args, guarantees: Collection[Guarantee] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.guarantees = guarantees

    def clean_delivery_date(self) -> date:
        """A real delivery date: not after today, and not before an order was placed."""
        delivered = self.cleaned_data["delivery_date"]
        day = formats.date_format(delivered)
        if delivered > timezone.localdate():
            raise forms.ValidationError(
                _(
                    "Delivered on %(day)s, which is in the future: give the day the goods "
                    "reached the buyer."
                ),
                params={"day": day},
            )
        placed_later = sorted(
            order.number
            for order in (guarantee.payment.order for guarantee in self.guarantees)
            if delivered < timezone.localdate(order.created_at)
        )
        if placed_later:
            raise forms.ValidationError(
                _("Delivered on %(day)s, before the order was placed (%(orders)s)."),
                params={"day": day, "orders": ", ".join(placed_later)},
            )
        return delivered


class FailedFilter(admin.SimpleListFilter):
    """Whether a step failed, or which one did (the dashboard links to each)."""

    title = _("failed step")
    parameter_name = "failed"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        steps = [(step.value, gettext("%(step)s failed") % {"step": step.label}) for step in Step]
        return [("yes", gettext("A step failed")), *steps, ("no", gettext("No step failed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> QuerySet[Guarantee]:
        if self.value() == "yes":
            return queryset.exclude(failed_step="")
        if self.value() == "no":
            return queryset.filter(failed_step="")
        if self.value() in Step.values:
            return queryset.filter(failed_step=self.value())
        return queryset


class FailureReasonFilter(admin.SimpleListFilter):
    """Why a step failed (the stored reason; shown in the reader's language)."""

    title = _("why it failed")
    parameter_name = "reason"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(reason, wording.failure_reason(reason)) for reason in wording.FAILURE_REASONS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> QuerySet[Guarantee]:
        if self.value():
            return queryset.exclude(failed_step="").filter(failure_reason=self.value())
        return queryset


class UnderWayFilter(admin.SimpleListFilter):
    title = _("step under way")
    parameter_name = "under_way"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", gettext("Queued or in flight")), ("no", gettext("Nothing under way"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> QuerySet[Guarantee]:
        if self.value() == "yes":
            return queryset.filter(selectors.UNDER_WAY)
        if self.value() == "no":
            return queryset.exclude(selectors.UNDER_WAY)
        return queryset


@admin.register(Guarantee)
class GuaranteeAdmin(ReadOnlyAdmin):
    """Every guarantee, what is stuck or failed and why, and the operations ops run on them.

    Guarantees change only through the pipeline: the page reads, and each operation checks
    its permission here and its preconditions in the services, row by row.
    """

    # Six columns beside the filters fit a 1280-pixel screen: the attempts go with the state,
    # the integration under the customer.
    list_display = [
        "status",
        "order_number",
        "customer_and_integration",
        "amount",
        "age",
        "last_error",
    ]
    list_display_links = ["order_number"]
    list_filter = [
        "state",
        FailedFilter,
        FailureReasonFilter,
        UnderWayFilter,
        "integration",
        "created_at",
    ]
    search_fields = [
        "payment__order__number",
        "=ref_no",
        "=payment__order__customer__vat_id",
        "=order_id",
    ]
    # "N of 100,000 selected" would cost a second count of the whole table on every
    # filtered or searched page.
    show_full_result_count = False
    # A page deep in the list reads its ids from the ordering's index first.
    paginator = LateRowPaginator
    search_help_text = _("Order number, ORDER_ID, REF_NO, the company's VAT ID or name.")
    date_hierarchy = "created_at"
    # Every column comes from these joins: the list runs the same queries for any number of rows.
    list_select_related = ["payment__order__customer", "integration"]
    actions = ["retry", "capture", "activate", "cancel", "check_status", "apply_transaction"]
    fieldsets = [
        (None, {"fields": ["order", "customer", "amount", "integration_link", "state"]}),
        (
            "InfinitePay",
            {"fields": ["order_id", "ref_no", "debtor_id", "guaranteed", "delivery_date"]},
        ),
        (
            _("Pipeline"),
            {
                "fields": [
                    ("pending_step", "pending_since"),
                    ("step_in_flight", "in_flight_since"),
                    "attempts_at_step",
                    "next_retry_at",
                    "failed_step",
                    "failure",
                    "last_error_code",
                    "last_error_message",
                    "check_status_reading",
                    "corrected_debtor",
                    ("created_at", "updated_at"),
                ]
            },
        ),
    ]
    readonly_fields = [
        "order",
        "customer",
        "amount",
        "integration_link",
        "attempts_at_step",
        "failure",
        "check_status_reading",
        "guaranteed",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Guarantee]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """Each kind of term by its own index, never by scanning every order."""
        term = search_term.strip()
        exact = Q(ref_no=term) | Q(order_id=term)
        return search_orders(queryset, term, order="payment__order__", exact=exact)

    # One permission per operation (see Guarantee.Meta.permissions).
    def has_operation_permission(self, request: HttpRequest, operation: Operation) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{operation.permission}")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return self.has_operation_permission(request, Operation.RETRY)

    def has_capture_permission(self, request: HttpRequest) -> bool:
        return self.has_operation_permission(request, Operation.CAPTURE)

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return self.has_operation_permission(request, Operation.ACTIVATE)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return self.has_operation_permission(request, Operation.CANCEL)

    def has_check_status_permission(self, request: HttpRequest) -> bool:
        return self.has_operation_permission(request, Operation.CHECK_STATUS)

    def has_apply_transaction_permission(self, request: HttpRequest) -> bool:
        return self.has_operation_permission(request, Operation.APPLY_TRANSACTION)

    # --- The list ---------------------------------------------------------------------

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        attempts = selectors.step_attempts(guarantees=changelist.result_list)
        for guarantee in changelist.result_list:
            # Read by the state column; the calls of the step as ops count them.
            setattr(guarantee, "step_attempts", attempts.get(guarantee.pk, 0))  # noqa: B010
        return changelist

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "state_counts": state_counts_line()}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("state"), ordering="state")
    def status(self, guarantee: Guarantee) -> SafeString:
        under_way = ""
        if guarantee.step_in_flight:
            under_way = gettext("%(step)s in flight") % {
                "step": guarantee.get_step_in_flight_display()
            }
        elif guarantee.pending_step:
            under_way = gettext("%(step)s queued") % {"step": guarantee.get_pending_step_display()}
        # Counted for the whole page at once by get_changelist_instance.
        attempts: int = getattr(guarantee, "step_attempts", 0)
        if attempts and (under_way or guarantee.failed_step):
            under_way += " · " + ngettext("%(count)d attempt", "%(count)d attempts", attempts) % {
                "count": attempts
            }
        return format_html(
            "{} {} {}", state_badge(guarantee.state), failed_badge(guarantee.failed_step), under_way
        )

    @admin.display(description=_("order"), ordering="payment__order__number")
    def order_number(self, guarantee: Guarantee) -> str:
        return guarantee.payment.order.number

    @admin.display(description=_("customer"), ordering="payment__order__customer__name")
    def customer(self, guarantee: Guarantee) -> str:
        return str(guarantee.payment.order.customer)

    @admin.display(description=_("customer"), ordering="payment__order__customer__name")
    def customer_and_integration(self, guarantee: Guarantee) -> SafeString:
        """The company, and under it the integration (the list's column of both)."""
        return format_html(
            '{}<div class="quiet">{}</div>', guarantee.payment.order.customer, guarantee.integration
        )

    @admin.display(description=_("amount"), ordering="payment__amount")
    def amount(self, guarantee: Guarantee) -> str:
        return format_money(guarantee.payment.amount, guarantee.payment.currency)

    @admin.display(description=_("guaranteed amount"))
    def guaranteed(self, guarantee: Guarantee) -> str:
        if guarantee.guaranteed_amount is None:
            return "—"
        return format_money(guarantee.guaranteed_amount, guarantee.payment.currency)

    @admin.display(description=_("age"), ordering="-created_at")
    def age(self, guarantee: Guarantee) -> str:
        return timesince(guarantee.created_at, depth=1)

    @admin.display(description=_("attempts"))
    def attempts_at_step(self, guarantee: Guarantee) -> str:
        """The calls of the step in flight, queued or failed, since it was last asked for."""
        step = guarantee.step_in_flight or guarantee.pending_step or guarantee.failed_step
        if not step:
            return "—"
        attempts = selectors.step_attempts(guarantees=[guarantee]).get(guarantee.pk, 0)
        return ngettext("%(count)d call of %(step)s", "%(count)d calls of %(step)s", attempts) % {
            "count": attempts,
            "step": Step(step).label,
        }

    @admin.display(description=_("why it failed"))
    def failure(self, guarantee: Guarantee) -> str:
        return wording.failure_reason(guarantee.failure_reason) or "—"

    @admin.display(description=_("check status"))
    def check_status_reading(self, guarantee: Guarantee) -> str:
        """What the last check status concluded, in the reader's words, and what it read."""
        if not guarantee.check_status_note:
            return "—"
        note = wording.describe(guarantee.check_status_note)
        if guarantee.check_status_detail:
            return f"{note} ({guarantee.check_status_detail})"
        return note

    @admin.display(description=_("last error"))
    def last_error(self, guarantee: Guarantee) -> str:
        """Why the step failed, and on hover what InfinitePay or the connection said."""
        # Only while the failure stands: an error the step has since got past is history.
        if not guarantee.failed_step:
            return "—"
        reason = wording.failure_reason(guarantee.failure_reason)
        return format_html(
            '<span title="{}">{}</span>',
            guarantee.last_error_message,
            Truncator(reason or guarantee.last_error_message).chars(60) or "—",
        )

    # --- One guarantee --------------------------------------------------------------------

    @admin.display(description=_("order"))
    def order(self, guarantee: Guarantee) -> SafeString:
        order = guarantee.payment.order
        url = reverse("admin:checkout_order_change", args=[order.pk])
        return format_html('<a href="{}">{}</a>', url, order.number)

    @admin.display(description=_("integration"))
    def integration_link(self, guarantee: Guarantee) -> str:
        """The integration; a link to its form only for whom may open it (not ops)."""
        url = getattr(guarantee, "integration_url", "")
        if not url:
            return str(guarantee.integration)
        return format_html('<a href="{}">{}</a>', url, guarantee.integration)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Guarantee | None = None,
    ) -> HttpResponse:
        if obj is not None:
            if request.user.has_perm("infinitepay.view_infinitepayintegration"):
                # Read by the integration field; not a field of the model.
                url = reverse(
                    "admin:infinitepay_infinitepayintegration_change", args=[obj.integration_id]
                )
                setattr(obj, "integration_url", url)  # noqa: B010
            context["progress"] = selectors.guarantee_progress(guarantee=obj)
            context["progress_url"] = reverse("admin:infinitepay_guarantee_progress", args=[obj.pk])
            # What the page's note says as the following ends (guarantee-live.js).
            context["live_notes"] = {
                "ended": gettext("The step has ended."),
                "idle": gettext(
                    "No change for a quarter of an hour: reload the page to follow it again."
                ),
                "unreachable": gettext(
                    "The back office does not answer: reload the page to follow the step again."
                ),
            }
            context["operations"] = [
                {
                    "label": operation.label_for(obj),
                    "url": reverse(f"admin:{operation_url_name(operation)}", args=[obj.pk]),
                }
                for operation in available_operations(obj)
                if self.has_operation_permission(request, operation)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        progress = path(
            "<path:object_id>/progress/",
            self.admin_site.admin_view(self.progress_view),
            name="infinitepay_guarantee_progress",
        )
        operations = [
            path(
                f"<path:object_id>/{operation.value.replace('_', '-')}/",
                self.admin_site.admin_view(self.operation_view),
                {"operation": operation},
                name=operation_url_name(operation),
            )
            for operation in Operation
        ]
        return [progress, *operations, *super().get_urls()]

    def progress_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """Where the guarantee stands, for its page to follow a step (guarantee-live.js)."""
        guarantee = self.get_object(request, unquote(object_id))
        if guarantee is None:
            raise Http404(gettext("No such guarantee."))
        if not self.has_view_permission(request, guarantee):
            raise PermissionDenied
        progress = selectors.guarantee_progress(guarantee=guarantee)
        parts = {}
        # The page asks with the version it shows: while nothing changed, it redraws nothing,
        # so the summary and timeline are not drawn for it.
        if request.GET.get("since") != progress.version:
            parts = {
                name: render_to_string(
                    f"admin/infinitepay/_{template}.html", {"guarantee": guarantee}, request
                )
                for name, template in [("summary", "guarantee_summary"), ("timeline", "timeline")]
            }
        # admin_view marks it never to be cached.
        return JsonResponse(
            {"under_way": progress.under_way, "version": progress.version, "parts": parts}
        )

    def operation_view(
        self, request: HttpRequest, object_id: str, operation: Operation
    ) -> HttpResponse:
        """A guarantee page's button: ask first, run the operation on it, then come back."""
        guarantee = self.get_object(request, unquote(object_id))
        if guarantee is None:
            raise Http404(gettext("No such guarantee."))
        if not (
            self.has_view_permission(request, guarantee)
            and self.has_operation_permission(request, operation)
        ):
            raise PermissionDenied
        back = reverse("admin:infinitepay_guarantee_change", args=[guarantee.pk])
        # The dashboard's prompt comes back to the dashboard; only to a page of this site.
        asked_back = request.POST.get("back", "")
        if asked_back and url_has_allowed_host_and_scheme(
            asked_back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = asked_back
        asking = self.ask_first(request, [guarantee.pk], operation, back_url=back)
        if asking is not None:
            return asking
        return HttpResponseRedirect(back)

    # --- Operations, in bulk and one by one ------------------------------------------------

    @admin.action(description=_("Retry the failed step"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> HttpResponse | None:
        return self.ask_first(request, _ids(queryset), Operation.RETRY, bulk=True)

    @admin.action(description=LABELS[Operation.CAPTURE], permissions=["capture"])
    def capture(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> HttpResponse | None:
        return self.ask_first(request, _ids(queryset), Operation.CAPTURE, bulk=True)

    @admin.action(description=_("Activate (asks for the delivery date)"), permissions=["activate"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> HttpResponse | None:
        return self.ask_first(request, _ids(queryset), Operation.ACTIVATE, bulk=True)

    @admin.action(description=_("Cancel and release the buyer's limit"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Guarantee]) -> HttpResponse | None:
        return self.ask_first(request, _ids(queryset), Operation.CANCEL, bulk=True)

    @admin.action(description=_("Check status at InfinitePay"), permissions=["check_status"])
    def check_status(
        self, request: HttpRequest, queryset: QuerySet[Guarantee]
    ) -> HttpResponse | None:
        return self.ask_first(request, _ids(queryset), Operation.CHECK_STATUS, bulk=True)

    @admin.action(
        description=_("Apply transaction (the buyer paid)"), permissions=["apply_transaction"]
    )
    def apply_transaction(
        self, request: HttpRequest, queryset: QuerySet[Guarantee]
    ) -> HttpResponse | None:
        return self.ask_first(request, _ids(queryset), Operation.APPLY_TRANSACTION, bulk=True)

    def ask_first(
        self,
        request: HttpRequest,
        guarantee_ids: list[int],
        operation: Operation,
        *,
        bulk: bool = False,
        back_url: str = "",
    ) -> HttpResponse | None:
        """Show the confirmation (with the date or debtor form); once confirmed, run it.

        The page names each guarantee, its amount and the call made for it at InfinitePay,
        and says in plain words what that call does there. Returns None once it has run.
        """
        confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
        # Every operation calls InfinitePay, so each asks first; Activate asks for the
        # delivery date too, and Correct debtor data for the e-mail and legal form.
        asking = {
            Operation.ACTIVATE: DeliveryDateForm,
            Operation.CORRECT_DEBTOR_DATA: CorrectDebtorDataForm,
        }
        if confirmed and operation not in asking:
            self.run_operation(request, guarantee_ids, operation)
            return None
        guarantees = list(
            Guarantee.objects.filter(pk__in=guarantee_ids).select_related(
                "payment__order__customer"
            )
        )
        form = None
        if operation in asking:
            form = asking[operation](request.POST if confirmed else None, guarantees=guarantees)
        if confirmed and (form is None or form.is_valid()):
            given = form.cleaned_data if form is not None else {}
            self.run_operation(request, guarantee_ids, operation, **given)
            return None
        if confirmed and form is not None:
            errors = " ".join(str(error) for errors in form.errors.values() for error in errors)
            self.message_user(
                request,
                gettext("%(operation)s: nothing queued. %(errors)s")
                % {"operation": operation.label, "errors": errors},
                messages.ERROR,
            )
        rows = [(guarantee, planned_call(operation, guarantee)) for guarantee in guarantees]
        n = len(guarantees)
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for guarantee, call in rows:
            if call.step is not None:
                totals[guarantee.payment.currency] += guarantee.payment.amount
        calls = {call.step for _, call in rows if call.step is not None}
        releases_unknown = any(call.then_cancel for _, call in rows)
        if releases_unknown:
            calls.add(Step.CANCEL)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": ngettext(
                "%(operation)s %(count)d guarantee?", "%(operation)s %(count)d guarantees?", n
            )
            % {"operation": operation.label, "count": n},
            "operation": operation.value,
            "confirm_label": operation.confirm_label,
            "rows": rows,
            "guarantees": guarantees,
            "effects": [
                (STEPS[step].operation.value, STEPS[step].effect) for step in Step if step in calls
            ],
            "releases_unknown": releases_unknown,
            "totals": sorted(totals.items()),
            "form": form,
            "bulk": bulk,
            "action_name": operation.value,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "back_url": back_url or request.get_full_path(),
        }
        return TemplateResponse(
            request, "admin/infinitepay/guarantee/confirm_operation.html", context
        )

    def run_operation(
        self,
        request: HttpRequest,
        guarantee_ids: Collection[int],
        operation: Operation,
        **given: Any,
    ) -> OperationReport:
        """Run `operation`; `given` is what its form asked for (delivery date, debtor data)."""
        report = apply_to_guarantees(guarantee_ids=guarantee_ids, operation=operation, **given)
        for guarantee in Guarantee.objects.filter(pk__in=report.queued):
            # Kept as the msgid; the guarantee's timeline shows it in the reader's language.
            self.log_change(request, guarantee, operation.logged)
        if not report.skipped:
            level = messages.SUCCESS
        else:
            level = messages.WARNING if report.queued else messages.ERROR
        self.message_user(request, describe_report(operation, report), level)
        return report


def operation_url_name(operation: Operation) -> str:
    return f"infinitepay_guarantee_{operation.value}"


def describe_report(operation: Operation, report: OperationReport) -> str:
    """Say what was queued and, grouped by reason, which orders were skipped.

    E.g. "Capture: 12 queued; 3 skipped, Capture is already under way: ORD-1, ORD-2, ORD-3."
    """
    text = gettext("%(operation)s: %(count)d queued") % {
        "operation": operation.label,
        "count": len(report.queued),
    }
    if not report.skipped:
        return gettext("%(queued)s, 0 skipped.") % {"queued": text}
    by_reason: dict[str, list[str]] = defaultdict(list)
    for skipped in report.skipped:
        by_reason[skipped.reason.rstrip(".")].append(skipped.order_id)
    groups = []
    for reason, order_ids in sorted(by_reason.items(), key=lambda item: -len(item[1])):
        shown = ", ".join(order_ids[:MAX_ORDERS_PER_REASON])
        more = len(order_ids) - MAX_ORDERS_PER_REASON
        if more > 0:
            shown = gettext("%(orders)s and %(count)d more") % {"orders": shown, "count": more}
        groups.append(
            ngettext(
                "%(count)d skipped, %(reason)s: %(orders)s",
                "%(count)d skipped, %(reason)s: %(orders)s",
                len(order_ids),
            )
            % {"count": len(order_ids), "reason": reason, "orders": shown}
        )
    return f"{text}; {'; '.join(groups)}."


def state_counts_line() -> list[dict]:
    """The counts above the list: failed steps first, then what is under way, then states."""
    counts = selectors.guarantee_state_counts()
    line = [
        {
            "label": gettext("failed steps"),
            "number": format_number(counts.failed),
            "query": "failed=yes",
            "alarm": counts.failed > 0,
        },
        {
            "label": gettext("in flight"),
            "number": format_number(counts.under_way),
            "query": "under_way=yes",
            "alarm": False,
        },
    ]
    line += [
        {
            "label": str(state.label).lower(),
            "number": format_number(number),
            "query": f"state__exact={state.value}",
            "alarm": False,
        }
        for state, number in counts.by_state.items()
        if number
    ]
    return line


def _ids(queryset: QuerySet[Guarantee]) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    """Every call made to InfinitePay: read only, the audit trail."""

    # Five columns that fit 1280 pixels beside the filters: the call and its attempt in one;
    # the answer's HTTP status, STATUS and duration, as the timeline writes them, with its
    # errors under them cut short (in full on hover). The task id is searched and on the
    # call's own page.
    list_display = [
        "created",
        "guarantee_order_id",
        "call",
        "outcome_badge",
        "answer",
    ]
    list_filter = ["outcome", "step", "guarantee__integration", "created_at"]
    search_fields = ["=guarantee__order_id", "=guarantee__ref_no", "=task_id"]
    search_help_text = _("Order number, ORDER_ID, REF_NO or Celery task id.")
    date_hierarchy = "created_at"
    list_select_related = ["guarantee"]
    ordering = ["-created_at", "-id"]
    # The call's page: its request and response indented, one element a line, as on the
    # guarantee's timeline (the stored XML is one line).
    exclude = ["request_xml", "response_xml"]
    readonly_fields = ["request", "response"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """An order number finds the calls of its guarantees; anything else an exact id."""
        if number := as_order_number(search_term):
            return queryset.filter(guarantee__payment__order__number=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("ORDER_ID"), ordering="guarantee__order_id")
    def guarantee_order_id(self, call: ApiCall) -> SafeString:
        url = reverse("admin:infinitepay_guarantee_change", args=[call.guarantee_id])
        return format_html('<a href="{}">{}</a>', url, call.guarantee.order_id)

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_badge(self, call: ApiCall) -> SafeString:
        return call_outcome_badge(call)

    @admin.display(description=ApiCall._meta.get_field("request_xml").verbose_name)
    def request(self, call: ApiCall) -> SafeString:
        return _xml_block(call.request_xml)

    @admin.display(description=ApiCall._meta.get_field("response_xml").verbose_name)
    def response(self, call: ApiCall) -> SafeString:
        return _xml_block(call.response_xml)

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, call: ApiCall) -> str:
        return formats.date_format(timezone.localtime(call.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description=_("operation"), ordering="operation")
    def call(self, call: ApiCall) -> SafeString:
        return format_html("<code>{}</code> #{}", call.operation, call.attempt)

    @admin.display(description=_("Response"), ordering="http_status")
    def answer(self, call: ApiCall) -> SafeString:
        answer = call_answer(call)
        errors = "; ".join([*call.error_codes, *call.error_messages])
        if not errors:
            return format_html("{}", answer)
        return format_html(
            '{}<div class="quiet" title="{}">{}</div>', answer, errors, Truncator(errors).chars(60)
        )


def _xml_block(xml: str) -> SafeString:
    """Stored XML indented, in a block that keeps its lines and wraps what is too long."""
    if not xml:
        return format_html("{}", "—")
    return format_html(
        '<pre style="white-space: pre-wrap; word-break: break-all; margin: 0">{}</pre>',
        pretty_xml(xml),
    )
