from django.db import migrations


class Migration(migrations.Migration):
    """Joins the leak re-keying (0004-0005 git) with the reliability branch (0004-0005 runs)."""

    dependencies = [
        ('scanners', '0005_explicit_task_names'),
        ('scanners', '0005_git_findings_per_secret'),
    ]

    operations = []
