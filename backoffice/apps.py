from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The project itself: project-wide commands such as seed_demo, and the start-up checks."""

    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        create_sqlite_folder()


def create_sqlite_folder() -> None:
    """Give an SQLite database file its folder (var/ by default), which SQLite will not create."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    in_memory = name.startswith((":memory:", "file:")) or not name
    if database["ENGINE"] == "django.db.backends.sqlite3" and not in_memory:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
