"""FHIR R4 export: a patient's Bundle from their page, a clinic's from the cohort page, the intake
Questionnaire. Every resource valid for fhir.resources R4B, references resolving inside the
Bundle, scores and times exactly the database's, scoped like every other page, and a research
variant with nothing that names the patient.

Validity is checked once. The export builds every resource with fhir.resources' R4B classes,
which validate it as it is made (painlog/fhir.py): an invalid resource fails the download. What
the export then writes, its JSON, is read back by fhir.resources in
test_the_text_written_is_valid_fhir_r4b, for Bundles holding every resource and element the
export can write; the other tests read the text as plain JSON."""

import csv
import datetime
import io
import json
import tracemalloc
import zoneinfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.http import StreamingHttpResponse
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from painlog.models import PainEntry
from patients.models import AccessEvent, Amputation, Intake, Patient, Surgery
from reports import exports, fhir, jobs, research
from reports.models import ExportJob
from tests.conftest import make_amputation, make_clinician, make_patient, make_surgery, make_user
from tests.export_support import run_export

CLINIC_BUNDLE = reverse("reports:export_fhir")
QUESTIONNAIRE = reverse("fhir_questionnaire")
NOW = datetime.datetime(2025, 6, 15, 17, tzinfo=datetime.UTC)
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
RESOURCE_TYPES = {"Patient", "Condition", "Procedure", "QuestionnaireResponse", "Observation"}


@pytest.fixture(autouse=True)
def frozen_now_in_chicago(settings):
    settings.TIME_ZONE = "America/Chicago"
    cache.clear()  # the export rate limit counts per user id, and ids repeat between tests
    with time_machine.travel(NOW, tick=False):
        yield


def patient_url(patient):
    return reverse("reports:patient_fhir", args=[patient.pk])


def entry(patient, when, phantom=6, residual=3, **fields):
    if "entered_by" not in fields:
        fields["entered_by"] = get_user_model().objects.get_or_create(username="diarist")[0]
    return PainEntry.objects.create(
        patient=patient, recorded_at=when, phantom_pain=phantom, residual_pain=residual, **fields
    )


def utc(*args):
    return datetime.datetime(*args, tzinfo=datetime.UTC)


@pytest.fixture
def record(patient):
    """A complete record: a left transtibial amputation, a primary TMR with two nerve transfers,
    a sent intake, three live entries and a deleted one."""
    patient.email = "jordan@example.org"
    patient.phone = "+1 312 555 0100"
    patient.sex = "female"
    patient.save()
    amputation = make_amputation(patient, notes="Stump healed well")
    make_surgery(
        amputation,
        transfers=[("tibial", "Soleus motor branch"), ("common_peroneal", "Tibialis anterior")],
        facility="Lakeside Hospital",
        notes="Uneventful",
    )
    Intake.objects.create(
        patient=patient,
        left_leg=True,
        amputation_story="Motorbike accident",
        pain_onset="first_week",
        phantom_pain=8,
        residual_pain=4,
        phantom_pain_frequency="several_daily",
        sensations=["burning", "shooting"],
        takes_opioids="no",
        prosthesis_use="daily",
        prosthesis_hours_per_day=9,
        hopes="Sleep through the night",
        completed_at=utc(2024, 2, 20, 15),
    )
    entry(patient, utc(2025, 1, 7, 18), 8, 5, note="Bad night")
    entry(patient, utc(2025, 1, 8, 18), 7, 4)
    entry(patient, utc(2025, 1, 9, 18), 6, 3)
    deleted = entry(patient, utc(2025, 1, 10, 18), 9, 9)
    PainEntry.objects.filter(pk=deleted.pk).update(deleted_at=NOW)
    return patient


def download(client, url, query=None):
    if url == CLINIC_BUNDLE:  # a job, run here as a worker would
        response = run_export(client, url, query)
    else:
        response = client.get(url, query or {})
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    return b"".join(response.streaming_content).decode("utf-8")


def validated(text):
    """The Bundle as plain JSON: a collection of our resource types, every fullUrl its
    resource's id, every reference resolving inside it. (The resources themselves were
    validated as they were built; see the module's docstring.)"""
    data = json.loads(text)
    assert (data["resourceType"], data["type"]) == ("Bundle", "collection")
    entries = data.get("entry", [])
    for raw in entries:
        assert raw["resource"]["resourceType"] in RESOURCE_TYPES
        assert raw["fullUrl"] == f"urn:uuid:{raw['resource']['id']}"
    full_urls = {raw["fullUrl"] for raw in entries}
    assert len(full_urls) == len(entries)
    assert set(references(data)) <= full_urls
    return data


