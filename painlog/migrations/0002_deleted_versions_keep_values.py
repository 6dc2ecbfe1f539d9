"""A deleted entry's version used to keep no values ({}), which its own model validation refuses.
Deletion is soft and leaves the entry's values untouched, so the deleted version is given the
values the entry still has. The field list is written out here, as it stood, so that a later
change to painlog.models.VERSIONED_FIELDS cannot change what this migration does."""

from django.db import migrations

FIELDS = [
    "recorded_at", "phantom_pain", "residual_pain", "phantom_frequency", "episode_length",
    "sensations", "sleep_interference", "activity_interference", "medicine_taken",
    "prosthesis_hours", "note", "source",
]  # fmt: skip


def fill_deleted_versions(apps, schema_editor):
    PainEntryChange = apps.get_model("painlog", "PainEntryChange")
    empty = PainEntryChange.objects.filter(action="deleted", values={}).select_related("entry")
    for change in empty.iterator(chunk_size=1000):
        values = {field: getattr(change.entry, field) for field in FIELDS}
        values["recorded_at"] = change.entry.recorded_at.isoformat()
        change.values = values
        change.save(update_fields=["values"])


class Migration(migrations.Migration):
    dependencies = [("painlog", "0001_pain_entries")]

    operations = [migrations.RunPython(fill_deleted_versions, migrations.RunPython.noop)]
