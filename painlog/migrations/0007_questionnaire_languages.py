from django.db import migrations, models


def add_built_in_translations(apps, schema_editor):
    """The built-in PEG and PGIC rows as their files now define them, with their Spanish text.
    Only the translations differ (the rows' items, options and scoring stay as they were), so
    the versions and every stored score stand; a row whose scored part differs from its file
    is left alone."""
    from painlog.instruments import built_in_definitions, scored_part

    Instrument = apps.get_model("painlog", "Instrument")
    for definition in built_in_definitions():
        for instrument in Instrument.objects.filter(
            key=definition["key"], version=definition["version"]
        ):
            if instrument.definition != definition and scored_part(
                instrument.definition
            ) == scored_part(definition):
                instrument.definition = definition
                instrument.save(update_fields=["definition"])


class Migration(migrations.Migration):
    dependencies = [("painlog", "0006_built_in_instruments")]

    operations = [
        migrations.AlterModelOptions(
            name="painentry",
            options={
                "ordering": ["-recorded_at", "-pk"],
                "verbose_name": "pain entry",
                "verbose_name_plural": "pain entries",
            },
        ),
        migrations.AddField(
            model_name="questionnaireresponse",
            name="language",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
        migrations.RunPython(add_built_in_translations, migrations.RunPython.noop),
    ]