def valid_r4b(text):
    """The Bundle read back by fhir.resources R4B: each entry parsed as its own resource class."""
    bundle = Bundle.model_validate_json(text)
    data = json.loads(text)
    parsed = [type(entry.resource).__name__ for entry in bundle.entry or []]
    assert parsed == [raw["resource"]["resourceType"] for raw in data.get("entry", [])]
    return bundle


def references(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference":
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def resources(data, resource_type):
    return [
        raw["resource"]
        for raw in data.get("entry", [])
        if raw["resource"]["resourceType"] == resource_type
    ]


def by_url(data):
    return {raw["fullUrl"]: raw["resource"] for raw in data.get("entry", [])}


def diary(data):
    """Each entry group's (subject, time, {pain site: score}), from the Bundle."""
    resolved = by_url(data)
    rows = []
    for group in resources(data, "Observation"):
        if "hasMember" not in group:
            continue
        members = [resolved[member["reference"]] for member in group["hasMember"]]
        assert {m["effectiveDateTime"] for m in members} == {group["effectiveDateTime"]}
        assert {m["subject"]["reference"] for m in members} == {group["subject"]["reference"]}
        scores = {m["bodySite"]["coding"][0]["code"]: m["valueInteger"] for m in members}
        rows.append((group["subject"]["reference"], group["effectiveDateTime"], scores))
    return rows


# The patient's Bundle, from their page


def test_patient_bundle_maps_the_record_and_every_live_entry(client, clinician, record):
    client.force_login(clinician)
    response = client.get(patient_url(record))
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == (
        f'attachment; filename="tmr-fhir-patient-{record.pk}-2025-06-15.json"'
    )
    data = validated(download(client, patient_url(record)))
    assert data["timestamp"] == "2025-06-15T17:00:00+00:00"
    types = [raw["resource"]["resourceType"] for raw in data["entry"]]
    assert types[:4] == ["Patient", "Condition", "Procedure", "QuestionnaireResponse"]
    assert types.count("Observation") == 3 * 3  # three live entries: group and two scores

    (person,) = resources(data, "Patient")
    assert person["identifier"] == [
        {
            "use": "usual",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            "system": f"urn:tmrclinic:clinic:{record.clinic_id}:mrn",
            "value": "MRN-1",
            "assigner": {"display": "Lakeside"},
        }
    ]
    assert person["name"] == [
        {"use": "official", "text": "Jordan Reyes", "family": "Reyes", "given": ["Jordan"]}
    ]
    assert person["telecom"] == [
        {"system": "email", "value": "jordan@example.org"},
        {"system": "phone", "value": "+1 312 555 0100"},
    ]
    assert (person["gender"], person["birthDate"], person["active"]) == (
        "female",
        "1970-01-01",
        True,
    )
    patient_ref = {"reference": f"urn:uuid:{person['id']}"}

    (condition,) = resources(data, "Condition")
    assert condition["subject"] == patient_ref
    assert condition["onsetDateTime"] == "2024-03-01"
    assert condition["bodySite"] == [
        {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "32153003",
                    "display": "Structure of left lower limb",
                }
            ],
            "text": "Left leg",
        }
    ]
    assert condition["code"]["coding"] == [
        {
            "system": "urn:tmrclinic:codes:amputation-level",
            "code": "transtibial",
            "display": "Transtibial (below knee)",
        }
    ]
    assert condition["extension"] == [
        {
            "url": "http://hl7.org/fhir/StructureDefinition/condition-dueTo",
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": "urn:tmrclinic:codes:amputation-cause",
                        "code": "trauma",
                        "display": "Trauma",
                    }
                ],
                "text": "Trauma",
            },
        }
    ]
    assert condition["note"] == [{"text": "Stump healed well"}]

    (procedure,) = resources(data, "Procedure")
    assert procedure["status"] == "completed"
    assert procedure["performedDateTime"] == "2024-03-01"
    assert procedure["code"]["coding"][0]["code"] == "primary_tmr"
    assert procedure["reasonReference"] == [{"reference": f"urn:uuid:{condition['id']}"}]
    assert procedure["performer"] == [{"actor": {"display": "Dr. Osei"}}]
    assert procedure["location"] == {"display": "Lakeside Hospital"}
    assert procedure["bodySite"] == condition["bodySite"]
    assert [note["text"] for note in procedure["note"]] == [
        "Nerve transfer: Tibial nerve to Soleus motor branch",
        "Nerve transfer: Common peroneal (fibular) nerve to Tibialis anterior",
        "Uneventful",
    ]
    transfers = procedure["extension"]
    assert {e["url"] for e in transfers} == {"urn:tmrclinic:fhir:extension:nerve-transfer"}
    assert transfers[0]["extension"] == [
        {
            "url": "nerve",
            "valueCoding": {
                "system": "urn:tmrclinic:codes:nerve",
                "code": "tibial",
                "display": "Tibial",
            },
        },
        {"url": "target", "valueString": "Soleus motor branch"},
    ]

    (intake,) = resources(data, "QuestionnaireResponse")
    assert intake["questionnaire"] == "http://localhost:8000/fhir/Questionnaire/tmr-intake"
    assert (intake["status"], intake["authored"]) == ("completed", "2024-02-20T15:00:00+00:00")
    answers = {item["linkId"]: item["answer"] for item in intake["item"]}
    assert answers["phantom_pain"] == [{"valueInteger": 8}]
    assert [a["valueCoding"]["code"] for a in answers["sensations"]] == ["burning", "shooting"]
    assert answers["hopes"] == [{"valueString": "Sleep through the night"}]
    assert "residual_pain_frequency" not in answers  # not answered: left out

    subject = patient_ref["reference"]
    assert diary(data) == [
        (subject, "2025-01-07T18:00:00+00:00", {"phantom-limb": 8, "residual-limb": 5}),
        (subject, "2025-01-08T18:00:00+00:00", {"phantom-limb": 7, "residual-limb": 4}),
        (subject, "2025-01-09T18:00:00+00:00", {"phantom-limb": 6, "residual-limb": 3}),
    ]
    group, phantom, residual = resources(data, "Observation")[:3]
    assert group["note"] == [{"text": "Bad night"}]
    assert group["hasMember"] == [
        {"reference": f"urn:uuid:{phantom['id']}"},
        {"reference": f"urn:uuid:{residual['id']}"},
    ]
    for score in (phantom, residual):
        assert score["status"] == "final"
        assert score["category"] == [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ]
        assert score["code"]["coding"] == [
            {
                "system": "http://loinc.org",
                "code": "72514-3",
                "display": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
            }
        ]
    assert phantom["bodySite"] == {
        "coding": [
            {
                "system": "urn:tmrclinic:codes:pain-site",
                "code": "phantom-limb",
                "display": "Phantom limb",
            }
        ],
        "text": "Phantom limb",
    }
    assert residual["bodySite"]["coding"][0]["code"] == "residual-limb"


