from math import ceil

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext, ngettext


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for load balancers and docker-compose: the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "error": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})


def login_locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """Show the login page again, saying that this login is locked and for how long.

    django-axes answers with it (AXES_LOCKOUT_CALLABLE) when a user name has failed too often
    from one address, on the back office's login and the shop's alike.
    """
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context: dict[str, object] = {
        "lockout_message": lockout_message(),
        "next": request.POST.get("next", request.GET.get("next", "")),
    }
    if request.path.startswith(reverse("admin:index")):
        context |= {
            **admin.site.each_context(request),
            "title": gettext("Log in"),
            "app_path": request.get_full_path(),
            "form": AdminAuthenticationForm(request, initial={"username": username}),
        }
        template = "admin/login_locked_out.html"
    else:
        context["form"] = AuthenticationForm(request, initial={"username": username})
        template = "registration/login.html"
    return render(request, template, context, status=429)


def lockout_message() -> str:
    minutes = ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return ngettext(
        "Too many failed logins: logging in with this user name from your address is locked "
        "for %(minutes)d minute, even with the right password. Try again later, or ask an "
        "administrator to unlock it.",
        "Too many failed logins: logging in with this user name from your address is locked "
        "for %(minutes)d minutes, even with the right password. Try again later, or ask an "
        "administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}
