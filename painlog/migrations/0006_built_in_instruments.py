from django.db import migrations


def install_built_in_instruments(apps, schema_editor):
    """The PEG and the PGIC, free to ship, as their files define them. A later change to a
    file ships with its own version and its own migration; rows are never rewritten."""
    from painlog.instruments import built_in_definitions, parse

    Instrument = apps.get_model("painlog", "Instrument")
    for definition in built_in_definitions():
        instrument = parse(definition)
        Instrument.objects.get_or_create(
            key=instrument.key,
            version=instrument.version,
            defaults={"name": instrument.name, "definition": definition, "built_in": True},
        )


class Migration(migrations.Migration):
    dependencies = [("painlog", "0005_questionnaires")]

    operations = [
        migrations.RunPython(install_built_in_instruments, migrations.RunPython.noop),
    ]
