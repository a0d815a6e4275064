"""The two staff roles as groups: Payment admins and Payment ops.

Django creates permissions after `migrate` (post_migrate), so on a fresh database they do
not exist yet when this runs: it creates the missing ones of the apps it names first. The
role contents are written out here, frozen as migrations should be; docs/ops-runbook.md
describes them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL = ("add", "change", "delete", "view")

ROLES: dict[str, dict[str, list[str]]] = {
    # Set up integrations, payment rules and Payment Term; read orders and their guarantees.
    "Payment admins": {
        "integrations": [f"{verb}_integration" for verb in ALL],
        "infinitepay": [
            *(f"{verb}_infinitepayintegration" for verb in ALL),
            "view_guarantee",
            "view_apicall",
        ],
        "payment_term": [f"{verb}_paymenttermintegration" for verb in ALL],
        "payment_rules": [
            f"{verb}_{model}"
            for model in (
                "paymentrule",
                "ruledestination",
                "ruledestinationpostalcode",
                "rulemethod",
            )
            for verb in ALL
        ],
        "checkout": ["view_order", "view_orderline", "view_payment"],
    },
    # Watch and operate guarantees; read orders. No permission on InfinitePay integrations,
    # whose forms hold the credentials; the integrations list (name, status, health) only.
    "Payment ops": {
        "infinitepay": [
            "view_guarantee",
            "retry_guarantee",
            "capture_guarantee",
            "activate_guarantee",
            "cancel_guarantee",
            "check_status_guarantee",
            "apply_transaction_guarantee",
            "view_apicall",
        ],
        "integrations": ["view_integration"],
        "checkout": ["view_order", "view_orderline", "view_payment"],
    },
}


def create_roles(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_label in {label for role in ROLES.values() for label in role}:
        app_config = apps.get_app_config(app_label)
        # Historical app configs have no models module; create_permissions skips those.
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codenames in grants.items():
            permissions = Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
            missing = set(codenames) - set(permissions.values_list("codename", flat=True))
            if missing:
                raise RuntimeError(f"{name}: no such permissions in {app_label}: {missing}")
            group.permissions.add(*permissions)


def remove_roles(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("checkout", "0001_initial"),
        ("integrations", "0001_initial"),
        ("payment_rules", "0001_initial"),
        ("payment_term", "0001_initial"),
        ("infinitepay", "0003_guarantee_operation_permissions"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
