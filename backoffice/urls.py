from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "InfinitePay back office"
admin.site.site_title = "InfinitePay back office"
admin.site.index_title = "Payments"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("checkout.urls")),
]