def test_deleted_entries_are_left_out(client, clinician, record):
    client.force_login(clinician)
    data = validated(download(client, patient_url(record)))
    assert 9 not in [obs.get("valueInteger") for obs in resources(data, "Observation")]


def test_the_same_data_exports_to_the_same_bytes(client, clinician, record):
    client.force_login(clinician)
    assert download(client, patient_url(record)) == download(client, patient_url(record))


def test_colleague_in_the_same_clinic_gets_the_same_bundle(client, clinician, colleague, record):
    client.force_login(clinician)
    mine = download(client, patient_url(record))
    client.force_login(colleague)
    assert download(client, patient_url(record)) == mine


def test_admin_gets_any_patients_bundle(client, site_admin, record):
    client.force_login(site_admin)
    assert len(resources(validated(download(client, patient_url(record))), "Patient")) == 1


def test_clinician_of_another_clinic_gets_404(client, outsider, record):
    client.force_login(outsider)
    assert client.get(patient_url(record)).status_code == 404


def test_patient_cannot_download_even_their_own_bundle(client, record):
    # Clinicians' view: role_required answers everyone else with a 404.
    client.force_login(record.user)
    assert client.get(patient_url(record)).status_code == 404


def test_user_without_a_role_gets_404(client, record):
    client.force_login(make_user("nobody"))
    assert client.get(patient_url(record)).status_code == 404


