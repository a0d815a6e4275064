"""The German catalogues stay current, in pure Python (Babel), with no gettext tools.

a) every string of ours, in Python and in templates, has a German translation;
b) every compiled catalogue (.mo) says what its .po says;
c) every back-office and shop page, rendered in German, shows none of our English strings:
   neither one of our catalogue's nor text from our code that was never marked (it reads the
   same on the English page).

Each failure names the file and line, the catalogue, or the page and the string.
"""

import html
import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
# Where our strings live: every app and the top-level templates.
AREAS = ["backoffice", "integrations", "payment_rules", "payment_term", "checkout", "infinitepay"]
TEMPLATES = "templates"
SKIPPED_FOLDERS = {"migrations", "locale", "static", "__pycache__"}
# Django's makemessages keywords (xgettext's for Python plus Django's own).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def catalogue_paths() -> list[Path]:
    return sorted(ROOT.glob("*/locale/de/LC_MESSAGES/django.po")) + sorted(
        ROOT.glob("locale/de/LC_MESSAGES/django.po")
    )


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale="de")


def german_catalogues() -> dict[Path, Catalog]:
    return {path: read_catalogue(path) for path in catalogue_paths()}


def translated(catalogues: dict[Path, Catalog]) -> dict[tuple[str | None, str], Path]:
    """Every (context, msgid) with a German translation that is neither empty nor fuzzy."""
    found: dict[tuple[str | None, str], Path] = {}
    for path, catalogue in catalogues.items():
        for message in catalogue:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not message.id or message.fuzzy or not all(strings):
                continue
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            found[(message.context, msgid)] = path
    return found


def source_files(area: str) -> Iterator[Path]:
    for path in sorted((ROOT / area).rglob("*")):
        if SKIPPED_FOLDERS & set(path.relative_to(ROOT).parts):
            continue
        if path.suffix in {".py", ".html", ".txt"}:
            yield path


