"""The access log: every view of a patient's record and every export, refused lookups too;
searchable by admins, changed or deleted by nobody."""

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.urls import reverse

from patients.models import AccessEvent


def events(action):
    return list(AccessEvent.objects.filter(action=action))


@pytest.mark.parametrize(
    ("route", "action"),
    [("patients:detail", "view_record"), ("reports:patient_pain", "view_pain")],
)
def test_a_clinician_opening_a_record_is_logged(client, clinician, patient, route, action):
    client.force_login(clinician)
    response = client.get(
        reverse(route, args=[patient.pk]), HTTP_USER_AGENT="Firefox", REMOTE_ADDR="10.0.0.5"
    )
    assert response.status_code == 200
    (event,) = events(action)
    assert event.actor == clinician
    assert event.actor_username == "alice"
    assert event.patient == patient
    assert event.ip_address == "10.0.0.5"
    assert event.user_agent == "Firefox"
    assert event.path == reverse(route, args=[patient.pk])


def test_a_colleague_opening_the_record_is_logged_as_themselves(client, colleague, patient):
    client.force_login(colleague)
    client.get(reverse("patients:detail", args=[patient.pk]))
    assert [e.actor for e in events("view_record")] == [colleague]


def test_an_outsider_refused_a_record_is_logged_as_refused(client, outsider, patient):
    client.force_login(outsider)
    assert client.get(reverse("patients:detail", args=[patient.pk])).status_code == 404
    (event,) = events("denied")
    assert event.actor == outsider
    assert event.patient is None  # the log must not link an outsider to a patient they never saw
    assert event.detail == "refused: patients:detail"
    assert not events("view_record")


def test_every_export_is_logged_with_its_filters(client, clinician, clinic):
    client.force_login(clinician)
    # Asked for (a job, reports.jobs): logged then; its download is logged again.
    client.post(reverse("reports:export_entries"), {"research": "1", "clinic": clinic.pk})
    (event,) = events("export")
    assert event.actor == clinician
    assert event.detail.startswith("entries CSV (research); filters: clinic=")


def test_an_admin_opening_a_patient_in_the_admin_is_logged(client, site_admin, patient):
    client.force_login(site_admin)
    client.get(reverse("admin:patients_patient_change", args=[patient.pk]))
    (event,) = events("admin_view")
    assert event.patient == patient


def test_admins_can_search_the_log_but_not_add_change_or_delete(client, site_admin, clinician,
                                                               patient):  # fmt: skip
    client.force_login(clinician)
    client.get(reverse("patients:detail", args=[patient.pk]))
    event = AccessEvent.objects.get()
    client.force_login(site_admin)
    found = client.get(reverse("admin:patients_accessevent_changelist") + "?q=alice")
    assert found.status_code == 200
    assert b"alice" in found.content
    assert client.get(reverse("admin:patients_accessevent_add")).status_code == 403
    client.post(
        reverse("admin:patients_accessevent_change", args=[event.pk]), {"detail": "nothing"}
    )
    client.post(reverse("admin:patients_accessevent_delete", args=[event.pk]), {"post": "yes"})
    assert AccessEvent.objects.get(pk=event.pk).detail == event.detail
    # The refused attempts are themselves in the log.
    assert len(events("denied")) == 2


def test_the_database_refuses_to_rewrite_the_log(clinician, patient, rf):
    request = rf.get("/")
    request.user = clinician
    from patients.audit import record_access

    event = record_access(request, "view_record", patient=patient)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        AccessEvent.objects.filter(pk=event.pk).update(detail="covered up")
    if connection.vendor == "postgresql":
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            AccessEvent.objects.filter(pk=event.pk).delete()
    assert AccessEvent.objects.get(pk=event.pk).detail == ""