@pytest.mark.parametrize("url", ["patient", CLINIC_BUNDLE, QUESTIONNAIRE])
def test_anonymous_visitor_is_sent_to_login(client, record, url):
    response = client.get(patient_url(record) if url == "patient" else url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_post_to_a_patients_bundle_or_a_put_to_the_clinics_is_refused(client, clinician, record):
    client.force_login(clinician)
    assert client.post(patient_url(record)).status_code == 405
    assert client.put(CLINIC_BUNDLE).status_code == 405


def test_every_download_goes_into_the_access_log(client, clinician, clinic, record):
    client.force_login(clinician)
    download(client, patient_url(record))
    download(client, CLINIC_BUNDLE, {"clinic": clinic.pk, "research": "1"})
    events = AccessEvent.objects.filter(action="export").order_by("pk")
    patient_event, clinic_event, clinic_download = events
    assert (patient_event.actor, patient_event.patient) == (clinician, record)
    assert patient_event.detail == "FHIR bundle of the patient"
    assert patient_event.path == patient_url(record)
    # The clinic's: once when asked for, once when its file is downloaded.
    assert (clinic_event.actor, clinic_event.patient) == (clinician, None)
    assert clinic_event.detail == f"FHIR bundle (research); filters: clinic={clinic.pk}"
    job = ExportJob.objects.get()
    assert (clinic_download.actor, clinic_download.patient) == (clinician, None)
    assert clinic_download.detail == (
        f"download of export {job.pk}: FHIR bundle (research); filters: clinic={clinic.pk}"
    )
    assert clinic_download.path == reverse("reports:export_download", args=[job.pk])


def test_an_outsider_refused_a_patients_bundle_is_logged_as_refused(client, outsider, record):
    client.force_login(outsider)
    assert client.get(patient_url(record)).status_code == 404
    (event,) = AccessEvent.objects.all()
    assert (event.action, event.patient, event.detail) == (
        "denied",
        None,
        "refused: reports:patient_fhir",
    )


def test_the_patient_page_links_to_the_bundle(client, clinician, record):
    client.force_login(clinician)
    page = client.get(reverse("reports:patient_pain", args=[record.pk])).content.decode()
    assert f'href="{patient_url(record)}"' in page


# Times: stored in UTC, written in UTC with an explicit offset


def test_entries_on_daylight_saving_boundaries_keep_their_instant(client, clinician, patient):
    moments = [
        # The clocks go forward at 02:00 on 10 March 2024: 01:30 CST, then 03:30 CDT.
        datetime.datetime(2024, 3, 10, 1, 30, tzinfo=CHICAGO),
        datetime.datetime(2024, 3, 10, 3, 30, tzinfo=CHICAGO),
        # They go back at 02:00 on 3 November 2024: 01:30 happens twice.
        datetime.datetime(2024, 11, 3, 1, 30, tzinfo=CHICAGO, fold=0),
        datetime.datetime(2024, 11, 3, 1, 30, tzinfo=CHICAGO, fold=1),
    ]
    for number, moment in enumerate(moments):
        entry(patient, moment, phantom=number)
    client.force_login(clinician)
    data = validated(download(client, patient_url(patient)))
    times = [time for _subject, time, _scores in diary(data)]
    assert times == [
        "2024-03-10T07:30:00+00:00",
        "2024-03-10T08:30:00+00:00",
        "2024-11-03T06:30:00+00:00",
        "2024-11-03T07:30:00+00:00",
    ]
    assert [datetime.datetime.fromisoformat(time) for time in times] == list(
        PainEntry.objects.order_by("recorded_at").values_list("recorded_at", flat=True)
    )


# Hostile and sparse data


def test_odd_text_stays_valid_json_and_comes_back_exactly(client, clinician, clinic):
    last_name = 'O\'Brien "Bobby" \\ Zoë 李 🦿 \u2028 עברית'
    patient = make_patient(
        clinic, "MRN-<b>&\"'", first_name='<script>alert("x")</script>', last_name=last_name
    )
    amputation = make_amputation(patient, notes='"]},{"resourceType":"Patient","id":"evil"}')
    make_surgery(amputation, transfers=[("sural", "Gastrocnemius </script> branch")])
    entry(patient, utc(2025, 2, 1, 12), note="Bell\x07 and tab\there\nnew line ")
    client.force_login(clinician)
    text = download(client, patient_url(patient))
    data = validated(text)
    (person,) = resources(data, "Patient")
    assert person["name"][0]["given"] == ['<script>alert("x")</script>']
    assert person["name"][0]["family"] == last_name
    assert person["identifier"][0]["value"] == "MRN-<b>&\"'"
    (condition,) = resources(data, "Condition")
    assert condition["note"] == [{"text": '"]},{"resourceType":"Patient","id":"evil"}'}]
    group = resources(data, "Observation")[0]
    # Control characters are dropped (FHIR strings allow only tab and line breaks), and the
    # surrounding space trimmed.
    assert group["note"] == [{"text": "Bell and tab\there\nnew line"}]


def test_sparse_records_leave_out_empty_elements(client, clinician, clinic):
    patient = make_patient(clinic, "MRN-S", preferred_language="")
    amputation = make_amputation(patient)
    make_surgery(amputation, surgeon="", procedure="other")
    Intake.objects.create(patient=patient)  # started, nothing answered
    client.force_login(clinician)
    text = download(client, patient_url(patient))
    data = validated(text)
    assert '""' not in text and "[]" not in text and "null" not in text
    (person,) = resources(data, "Patient")
    assert "telecom" not in person and "communication" not in person
    (procedure,) = resources(data, "Procedure")
    assert not {"performer", "location", "note", "extension"} & set(procedure)
    (intake,) = resources(data, "QuestionnaireResponse")
    assert intake["status"] == "in-progress" and "item" not in intake
    assert "entry" in data and not resources(data, "Observation")


def test_bilateral_amputations_are_two_conditions_each_with_its_side(client, clinician, clinic):
    patient = make_patient(clinic, "MRN-BI")
    left = make_amputation(patient, side="left", level="transfemoral")
    right = make_amputation(patient, side="right", level="transtibial", etiology="vascular")
    right_surgery = make_surgery(right, procedure="secondary_tmr", date=datetime.date(2024, 9, 1))
    client.force_login(clinician)
    data = validated(download(client, patient_url(patient)))
    conditions = {c["id"]: c for c in resources(data, "Condition")}

    def ids(kind, pk):
        return fhir.resource_id(kind, pk, research=False)

    assert conditions[ids("amputation", left.pk)]["bodySite"][0]["coding"][0]["code"] == "32153003"
    assert conditions[ids("amputation", right.pk)]["bodySite"][0]["coding"][0]["code"] == "62175007"
    (procedure,) = resources(data, "Procedure")
    assert procedure["id"] == ids("surgery", right_surgery.pk)
    assert procedure["reasonReference"] == [
        {"reference": f"urn:uuid:{ids('amputation', right.pk)}"}
    ]
    assert procedure["bodySite"][0]["coding"][0]["code"] == "62175007"


# The clinic's Bundle, from the cohort page


@pytest.fixture
def two_clinics(clinic, other_clinic, record, other_patient):
    entry(other_patient, utc(2025, 3, 1, 12), 2, 2)
    return clinic, other_clinic


def test_clinic_bundle_holds_only_the_clinicians_clinics(client, clinician, two_clinics):
    client.force_login(clinician)
    response = run_export(client, CLINIC_BUNDLE)
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == 'attachment; filename="tmr-fhir-2025-06-15.json"'
    data = validated(download(client, CLINIC_BUNDLE))
    assert [p["identifier"][0]["value"] for p in resources(data, "Patient")] == ["MRN-1"]


def test_the_clinic_filter_chooses_the_clinic(client, two_clinics):
    clinic, other_clinic = two_clinics
    client.force_login(make_clinician("dora", clinic, other_clinic))
    both = validated(download(client, CLINIC_BUNDLE))
    assert {p["identifier"][0]["value"] for p in resources(both, "Patient")} == {"MRN-1", "MRN-9"}
    one = validated(download(client, CLINIC_BUNDLE, {"clinic": other_clinic.pk}))
    assert [p["identifier"][0]["value"] for p in resources(one, "Patient")] == ["MRN-9"]


@pytest.mark.parametrize("chosen", ["foreign", "abc", "-1"])
def test_a_bad_or_foreign_clinic_is_refused_with_no_data(client, clinician, two_clinics, chosen):
    if chosen == "foreign":
        chosen = two_clinics[1].pk
    client.force_login(clinician)
    response = client.get(CLINIC_BUNDLE, {"clinic": chosen})
    assert response.status_code == 400
    assert response.content.decode() == "Check the filters: clinic"


def test_clinician_of_another_clinic_gets_only_their_own(client, outsider, two_clinics):
    client.force_login(outsider)
    data = validated(download(client, CLINIC_BUNDLE))
    assert [p["identifier"][0]["value"] for p in resources(data, "Patient")] == ["MRN-9"]


def test_a_clinician_without_patients_gets_an_empty_valid_bundle(client, db, clinic):
    client.force_login(make_clinician("newcomer", clinic))
    text = download(client, CLINIC_BUNDLE)
    valid_r4b(text)  # the Bundle's head alone, written on its own path: read back here
    assert "entry" not in validated(text)  # FHIR allows no empty list


def test_patient_is_sent_to_their_own_home(client, record):
    client.force_login(record.user)
    response = client.get(CLINIC_BUNDLE)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_fhir_downloads_share_the_csv_exports_hourly_limit(client, clinician, record):
    client.force_login(clinician)
    for _ in range(exports.EXPORTS_PER_WINDOW - 1):
        assert client.post(reverse("reports:export_entries")).status_code == 302
    assert client.get(patient_url(record)).status_code == 200
    assert client.post(CLINIC_BUNDLE).status_code == 429
    assert client.get(patient_url(record)).status_code == 429


def test_the_cohort_page_links_to_both_clinic_bundles(client, clinician, two_clinics):
    client.force_login(clinician)
    page = client.get(reverse("reports:cohort_outcomes")).content.decode()
    assert f'href="{CLINIC_BUNDLE}"' in page
    assert f'href="{CLINIC_BUNDLE}?research=1"' in page


def test_round_trip_counts_scores_and_times_match_the_database(client, clinician, clinic, record):
    second = make_patient(clinic, "MRN-2", first_name="Sam", last_name="Second")
    upper = make_amputation(second, limb="upper", side="right", level="transhumeral")
    make_surgery(upper, transfers=[("median", "Biceps, short head motor branch")])
    make_amputation(second, limb="lower", side="left", level="transfemoral", etiology="vascular")
    for hour in range(0, 48, 5):
        entry(
            second, utc(2025, 4, 1, 0) + datetime.timedelta(hours=hour), hour % 11, 10 - hour % 11
        )
    client.force_login(clinician)
    data = validated(download(client, CLINIC_BUNDLE))

    counts = {}
    for item in data["entry"]:
        kind = item["resource"]["resourceType"]
        counts[kind] = counts.get(kind, 0) + 1
    live = PainEntry.objects.live().filter(patient__clinic=clinic)
    assert counts == {
        "Patient": Patient.objects.filter(clinic=clinic).count(),
        "Condition": Amputation.objects.filter(patient__clinic=clinic).count(),
        "Procedure": Surgery.objects.filter(patient__clinic=clinic).count(),
        "QuestionnaireResponse": Intake.objects.filter(patient__clinic=clinic).count(),
        "Observation": 3 * live.count(),
    }
    expected = sorted(
        (
            f"urn:uuid:{fhir.resource_id('patient', e.patient_id, research=False)}",
            e.recorded_at,
            {"phantom-limb": e.phantom_pain, "residual-limb": e.residual_pain},
        )
        for e in live
    )
    found = sorted(
        (subject, datetime.datetime.fromisoformat(time), scores)
        for subject, time, scores in diary(data)
    )
    assert found == expected
    assert len(found) == 3 + 10


# Read back by fhir.resources: the JSON that the export writes, checked once


def test_the_text_written_is_valid_fhir_r4b(client, clinician, clinic, consenting):
    """Every resource type and every element the export writes, in both variants: the complete
    record (a nerve transfer, an answered intake, notes, contact details), odd text, a sparse
    record with an intake in progress, two limbs, and times on both daylight-saving changes.
    fhir.resources reads each entry back as its own resource class."""
    odd = make_patient(clinic, "MRN-<b>&\"'", first_name="<script>", last_name="Zoë 李 🦿 \u2028")
    make_surgery(
        make_amputation(odd, notes='"]},{"resourceType":"Patient"}'),
        transfers=[("sural", "Gastrocnemius </script> branch")],
    )
    entry(odd, utc(2025, 2, 1, 12), note="Bell\x07 and tab\there\nnew line ")
    sparse = make_patient(
        clinic,
        "MRN-S",
        preferred_language="",
        research_consent=True,
        research_consent_date=datetime.date(2024, 12, 1),
    )
    make_surgery(make_amputation(sparse), surgeon="", procedure="other")
    Intake.objects.create(patient=sparse)
    both_legs = make_patient(clinic, "MRN-BI")
    make_amputation(both_legs, side="left", level="transfemoral")
    right = make_amputation(both_legs, side="right", level="transtibial", etiology="vascular")
    make_surgery(right, procedure="secondary_tmr", date=datetime.date(2024, 9, 1))
    for moment in (utc(2024, 3, 10, 7, 30), utc(2024, 3, 10, 8, 30), utc(2024, 11, 3, 6, 30)):
        entry(both_legs, moment)
    client.force_login(clinician)
    for query in ({}, {"research": "1"}):
        text = download(client, CLINIC_BUNDLE, query)
        bundle = valid_r4b(text)
        assert {type(item.resource).__name__ for item in bundle.entry} == RESOURCE_TYPES
        assert bool(bundle.meta) == ("research" in query)


# Queries and memory


def patient_with_entries(clinic, mrn, entries, clinician):
    patient = make_patient(clinic, mrn)
    make_surgery(make_amputation(patient), transfers=[("tibial", "Soleus motor branch")])
    Intake.objects.create(patient=patient, left_leg=True, phantom_pain=5, residual_pain=5)
    first = utc(2023, 1, 1, 6)
    PainEntry.objects.bulk_create(
        [
            PainEntry(
                patient=patient,
                recorded_at=first + datetime.timedelta(hours=3 * number),
                phantom_pain=number % 11,
                residual_pain=(7 * number) % 11,
                entered_by=clinician,
            )
            for number in range(entries)
        ],
        batch_size=1000,
    )
    return patient


def asked_for(client, query=None):
    """The clinic bundle asked for (not yet run): its job."""
    assert client.post(CLINIC_BUNDLE, query or {}).status_code == 302
    return ExportJob.objects.latest("pk")


def downloaded(client, job):
    response = client.get(reverse("reports:export_download", args=[job.pk]))
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("patients", [1, 5])
def test_downloads_run_a_fixed_number_of_queries(
    client, clinician, clinic, patients, django_assert_num_queries
):
    people = [patient_with_entries(clinic, f"Q{n}", 4, clinician) for n in range(patients)]
    client.force_login(clinician)
    job = asked_for(client)
    # The job: claim it, read it (with its clinician), the clinician's role and clinics (the
    # filters checked again), count the entries, store the total; the patients (with clinic
    # and intake), their amputations, medicines, surgeries, nerve transfers, questionnaire
    # answer sets (with their versions) and live entries; hand over the file.
    with django_assert_num_queries(14):
        jobs.run(job.pk, job.attempt)
    # session, user, verified device, role, the job, the access-log line, the download count
    with django_assert_num_queries(7):
        data = validated(downloaded(client, job))
    assert len(resources(data, "Observation")) == 3 * 4 * patients
    # session, user, verified device, role, the patient (scoped to the clinician), the
    # access-log line, then the same six
    with django_assert_num_queries(13):
        validated(download(client, patient_url(people[0])))


def test_a_diary_of_many_chunks_is_read_a_chunk_a_query(
    client, clinician, clinic, django_assert_num_queries, monkeypatch
):
    # Ten chunks of entries and a hundred or more pieces of text, from a diary of 500 entries:
    # what a clinic's years of diaries do at the real sizes (2,000 entries a chunk, 64 KB a
    # piece), at a tenth of the building. Progress is written at most once a second.
    monkeypatch.setattr(fhir, "ENTRY_CHUNK", 50)
    monkeypatch.setattr(fhir, "PIECE_SIZE", 8 * 1024)
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 3600)
    patient_with_entries(clinic, "BIG", 500, clinician)
    client.force_login(clinician)
    job = asked_for(client)
    # As above, the entries in ten chunks of their own, then the empty one that ends them.
    with django_assert_num_queries(14 + 10):
        jobs.run(job.pk, job.attempt)
    pieces = list(fhir.bundle_json(Patient.objects.filter(mrn="BIG")))
    # Written in pieces of about PIECE_SIZE, as they are made.
    assert len(pieces) > 100
    assert max(len(piece) for piece in pieces) < 2 * fhir.PIECE_SIZE
    data = validated(downloaded(client, job))
    assert len(resources(data, "Observation")) == 1_500
    scores = diary(data)
    assert [s["phantom-limb"] for _, _, s in scores] == [n % 11 for n in range(500)]
    assert [s["residual-limb"] for _, _, s in scores] == [7 * n % 11 for n in range(500)]
    assert scores[-1][1] == (utc(2023, 1, 1, 6) + datetime.timedelta(hours=3 * 499)).isoformat()