def extracted_strings(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """(line, context, msgid) of every translatable string in a Python file or a template."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        text = templatize(text, origin=str(path))
    for line, message, _comments, context in extract(
        "python", io.BytesIO(text.encode()), keywords=KEYWORDS, comment_tags=()
    ):
        yield line, context, message[0] if isinstance(message, tuple) else message


@pytest.mark.parametrize("area", [*AREAS, TEMPLATES])
def test_every_string_of_ours_has_a_german_translation(area):
    known = translated(german_catalogues())
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {msgid!r}"
        + (f" (context {context!r})" if context else "")
        for path in source_files(area)
        for line, context, msgid in extracted_strings(path)
        if (context, msgid) not in known
    ]
    assert not missing, (
        f"{len(missing)} strings of {area} have no German translation (run `make messages` "
        "and translate them in the catalogue):\n" + "\n".join(missing)
    )


@pytest.mark.parametrize("po_path", catalogue_paths(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_compiled_catalogue_is_current(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.relative_to(ROOT)} is missing: run `make messages`"
    compiled = io.BytesIO()
    write_mo(compiled, read_catalogue(po_path))  # fuzzy entries left out, as msgfmt does
    compiled.seek(0)
    with mo_path.open("rb") as committed:
        assert messages_of(read_mo(committed)) == messages_of(read_mo(compiled)), (
            f"{mo_path.relative_to(ROOT)} is stale: run `make compile-messages`"
        )


@pytest.mark.parametrize("po_path", catalogue_paths(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_translation_keeps_the_placeholders_of_its_english(po_path):
    """A translation naming a placeholder its English does not give would fail when shown."""
    problems = [
        f"{po_path.relative_to(ROOT)}:{message.lineno}: {message.id!r}: {error}"
        for message, errors in read_catalogue(po_path).check()
        for error in errors
    ]
    assert not problems, "\n".join(problems)


def messages_of(catalogue: Catalog) -> dict:
    def plain(value):  # a plural's forms come as a list from a .mo, as a tuple from a .po
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(m.context, plain(m.id)): plain(m.string) for m in catalogue if m.id}


# c) Every page in German.

# Our English strings worth looking for: at least two words, no placeholders or markup, and a
# German translation that differs.
PLACEHOLDER = re.compile(r"%(\(\w+\))?[sd]|\{\w*\}|<[a-z/]")


def english_strings(catalogues: dict[Path, Catalog]) -> dict[str, Path]:
    strings: dict[str, Path] = {}
    for path, catalogue in catalogues.items():
        for message in catalogue:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            german = message.string if isinstance(message.string, tuple) else (message.string,)
            for english in ids:
                if (
                    english
                    and len(english.split()) >= 2
                    and not PLACEHOLDER.search(english)
                    and english not in german
                ):
                    strings[english] = path
    return strings


def visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style|svg|template)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<!--.*?-->", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return " ".join(html.unescape(page).split())


@pytest.fixture
def demo(db):
    """The demo's users and data, an order with a guarantee for the buyer, and a cart."""
    from checkout.models import Buyer, Product
    from tests.infinitepay.factories import GuaranteeFactory

    call_command("seed_demo", stdout=io.StringIO())
    buyer = Buyer.objects.get(user__username="buyer")
    GuaranteeFactory(payment__order__buyer=buyer)
    return buyer, Product.objects.filter(is_active=True).first()


def admin_pages() -> Iterator[str]:
    """Every admin page a superuser may open: lists, add and change forms, our own views.

    Taken from the URL resolver, so a new page is walked without being named here; a page
    that takes an object is opened for the first object of its model.
    """
    yield reverse("dashboard")
    # The simulator's answer: every rule's outcome and the methods offered.
    yield reverse("admin:payment_rules_paymentrule_simulate") + (
        "?currency=EUR&billing_country=DE&subtotal=100&total=119&customer_vat_id=DE123456789"
    )
    first_pk: dict[str, object] = {}
    for model, model_admin in admin.site._registry.items():
        first = model_admin.get_queryset(superuser_request()).order_by("pk").first()
        if first is not None:
            first_pk[f"{model._meta.app_label}_{model._meta.model_name}_"] = first.pk
    for name in admin_url_names():
        url = reverse_or_none(f"admin:{name}")
        prefix = next(
            (p for p in sorted(first_pk, key=len, reverse=True) if name.startswith(p)), ""
        )
        if url is None and prefix:
            url = reverse_or_none(f"admin:{name}", first_pk[prefix])
        if url is not None:
            yield url


def reverse_or_none(name: str, *args: object) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def namespace(name: str) -> URLResolver:
    """The URLs included under a namespace ("admin", "checkout")."""
    return next(
        p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == name
    )


def admin_url_names() -> list[str]:
    names: list[str] = []

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.append(pattern.name)

    walk(namespace("admin").url_patterns)
    # Not pages: logging out (a POST), Django's JavaScript catalogue, JSON and redirects.
    skipped = ("logout", "jsi18n", "autocomplete", "view_on_site", "progress")
    return sorted({n for n in names if not any(s in n for s in skipped)})


def superuser_request() -> HttpRequest:
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="setup")
    return request


def shop_pages(order_number: str) -> Iterator[str]:
    for pattern in namespace("checkout").url_patterns:
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        url = reverse_or_none(f"checkout:{pattern.name}") or reverse_or_none(
            f"checkout:{pattern.name}", order_number
        )
        if url is not None:
            yield url


