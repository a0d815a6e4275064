"""How the back office's order and guarantee lists read a search term, fast at any size.

Django's admin search ORs `UPPER(column) LIKE '%term%'` over every search field, joins
included, so every search scans every order. Here an order number is looked up by its
unique index; any other term is looked for among the companies first (their VAT ID by its
index, their name by a trigram index on PostgreSQL), and then their orders by the index on
the customer.
"""

import re
from typing import Any, cast

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from checkout.models import Customer, as_order_number

# A VAT ID as typed: a country prefix and 2 to 13 more letters or digits, at least one a
# digit; spaces and dots between are dropped ("DE 136.695.976").
VAT_ID = re.compile(r"[A-Z]{2}(?=[0-9A-Z+*]*\d)[0-9A-Z+*]{2,13}")
VAT_ID_SEPARATORS = re.compile(r"[\s.]")
# Up to this many companies found are passed to the database as a list of ids.
MAX_IDS = 1_000


def as_vat_id(term: str) -> str | None:
    """The VAT ID a search term may be, compact and in capitals (`DE136695976`), or None."""
    compact = VAT_ID_SEPARATORS.sub("", term).upper()
    return compact if VAT_ID.fullmatch(compact) else None


def matching_customers(term: str) -> QuerySet[Customer, Any]:
    """The ids of the companies whose name holds the term (any case) or whose VAT ID it is."""
    term = term.strip()
    matches = Q(name__icontains=term)
    if vat_id := as_vat_id(term):
        matches |= Q(vat_id=vat_id)
    return Customer.objects.filter(matches).order_by().values("pk")


def search_orders(
    queryset: QuerySet,
    term: str,
    *,
    order: str = "",
    exact: Q | None = None,
    buyers: QuerySet | None = None,
) -> tuple[QuerySet, bool]:
    """Narrow a list of orders, or of rows that reach their order through `order`.

    `order` is the path to the order ("" for the orders list, "payment__order__" for
    guarantees). `exact` is what the term may be on the listed rows themselves (a REF_NO,
    an ORDER_ID): when a row has it, those rows are the answer. `buyers` are the ids of the
    buyers the term names (orders only). Returns the admin's pair (queryset, may have
    duplicates).

    The few companies (and buyers) found are handed to the database as lists of ids: it then
    reads the orders through their indexes, where a subquery, ORed, would have it scan them all.
    """
    term = term.strip()
    if number := as_order_number(term):
        return queryset.filter(**{f"{order}number": number}), False
    if not term:
        return queryset, False
    if exact is not None and (found := queryset.filter(exact)).exists():
        return found, False
    customers = list(matching_customers(term).values_list("pk", flat=True)[: MAX_IDS + 1])
    if len(customers) > MAX_IDS:  # a word many companies share: let the database join
        matches = Q(**{f"{order}customer__in": matching_customers(term)})
    else:
        matches = Q(**{f"{order}customer_id__in": customers})
    if buyers is not None:
        matches |= Q(**{f"{order}buyer_id__in": list(buyers.values_list("pk", flat=True))})
    return queryset.filter(matches), False


class LateRowPaginator(Paginator):
    """Pages whose rows are picked by id first: a page deep in a list stays fast.

    A page deep in a list (`OFFSET 50000`) made the database join every row it skipped.
    Here the page's ids are picked in a subquery, in the list's order, from the ordering's
    index (no join for the rows skipped), and only those rows are read with their joins: one
    query, as before, on every page.
    """

    def page(self, number: int | str) -> Page:
        page = super().page(number)
        rows: QuerySet = self.object_list  # type: ignore[assignment]  # the admin's queryset
        # SELECT DISTINCT reads its ordering's columns too: no subquery of ids alone.
        if not rows.query.distinct:
            sliced = cast(QuerySet, page.object_list)  # the list cut to the page, not yet read
            page.object_list = rows.filter(pk__in=sliced.values("pk"))
        return page
