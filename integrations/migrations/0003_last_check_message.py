"""The last connection check's answer as a phrase and its parameters, read in each reader's
language; the answers kept so far as text stay readable (in the words they were kept in)."""

from django.db import migrations, models


def keep_text_answers(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for integration in Integration.objects.exclude(last_check_detail=""):
        integration.last_check_message = {"text": integration.last_check_detail, "params": {}}
        integration.save(update_fields=["last_check_message"])


def keep_phrases_as_text(apps, schema_editor):
    Integration = apps.get_model("integrations", "Integration")
    for integration in Integration.objects.exclude(last_check_message={}):
        integration.last_check_detail = integration.last_check_message.get("text", "")
        integration.save(update_fields=["last_check_detail"])


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_last_connection_check")]

    operations = [
        migrations.AddField(
            model_name="integration",
            name="last_check_message",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(keep_text_answers, keep_phrases_as_text),
        migrations.RemoveField(model_name="integration", name="last_check_detail"),
    ]
