from django.db import migrations

# The role groups exist in every database, so that role checks never depend on demo data.
CLINICIANS_GROUP = "Clinicians"


def create_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.get_or_create(name=CLINICIANS_GROUP)


def remove_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=CLINICIANS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("patients", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
