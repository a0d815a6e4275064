from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from infinitepay.dashboard import dashboard_view

from . import views

admin.site.site_header = _("InfinitePay back office")
admin.site.site_title = _("InfinitePay back office")
admin.site.index_title = _("Payments")

# A page the user may not see says so in the back office's own words (templates/admin/403.html).
handler403 = "backoffice.permission_denied.permission_denied"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="dashboard"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The language switcher posts to set_language (name "set_language").
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("checkout.urls")),
]