@pytest.mark.slow  # streams thousands of entries: CI's tier
def test_memory_stays_flat_while_streaming(clinician, clinic, monkeypatch):
    # Few entries (tracing memory makes Python several times slower), read in six chunks and
    # written in pieces of 8 KB.
    monkeypatch.setattr(fhir, "ENTRY_CHUNK", 50)
    monkeypatch.setattr(fhir, "PIECE_SIZE", 8 * 1024)
    # Once untraced first, on a small record: the first run fills caches (choices, queries).
    patient_with_entries(clinic, "WARM", 1, clinician)
    list(fhir.bundle_json(Patient.objects.filter(mrn="WARM")))
    patient_with_entries(clinic, "MEM", 300, clinician)
    size = 0
    tracemalloc.start()
    try:
        for piece in fhir.bundle_json(Patient.objects.filter(mrn="MEM")):
            size += len(piece)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Holding the Bundle (or its resources) would take more than the text itself.
    assert size > 600_000
    assert peak < size / 4, (peak, size)


# The research variant


@pytest.fixture
def consenting(record):
    record.research_consent = True
    record.research_consent_date = datetime.date(2024, 12, 1)
    record.save()
    return record


@pytest.fixture
def declined(clinic):
    patient = make_patient(clinic, "MRN-2", first_name="Dee", last_name="Declined")
    entry(patient, utc(2025, 2, 1, 12))
    return patient


