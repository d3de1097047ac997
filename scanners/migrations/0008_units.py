"""Units of work (issue 13): ProbeRun.unit/account/unit_params/phase, longer scopes, AuditRun.planned.
Audits that exist already were dispatched whole: they count as planned (nothing re-plans them)."""

from django.db import migrations, models


def existing_runs_planned(apps, schema_editor):
    apps.get_model("scanners", "AuditRun").objects.update(planned=True)


class Migration(migrations.Migration):

    dependencies = [
        ('scanners', '0007_merge_0006_merge_leaks_rel_0006_stable_subjects'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditrun',
            name='planned',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='proberun',
            name='account',
            field=models.CharField(blank=True, help_text='AWS account id of the unit, where there is one', max_length=20),
        ),
        migrations.AddField(
            model_name='proberun',
            name='phase',
            field=models.PositiveSmallIntegerField(default=0, help_text='units of a phase start after the earlier phases'),
        ),
        migrations.AddField(
            model_name='proberun',
            name='unit',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='proberun',
            name='unit_params',
            field=models.JSONField(blank=True, default=dict, help_text='what collect() needs (registry.Unit.params)'),
        ),
        migrations.AlterField(
            model_name='finding',
            name='scope',
            field=models.CharField(db_index=True, max_length=400),
        ),
        migrations.AlterField(
            model_name='proberun',
            name='scope',
            field=models.CharField(help_text='Findings this probe owns, for reconcile.', max_length=400),
        ),
        migrations.RunPython(existing_runs_planned, migrations.RunPython.noop),
    ]
