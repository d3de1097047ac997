"""Beat rows that name a task by its old module path now name it by its explicit name."""

from django.db import migrations

MOVED_TASKS = {
    "scanners.tasks.audit_fleet": "botaudit.audit_fleet",
    "scanners.tasks.run_probe": "botaudit.run_probe",
    "scanners.tasks.finish_audit": "botaudit.finish_audit",
    "scanners.digest.tasks.send_weekly_digests": "botaudit.digest.send_weekly_digests",
    "scanners.digest.tasks.send_digest_group": "botaudit.digest.send_digest_group",
}


def forwards(apps, schema_editor):
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in MOVED_TASKS.items():
        periodic_task.objects.filter(task=old).update(task=new)


def backwards(apps, schema_editor):
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    for old, new in MOVED_TASKS.items():
        periodic_task.objects.filter(task=new).update(task=old)


class Migration(migrations.Migration):
    dependencies = [
        ("scanners", "0004_run_task_ids"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