def test_research_bundle_names_nobody(client, clinician, consenting, declined):
    client.force_login(clinician)
    response = run_export(client, CLINIC_BUNDLE, {"research": "1"})
    assert response["Content-Disposition"] == (
        'attachment; filename="tmr-fhir-research-2025-06-15.json"'
    )
    text = b"".join(response.streaming_content).decode()
    for identifying in (
        "Reyes", "Jordan", "MRN-1", "mrn", "1970-01-01", "jordan@example.org", "555 0100",
        "telecom", "Bad night", "Stump healed", "Uneventful", "Motorbike", "Sleep through",
        "Dr. Osei", "Lakeside Hospital", "Declined", "MRN-2",
    ):  # fmt: skip
        assert identifying not in text
    data = validated(text)
    (person,) = resources(data, "Patient")
    assert person["identifier"] == [
        {"system": "urn:tmrclinic:research:patient", "value": research.pseudonym(consenting.pk)}
    ]
    assert person["birthDate"] == "1970"
    assert not {"name", "telecom", "communication"} & set(person)
    assert data["meta"]["security"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "code": "HRESCH",
            "display": "healthcare research",
        },
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "PSEUDED",
            "display": "pseudonymized",
        },
    ]
    # Scores and times are still there: a limited data set, as in the CSV research export.
    assert len(diary(data)) == 3


