"""Both staff roles read a guarantee's events, the story its timeline tells.

GuaranteeEvent came after the roles (0004), so its permission is granted here, created
first on a fresh database as 0004 does.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("Payment admins", "Payment ops")
CODENAME = "view_guaranteeevent"


def grant(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_config = apps.get_app_config("infinitepay")
    # Historical app configs have no models module; create_permissions skips those.
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    permission = Permission.objects.get(content_type__app_label="infinitepay", codename=CODENAME)
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.add(permission)


def revoke(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label="infinitepay", codename=CODENAME
    ).first()
    if permission is not None:
        for group in Group.objects.filter(name__in=ROLES):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("infinitepay", "0009_guarantee_events")]

    operations = [migrations.RunPython(grant, revoke)]
