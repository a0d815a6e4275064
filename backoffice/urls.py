from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "InfinitePay back office"
admin.site.site_title = "InfinitePay back office"
admin.site.index_title = "Payments"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("checkout.urls")),
]