def test_research_ids_are_stable_and_reveal_no_database_id(client, clinician, consenting):
    client.force_login(clinician)
    first = download(client, CLINIC_BUNDLE, {"research": "1"})
    assert download(client, CLINIC_BUNDLE, {"research": "1"}) == first
    rows = {
        "patient": Patient.objects.all(),
        "amputation": Amputation.objects.all(),
        "surgery": Surgery.objects.all(),
        "intake": Intake.objects.all(),
        "entry": PainEntry.objects.all(),
        "entry-phantom-limb": PainEntry.objects.all(),
    }
    for kind, queryset in rows.items():
        for pk in queryset.values_list("pk", flat=True):
            assert fhir.resource_id(kind, pk, research=False) not in first
    research = json.loads(first)
    research_id = fhir.resource_id("patient", consenting.pk, research=True)
    assert resources(research, "Patient")[0]["id"] == research_id


def test_research_pseudonym_is_the_csv_exports(client, clinician, consenting):
    client.force_login(clinician)
    data = validated(download(client, CLINIC_BUNDLE, {"research": "1"}))
    rows = b"".join(
        run_export(client, reverse("reports:export_entries"), {"research": "1"}).streaming_content
    )
    assert resources(data, "Patient")[0]["identifier"][0]["value"] in rows.decode()


