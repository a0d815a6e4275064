from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The project itself: project-wide commands such as seed_demo."""

    name = "backoffice"
    verbose_name = "Back office"
