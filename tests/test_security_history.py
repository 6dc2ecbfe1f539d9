"""Issue 21, item 8: the record history and the pain-entry versions are append-only in the
database, like the access log: an UPDATE is refused on both databases, a DELETE on PostgreSQL."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction

from painlog.models import PainEntry, PainEntryChange
from patients.models import RecordChange
from patients.services import log_change


@pytest.fixture
def record_change(patient, clinician):
    return log_change(patient=patient, actor=clinician, record="Email", action="changed",
                      reason="typo")  # fmt: skip


@pytest.fixture
def version(patient):
    entry = PainEntry.objects.create(patient=patient, phantom_pain=5, residual_pain=4,
                                     entered_by=patient.user)  # fmt: skip
    return PainEntryChange.objects.create(
        entry=entry, actor=patient.user, action="created", values={"phantom_pain": 5}
    )


def refused():
    return pytest.raises((IntegrityError, InternalError))


def test_the_record_history_cannot_be_rewritten(record_change):
    with refused(), transaction.atomic():
        RecordChange.objects.filter(pk=record_change.pk).update(reason="covered up")
    if connection.vendor == "postgresql":
        with refused(), transaction.atomic():
            RecordChange.objects.filter(pk=record_change.pk).delete()
    assert RecordChange.objects.get(pk=record_change.pk).reason == "typo"


def test_a_pain_entrys_versions_cannot_be_rewritten(version):
    with refused(), transaction.atomic():
        PainEntryChange.objects.filter(pk=version.pk).update(values={"phantom_pain": 0})
    if connection.vendor == "postgresql":
        with refused(), transaction.atomic():
            PainEntryChange.objects.filter(pk=version.pk).delete()
    assert PainEntryChange.objects.get(pk=version.pk).values == {"phantom_pain": 5}


def test_new_lines_are_still_written(record_change, version):
    assert RecordChange.objects.filter(pk=record_change.pk).exists()
    assert PainEntryChange.objects.filter(pk=version.pk).exists()