def test_csv_and_fhir_research_pseudonyms_change_together_with_the_pseudonym_key(
    client, clinician, consenting, settings
):
    client.force_login(clinician)

    def pseudonyms():
        bundle = json.loads(download(client, CLINIC_BUNDLE, {"research": "1"}))
        (person,) = resources(bundle, "Patient")
        response = run_export(client, reverse("reports:export_entries"), {"research": "1"})
        lines = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
        in_csv = {row["patient"] for row in csv.DictReader(io.StringIO(lines))}
        return person["identifier"][0]["value"], in_csv, person["id"]

    fhir_before, csv_before, id_before = pseudonyms()
    assert {fhir_before} == csv_before == {research.pseudonym(consenting.pk)}
    settings.CLINIC_PSEUDONYM_KEY = "new-release-" + "Qy7hS4" * 8
    fhir_after, csv_after, id_after = pseudonyms()
    assert {fhir_after} == csv_after == {research.pseudonym(consenting.pk)}
    # A new release: neither the pseudonym nor the resource ids derived from it link back.
    assert fhir_after != fhir_before
    assert id_after != id_before


def test_research_leaves_out_everyone_who_did_not_consent(client, clinician, declined):
    client.force_login(clinician)
    assert "entry" not in validated(download(client, CLINIC_BUNDLE, {"research": "1"}))
    assert len(resources(validated(download(client, CLINIC_BUNDLE)), "Patient")) == 1


# The intake Questionnaire


def test_questionnaire_is_served_at_its_canonical_url(client, patient, settings):
    settings.CLINIC_BASE_URL = "https://clinic.example.org"
    client.force_login(patient.user)  # no patient data in it: any logged-in user may read it
    response = client.get(QUESTIONNAIRE)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    questionnaire = Questionnaire.model_validate_json(response.content)
    assert questionnaire.url == "https://clinic.example.org/fhir/Questionnaire/tmr-intake"
    assert questionnaire.url == "https://clinic.example.org" + QUESTIONNAIRE
    assert questionnaire.status == "active"
    assert "Reyes" not in response.content.decode()


def test_every_intake_answer_fits_the_questionnaire(client, clinician, record):
    questionnaire = json.loads(fhir.to_json(fhir.intake_questionnaire()))
    questions = {item["linkId"]: item for item in questionnaire["item"]}
    client.force_login(clinician)
    (intake,) = resources(validated(download(client, patient_url(record))), "QuestionnaireResponse")
    assert intake["questionnaire"] == questionnaire["url"]
    assert len(intake["item"]) == 11
    for item in intake["item"]:
        question = questions[item["linkId"]]
        assert item["text"] == question["text"]
        assert len(item["answer"]) == 1 or question.get("repeats")
        for answer in item["answer"]:
            if question["type"] == "choice":
                assert {"valueCoding": answer["valueCoding"]} in question["answerOption"]
            elif question["type"] == "integer":
                assert 0 <= answer["valueInteger"] <= question["extension"][1]["valueInteger"]
            else:
                assert question["type"] == "text" and "valueString" in answer


def test_the_readme_example_is_a_valid_bundle(settings):
    section = (
        (settings.BASE_DIR / "README.md").read_text(encoding="utf-8").split("## FHIR export")[1]
    )
    example = section.split("```json\n")[1].split("```")[0]
    valid_r4b(example)  # written by hand, not by the export: read back by fhir.resources too
    data = validated(example)
    assert [raw["resource"]["resourceType"] for raw in data["entry"]] == [
        "Patient", "Condition", "Procedure", "Observation", "Observation",
    ]  # fmt: skip