class PageCheck:
    """Reads each page in German (and in English) and keeps what is left in English.

    Two findings: one of our catalogue's English strings on the German page, and text of
    ours (written in our code or templates) that reads the same on the English and the
    German page, a string never marked for translation.
    """

    def __init__(self, catalogues: dict[Path, Catalog], data: list[str]) -> None:
        self.strings = english_strings(catalogues)
        # Strings our catalogues translate to themselves read the same on purpose.
        self.same_on_purpose = {
            message.id
            for catalogue in catalogues.values()
            for message in catalogue
            if isinstance(message.id, str) and message.id and message.string == message.id
        }
        self.data = data
        self.source = our_source_text()
        self.checked: set[str] = set()
        self.found: set[str] = set()

    def __call__(self, client: Client, url: str, post: dict | None = None) -> None:
        german = self._read(client, url, post, "de")
        if german is None:
            return
        self.checked.add(url)
        status, page = german
        text = visible_text(page)
        for words in self.data:
            text = text.replace(words, " ¦ ")
        for english, path in self.strings.items():
            if re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text):
                self.found.add(f"{url} ({status}): {english!r} ({path.relative_to(ROOT)})")
        english_page = self._read(client, url, post, "en")
        if english_page is None:
            return
        for node in text_nodes(page) & text_nodes(english_page[1]):
            if self._unmarked(node):
                self.found.add(f"{url} ({status}): {node!r} reads the same in English: unmarked")

    def _read(self, client: Client, url: str, post: dict | None, language: str):
        """The page's status and HTML; None when the answer is not a page (a redirect,
        JSON, a method not allowed)."""
        if post is None:
            response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        else:
            response = client.post(url, post, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        if response.status_code not in (200, 403) or "html" not in response.get("Content-Type", ""):
            return None
        return response.status_code, response.content.decode()

    def _unmarked(self, node: str) -> bool:
        words = node
        for data in self.data:
            words = words.replace(data, " ")
        # Prose: two words in lower or mixed case (codes such as ORDER_ID are not prose),
        # written in our code, and not the same in both languages on purpose.
        prose = [word for word in re.findall(r"[^\W\d_]{2,}", words) if not word.isupper()]
        core = node.rstrip(":")
        return len(prose) >= 2 and core in self.source and core not in self.same_on_purpose


class TextNodes(HTMLParser):
    """The page's texts between tags, leaving out code, scripts, styles and drawings."""

    SKIPPED = {"script", "style", "svg", "code", "pre", "textarea", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.skipping = 0
        self.nodes: set[str] = set()

    def handle_starttag(self, tag: str, attrs) -> None:
        self.skipping += tag in self.SKIPPED

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self.skipping:
            self.nodes.add(text)


def text_nodes(page: str) -> set[str]:
    parser = TextNodes()
    parser.feed(page)
    return parser.nodes


def our_source_text() -> str:
    """Our code and templates in one text, without the demo's data and the catalogues."""
    return "\n".join(
        path.read_text(encoding="utf-8")
        for area in [*AREAS, TEMPLATES]
        for path in source_files(area)
        if path.name != "demo.py"
    )


def posted_admin_pages() -> Iterator[tuple[str, dict]]:
    """Our admin pages that answer a form: Check connection without JavaScript, and the
    question before deactivating integrations that payment rules offer."""
    from integrations.models import Integration

    for integration in Integration.objects.all():
        opts = integration.integration_type.model._meta
        check = f"admin:{opts.app_label}_{opts.model_name}_check_connection"
        yield reverse(check, args=[integration.pk]), {"name": ""}
    yield (
        reverse("admin:integrations_integration_changelist"),
        {"action": "deactivate", "_selected_action": [i.pk for i in Integration.objects.all()]},
    )


def test_every_page_in_german_shows_none_of_our_english_strings(demo):
    from django.contrib.auth.models import Group, Permission

    from checkout.models import Order
    from integrations.models import Integration
    from payment_rules.models import PaymentRule

    buyer, product = demo
    # Names given to records are data, in whatever words they were given: the demo's
    # integrations, rules and groups, and Django's permission names (stored in English).
    data = sorted(
        {
            *Integration.objects.values_list("name", flat=True),
            *PaymentRule.objects.values_list("name", flat=True),
            *Group.objects.values_list("name", flat=True),
            *Permission.objects.values_list("name", flat=True),
        },
        key=len,
        reverse=True,
    )
    check = PageCheck(german_catalogues(), data)

    anonymous = Client()
    for url in [reverse("admin:login"), reverse("login")]:
        check(anonymous, url)

    # The demo's roles: the superuser opens every page; a payment admin and an ops user see
    # their own, and our "not open to your role" page for the others.
    for username in ["setup", "admin", "ops"]:
        staff = Client()
        staff.force_login(get_user_model().objects.get(username=username))
        for url in admin_pages():
            check(staff, url)
        for url, form in posted_admin_pages():
            check(staff, url, form)

    shop = Client()
    shop.force_login(buyer.user)
    shop.post(reverse("checkout:add_to_cart", args=[product.pk]), {"quantity": 1})
    order = Order.objects.filter(buyer=buyer).first()
    for url in shop_pages(order.number):
        check(shop, url)

    # The walk reached the pages of every part (a walk that found nothing would pass).
    assert {
        reverse("admin:login"),
        reverse("dashboard"),
        reverse("admin:integrations_integration_changelist"),
        reverse("admin:integrations_integration_add"),
        reverse("admin:payment_rules_paymentrule_simulate"),
        reverse("admin:payment_rules_paymentrule_change", args=[PaymentRule.objects.first().pk]),
        reverse("admin:infinitepay_guarantee_changelist"),
        reverse("checkout:cart"),
        reverse("checkout:billing"),
        reverse("checkout:order_detail", args=[order.number]),
    } <= check.checked, "pages left out of the walk"
    found = sorted(check.found)  # each role may meet the same one once
    assert not found, f"{len(found)} English strings of ours on German pages:\n" + "\n".join(found)
