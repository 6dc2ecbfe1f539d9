"""Hostile input into every form of the app (SECURITY.md items 13 and 20).

Script tags, SQL, null bytes, 100 kB strings, numbers and dates that are not numbers and dates,
lists where one value is expected, and Unicode that plays tricks. For every one: the answer is
never a 500; a value that is refused gets its own message next to its field and changes nothing
in the database; a value that is fine as text (a note that mentions <script>) is stored exactly
as typed and shown escaped on every page that shows it.

Hundreds of requests: the cast (`world`) is built and logged in once for the module, in a
transaction rolled back after it, and each test runs in a savepoint inside it, with its own
copies of the cast's objects.
"""

import copy
import datetime
import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import urlsafe_base64_encode
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.invitations import invite_patient
from accounts.models import AuthenticatorDevice, Invitation
from painlog.models import (
    Instrument,
    LoggingSchedule,
    PainEntry,
    PainEntryChange,
    QuestionnaireResponse,
    QuestionnaireSchedule,
)
from patients.models import (
    Amputation,
    Clinic,
    Intake,
    NerveTransfer,
    Patient,
    RecordChange,
    Surgery,
)
from tests.conftest import (
    PASSWORD,
    current_code,
    make_amputation,
    make_clinician,
    make_patient,
    make_surgery,
    make_user,
    pass_the_second_factor,
)
from tests.test_access_walk import fill, routes

NOW = datetime.datetime(2026, 6, 15, 14, tzinfo=datetime.UTC)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE patients_patient; --"
SQL_OR = "1 OR 1=1"
NUL = "abc\x00def"
HUGE = "x" * 100_000
RTL = "\u202etxet desrever"  # RIGHT-TO-LEFT OVERRIDE turns what follows around on screen
EMOJI = "Pain 🔥🦿 today"
COMBINING = "Ze\u0301ro Z\u0351\u0352a\u0300l\u0301g\u0302o"
UNICODE = f"{EMOJI} {COMBINING}"
HEADER_INJECTION = "pat@example.org\r\nBcc: everyone@example.org"

# Fine as free text (a name, a note): stored exactly as typed, shown escaped.
TEXT_TO_KEEP = [SCRIPT, IMG, SQL, UNICODE]
# Never fine anywhere. A list counts as its last value, as HTML forms do. Invisible format
# characters such as a right-to-left override are refused in every name and free text since
# issue 21 (accounts/text_checks.py).
TEXT_TO_REFUSE = [NUL, HUGE, [SCRIPT, HUGE], RTL]
# Wherever a number is expected.
NOT_NUMBERS = [SQL_OR, "-1", "1e309", "NaN", "99999999999999999999", SCRIPT, NUL, HUGE, ["1", "x"]]
NOT_SCORES = [*NOT_NUMBERS, "11"]
NOT_HOURS = [*NOT_NUMBERS, "25"]
NOT_DATES = ["2026-02-30", "0000-00-00", "99999-01-01", SCRIPT, NUL, HUGE, ["2024-01-01", "x"]]
# Dates that are dates, but not possible here: far future, tomorrow, before 1900.
IMPOSSIBLE_DATES = ["9999-12-31", "2026-06-16", "1899-12-31"]
NOT_DATETIMES = [
    "2026-02-30T10:00", "0000-00-00T00:00", "2026-06-15T25:00", "9999-12-31T23:59",
    "0001-01-01T00:00", "2026-06-01T10:00", SCRIPT, NUL, HUGE, ["2026-06-15T13:00", "x"],
]  # fmt: skip
NOT_CHOICES = [SCRIPT, SQL, NUL, HUGE, RTL, EMOJI, ["a", "b"]]
NOT_EMAILS = [SCRIPT, IMG, SQL, SQL_OR, NUL, HUGE, HEADER_INJECTION, "pat@exa mple.org", "😀@😀"]
NOT_UUIDS = [
    "not-a-uuid", "00000000-0000-0000-0000-00000000000g", SCRIPT, SQL_OR, NUL, HUGE,
    "", ["a", "b"],
]  # fmt: skip


@pytest.fixture(autouse=True)
def frozen_clock(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker):
    """A clinic's whole cast: a patient with a limb, a TMR, an entry still open to correction,
    and a second patient invited but without a login yet. The clinician works in two clinics,
    so that every filter of theirs shows a clinic field. Built once for the module, with a
    logged-in session for each of the clinician (second factor given), the patient and the
    admin, in a transaction rolled back after the module's last test."""
    with (
        django_db_blocker.unblock(),
        time_machine.travel(NOW, tick=False),
        override_settings(TIME_ZONE="UTC"),
        transaction.atomic(),
    ):
        clinic = Clinic.objects.create(name="Lakeside")
        other_clinic = Clinic.objects.create(name="Northfield")
        clinician = make_clinician("alice", clinic, other_clinic)
        patient = make_patient(
            clinic, "MRN-1", username="pat", first_name="Jordan", last_name="Reyes"
        )
        admin = make_user("root", is_staff=True, is_superuser=True)
        amputation = make_amputation(patient)
        surgery = make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
        entry = PainEntry.objects.create(
            patient=patient, phantom_pain=6, residual_pain=3, entered_by=patient.user,
            recorded_at=NOW - datetime.timedelta(hours=1),
        )  # fmt: skip
        questionnaire = QuestionnaireResponse.objects.create(
            patient=patient, instrument=Instrument.objects.get(key="peg"), event="baseline",
            entered_by=patient.user,
        )  # fmt: skip
        invitee = make_patient(clinic, "INV-1", first_name="Ines", last_name="Vitee")
        invitation, token = invite_patient(patient=invitee, invited_by=clinician, build_link=str)
        sessions = {}
        for actor, user in [("clinician", clinician), ("patient", patient.user), ("admin", admin)]:
            client = Client()
            client.force_login(user)
            pass_the_second_factor(client, user)
            sessions[actor] = client.session.session_key
        yield SimpleNamespace(
            clinic=clinic, other_clinic=other_clinic, clinician=clinician, patient=patient,
            admin=admin, amputation=amputation, surgery=surgery,
            transfer=surgery.nerve_transfers.get(), entry=entry, invitee=invitee,
            invitation=invitation, token=token, sessions=sessions, questionnaire=questionnaire,
        )  # fmt: skip
        transaction.set_rollback(True)


@pytest.fixture
def world(db, cast):
    """The cast, in this test's savepoint: copies of its objects, so that what one test changes
    in them (refresh_from_db, an attribute set) is not there for the next."""
    return copy.deepcopy(cast)


def log_in(world, actor):
    """A client with the actor's session, logged in when the cast was built."""
    client = Client()
    if actor != "anonymous":
        client.cookies[django_settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    return client


def database_state():
    """Every row a form of the app could write, so that a comparison shows any change."""
    models = [
        Clinic, Patient, Amputation, Surgery, NerveTransfer, Intake, Invitation, RecordChange,
        PainEntry, PainEntryChange, LoggingSchedule, get_user_model(), QuestionnaireResponse,
        QuestionnaireSchedule,
    ]  # fmt: skip
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def shown(value):
    """A value as it appears in an assertion message: short, with its control characters."""
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."


# The forms, each with who fills it in, where, and an answer it accepts.


@dataclass(frozen=True)
class Form:
    actor: str
    path: object  # world -> the page's path
    valid: object  # world -> data the form accepts
    method: str = "post"


def patient_data(world, **changes):
    return {
        "clinic": world.clinic.pk, "mrn": "A-1001", "first_name": "Sam", "last_name": "Carter",
        "date_of_birth": "1975-03-09", "sex": "female", "email": "sam@example.org",
        "phone": "+1 555 010 2000", "preferred_language": "English", **changes,
    }  # fmt: skip


def patient_edit_data(world):
    return patient_data(
        world, mrn="MRN-1", first_name="Jordan", last_name="Reyes", date_of_birth="1970-01-01",
        reason="Corrected from the referral",
    )  # fmt: skip


def amputation_data(world, **changes):
    return {
        "limb": "lower", "side": "right", "level": "transfemoral", "date": "2025-01-10",
        "etiology": "trauma", "prosthesis_use": "daily", "prosthesis_hours_per_day": "8",
        "notes": "", **changes,
    }  # fmt: skip


def surgery_data(world, **changes):
    return {
        "amputation": world.amputation.pk, "procedure": "secondary_tmr", "date": "2024-09-01",
        "surgeon": "Dr. Osei", "facility": "Lakeside General", "notes": "",
        "transfers-TOTAL_FORMS": "3", "transfers-INITIAL_FORMS": "0",
        "transfers-MIN_NUM_FORMS": "0", "transfers-MAX_NUM_FORMS": "20",
        "transfers-0-nerve": "tibial", "transfers-0-target": "Soleus motor branch",
        "transfers-0-note": "", **changes,
    }  # fmt: skip


def surgery_edit_data(world):
    return surgery_data(
        world, procedure="primary_tmr", date="2024-03-01", reason="From the operative note",
        **{"transfers-INITIAL_FORMS": "1", "transfers-0-id": world.transfer.pk},
    )  # fmt: skip


def pain_data(world, **changes):
    return {
        "phantom_pain": "6", "residual_pain": "3", "recorded_at": "2026-06-15T13:30",
        "phantom_frequency": "few", "episode_length": "minutes", "sensations": ["burning"],
        "sleep_interference": "4", "activity_interference": "", "medicine_taken": "Gabapentin",
        "prosthesis_hours": "8", "note": "", "submission_id": str(uuid.uuid4()), **changes,
    }  # fmt: skip


def pain_edit_data(world):
    data = pain_data(world)
    del data["submission_id"]
    return data


INTAKE_ANSWERS = {
    "limbs": {"limbs": ["left_leg"], "amputation_story": "Below the knee, after a crush."},
    "pain": {
        "pain_onset": "first_week", "phantom_pain": "7", "phantom_pain_frequency": "daily",
        "residual_pain": "2", "residual_pain_frequency": "rarely", "sensations": ["electric"],
    },
    "treatment": {
        "pain_medicines": "Gabapentin 300 mg", "takes_opioids": "no", "prosthesis_use": "daily",
        "prosthesis_hours_per_day": "8",
    },
    "hopes": {"hopes": "Sleep through the night."},
}  # fmt: skip


def intake_step(slug):
    return Form(
        "patient",
        lambda world: reverse("patients:intake_step", args=[slug]),
        lambda world: dict(INTAKE_ANSWERS[slug]),
    )


FORMS = {
    "patient registration": Form(
        "clinician", lambda world: reverse("patients:create"), patient_data
    ),
    "patient edit": Form(
        "clinician",
        lambda world: reverse("patients:edit", args=[world.patient.pk]),
        patient_edit_data,
    ),
    "amputation new": Form(
        "clinician",
        lambda world: reverse("patients:amputation_create", args=[world.patient.pk]),
        amputation_data,
    ),
    "amputation edit": Form(
        "clinician",
        lambda world: reverse("patients:amputation_edit", args=[world.amputation.pk]),
        lambda world: amputation_data(
            world,
            side="left",
            level="transtibial",
            date="2024-03-01",
            reason="From the operative note",
        ),
    ),
    "surgery new": Form(
        "clinician",
        lambda world: reverse("patients:surgery_create", args=[world.patient.pk]),
        surgery_data,
    ),
    "surgery edit": Form(
        "clinician",
        lambda world: reverse("patients:surgery_edit", args=[world.surgery.pk]),
        surgery_edit_data,
    ),
    "invitation accept": Form(
        "anonymous",
        lambda world: reverse("accounts:invitation_accept", args=[world.token]),
        lambda world: {
            "username": "ines",
            "password1": "a long passphrase",
            "password2": "a long passphrase",
        },  # fmt: skip
    ),
    "intake limbs": intake_step("limbs"),
    "intake pain": intake_step("pain"),
    "intake treatment": intake_step("treatment"),
    "intake hopes": intake_step("hopes"),
    "my contact": Form(
        "patient",
        lambda world: reverse("patients:my_contact_edit"),
        lambda world: {
            "email": "pat@example.org",
            "phone": "555 0100",
            "preferred_language": "English",
        },  # fmt: skip
    ),
    "pain entry new": Form("patient", lambda world: reverse("painlog:new"), pain_data),
    "pain entry edit": Form(
        "patient", lambda world: reverse("painlog:edit", args=[world.entry.pk]), pain_edit_data
    ),
    "pain entry on behalf": Form(
        "clinician",
        lambda world: reverse("painlog:clinician_new", args=[world.patient.pk]),
        pain_data,
    ),
    "cohort filters": Form(
        "clinician",
        lambda world: reverse("reports:cohort_outcomes"),
        lambda world: {
            "clinic": world.clinic.pk,
            "surgery_from": "2024-01-01",
            "surgery_to": "2026-01-01",
        },  # fmt: skip
        method="get",
    ),
}

PAIN_ENTRY_REFUSALS = [
    ("phantom_pain", NOT_SCORES),
    ("residual_pain", NOT_SCORES),
    ("recorded_at", NOT_DATETIMES),
    ("phantom_frequency", NOT_CHOICES),
    ("episode_length", NOT_CHOICES),
    ("sensations", NOT_CHOICES),
    ("sleep_interference", NOT_SCORES),
    ("activity_interference", NOT_SCORES),
    ("medicine_taken", [*TEXT_TO_REFUSE, "x" * 301]),
    ("prosthesis_hours", NOT_HOURS),
    ("note", [*TEXT_TO_REFUSE, "x" * 1001]),
]

# (form, field, values the form must refuse with a message next to that field)
REFUSALS = [
    *[
        ("patient registration", field, values)
        for field, values in [
            ("clinic", [*NOT_NUMBERS, "0"]),
            ("mrn", [SCRIPT, IMG, SQL, SQL_OR, NUL, HUGE, RTL, EMOJI, " ", "x" * 41, "MRN-1"]),
            ("first_name", [*TEXT_TO_REFUSE, "x" * 81, "   "]),
            ("last_name", [*TEXT_TO_REFUSE, "x" * 81, "   "]),
            ("date_of_birth", [*NOT_DATES, *IMPOSSIBLE_DATES]),
            ("sex", NOT_CHOICES),
            ("email", NOT_EMAILS),
            ("phone", [SCRIPT, IMG, SQL, SQL_OR, NUL, HUGE, RTL, EMOJI, "555", "9" * 31]),
            ("preferred_language", [*TEXT_TO_REFUSE, "x" * 41]),
            ("research_consent_date", [*NOT_DATES, *IMPOSSIBLE_DATES]),
        ]
    ],
    ("patient edit", "reason", [*TEXT_TO_REFUSE, "x" * 501, ""]),
    ("patient edit", "date_of_birth", [*NOT_DATES, *IMPOSSIBLE_DATES]),
    ("patient edit", "last_name", TEXT_TO_REFUSE),
    *[
        ("amputation new", field, values)
        for field, values in [
            ("limb", NOT_CHOICES),
            ("side", NOT_CHOICES),
            ("level", [*NOT_CHOICES, "transradial"]),  # an arm's level for a leg
            ("date", [*NOT_DATES, *IMPOSSIBLE_DATES]),
            ("etiology", NOT_CHOICES),
            ("prosthesis_use", NOT_CHOICES),
            ("prosthesis_hours_per_day", NOT_HOURS),
            ("notes", [*TEXT_TO_REFUSE, "x" * 2001]),
        ]
    ],
    ("amputation edit", "notes", TEXT_TO_REFUSE),
    ("amputation edit", "reason", [*TEXT_TO_REFUSE, ""]),
    # After its surgery; a month before its primary TMR, which was done at the amputation.
    ("amputation edit", "date", [*NOT_DATES, "2024-03-02", "2024-02-01"]),
    *[
        ("surgery new", field, values)
        for field, values in [
            ("amputation", [*NOT_NUMBERS, "0"]),
            ("procedure", NOT_CHOICES),
            ("date", [*NOT_DATES, *IMPOSSIBLE_DATES, "2024-02-29"]),  # before the amputation
            ("surgeon", [*TEXT_TO_REFUSE, "x" * 121]),
            ("facility", [*TEXT_TO_REFUSE, "x" * 121]),
            ("notes", [*TEXT_TO_REFUSE, "x" * 4001]),
            ("transfers-0-nerve", [*NOT_CHOICES, "median"]),  # an arm's nerve in a leg
            ("transfers-0-target", [*TEXT_TO_REFUSE, "x" * 121]),
            ("transfers-0-note", [*TEXT_TO_REFUSE, "x" * 501]),
            # More rows than the 20 allowed, or no number at all. (A negative count is no rows.)
            ("transfers-TOTAL_FORMS", ["abc", "1e309", NUL, HUGE, "21", "99999999999999999999"]),
        ]
    ],
    ("surgery edit", "transfers-0-id", [*NOT_NUMBERS, "0"]),
    ("surgery edit", "transfers-0-target", TEXT_TO_REFUSE),
    ("surgery edit", "reason", [*TEXT_TO_REFUSE, ""]),
    *[
        ("invitation accept", field, values)
        for field, values in [
            (
                "username",
                # Taken already, whatever the case or width of its letters.
                [
                    SCRIPT,
                    IMG,
                    SQL,
                    SQL_OR,
                    NUL,
                    HUGE,
                    RTL,
                    EMOJI,
                    "x" * 151,
                    "pat",
                    "PAT",
                    "ｐａｔ",
                ],
            ),  # fmt: skip
        ]
    ],
    ("intake limbs", "limbs", [*NOT_CHOICES, ""]),
    ("intake limbs", "amputation_story", [*TEXT_TO_REFUSE, "x" * 2001]),
    ("intake pain", "pain_onset", NOT_CHOICES),
    ("intake pain", "phantom_pain", [*NOT_SCORES, ""]),
    ("intake pain", "residual_pain", [*NOT_SCORES, ""]),
    ("intake pain", "phantom_pain_frequency", NOT_CHOICES),
    ("intake pain", "sensations", NOT_CHOICES),
    ("intake treatment", "pain_medicines", [*TEXT_TO_REFUSE, "x" * 1001]),
    ("intake treatment", "takes_opioids", NOT_CHOICES),
    ("intake treatment", "prosthesis_use", NOT_CHOICES),
    ("intake treatment", "prosthesis_hours_per_day", NOT_HOURS),
    ("intake hopes", "hopes", [*TEXT_TO_REFUSE, "x" * 2001]),
    ("my contact", "email", NOT_EMAILS),
    ("my contact", "phone", [SCRIPT, SQL, NUL, HUGE, RTL, "9" * 31]),
    ("my contact", "preferred_language", [*TEXT_TO_REFUSE, "x" * 41]),
    *[
        ("pain entry new", field, values)
        for field, values in [
            *PAIN_ENTRY_REFUSALS,
            ("submission_id", NOT_UUIDS),
        ]
    ],
    *[("pain entry edit", field, values) for field, values in PAIN_ENTRY_REFUSALS],
    *[
        ("pain entry on behalf", field, values)
        for field, values in PAIN_ENTRY_REFUSALS
        if field != "recorded_at"
    ],  # fmt: skip
    ("pain entry on behalf", "recorded_at", ["2025-06-01T10:00", "9999-12-31T23:59", SCRIPT]),
    ("cohort filters", "clinic", [*NOT_NUMBERS, "0"]),
    ("cohort filters", "surgery_from", NOT_DATES),
    ("cohort filters", "surgery_to", [*NOT_DATES, "2023-12-31"]),  # before "from"
]


def field_errors(response, field):
    """The messages given for one field: of the form, of a nerve transfer row, or of the
    transfer rows as a whole (their management form)."""
    if field.startswith("transfers-"):
        formset = response.context["formset"]
        _prefix, index, *name = field.split("-", 2)
        if index.isdigit():
            return formset.forms[int(index)].errors.get(name[0], [])
        return formset.non_form_errors()
    return response.context["form"].errors.get(field, [])


def submit(client, form, world, data):
    return getattr(client, form.method)(form.path(world), data)


def everyday_and_the_rest(refusals, everyday=1):
    """Each field's first value in the everyday tier and the rest in the slow tier: a request
    a value makes the whole list cost a minute, and CI runs both tiers."""
    for form, field, values in refusals:
        yield pytest.param(form, field, values[:everyday], id=f"{form} {field}")
        if values[everyday:]:
            yield pytest.param(
                form, field, values[everyday:], id=f"{form} {field} more", marks=pytest.mark.slow
            )


@pytest.mark.parametrize(("form_name", "field", "values"), list(everyday_and_the_rest(REFUSALS)))
def test_a_hostile_value_is_refused_next_to_its_field_and_changes_nothing(
    world, form_name, field, values
):
    form = FORMS[form_name]
    client = log_in(world, form.actor)
    before = database_state()
    for value in values:
        response = submit(client, form, world, {**form.valid(world), field: value})
        assert response.status_code == 200, f"{shown(value)}: {response.status_code}"
        messages = field_errors(response, field)
        assert messages, f"{shown(value)} was not refused"
        body = response.content.decode()
        assert escape(messages[0]) in body, f"{shown(value)}: its message is not on the page"
        assert SCRIPT not in body and IMG not in body
    # Read once, after all the values: reading every table after each one cost a fifth of this
    # module's time. (To hide its change, a value would need a later one to undo it exactly.)
    assert database_state() == before, f"one of {[shown(v) for v in values]} changed the database"


@pytest.mark.parametrize("form_name", [name for name in FORMS if FORMS[name].method == "post"])
def test_each_form_accepts_its_valid_answer(world, form_name):
    """The refusals above mean something only if the same data, unspoilt, is accepted."""
    form = FORMS[form_name]
    client = log_in(world, form.actor)
    before = database_state()
    response = submit(client, form, world, form.valid(world))
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert database_state() != before


def test_the_cohort_filters_accept_their_valid_answer(world):
    form = FORMS["cohort filters"]
    response = submit(log_in(world, form.actor), form, world, form.valid(world))
    assert response.status_code == 200 and not response.context["form"].errors


# Free text that looks hostile but is a fine answer: stored exactly as typed.

KEPT_TEXT = [
    ("patient registration", "first_name", lambda w: Patient.objects.get(mrn="A-1001").first_name),
    ("patient registration", "last_name", lambda w: Patient.objects.get(mrn="A-1001").last_name),
    ("patient registration", "preferred_language",
     lambda w: Patient.objects.get(mrn="A-1001").preferred_language),
    ("patient edit", "first_name", lambda w: Patient.objects.get(pk=w.patient.pk).first_name),
    ("patient edit", "reason", lambda w: RecordChange.objects.latest("pk").reason),
    ("amputation new", "notes", lambda w: Amputation.objects.latest("pk").notes),
    ("amputation edit", "reason", lambda w: RecordChange.objects.latest("pk").reason),
    ("surgery new", "surgeon", lambda w: Surgery.objects.latest("pk").surgeon),
    ("surgery new", "facility", lambda w: Surgery.objects.latest("pk").facility),
    ("surgery new", "notes", lambda w: Surgery.objects.latest("pk").notes),
    ("surgery new", "transfers-0-target", lambda w: NerveTransfer.objects.latest("pk").target),
    ("surgery new", "transfers-0-note", lambda w: NerveTransfer.objects.latest("pk").note),
    ("surgery edit", "reason", lambda w: RecordChange.objects.latest("pk").reason),
    ("intake limbs", "amputation_story", lambda w: Intake.objects.get().amputation_story),
    ("intake treatment", "pain_medicines", lambda w: Intake.objects.get().pain_medicines),
    ("intake hopes", "hopes", lambda w: Intake.objects.get().hopes),
    ("my contact", "preferred_language",
     lambda w: Patient.objects.get(pk=w.patient.pk).preferred_language),
    ("pain entry new", "note", lambda w: PainEntry.objects.latest("pk").note),
    ("pain entry new", "medicine_taken", lambda w: PainEntry.objects.latest("pk").medicine_taken),
    ("pain entry edit", "note", lambda w: PainEntry.objects.get(pk=w.entry.pk).note),
    ("pain entry on behalf", "note", lambda w: PainEntry.objects.latest("pk").note),
]  # fmt: skip


@pytest.mark.parametrize("value", TEXT_TO_KEEP, ids=["script", "img", "sql", "unicode"])
@pytest.mark.parametrize(
    ("form_name", "field", "stored"), KEPT_TEXT, ids=[f"{f} {n}" for f, n, _s in KEPT_TEXT]
)
def test_free_text_that_looks_hostile_is_stored_exactly_as_typed(
    world, form_name, field, stored, value
):
    form = FORMS[form_name]
    response = submit(log_in(world, form.actor), form, world, {**form.valid(world), field: value})
    assert response.status_code == 302, field_errors(response, field)
    assert stored(world) == value


@pytest.mark.parametrize("rows", ["21", "1000", "99999999999999999999"])
def test_a_hostile_count_of_nerve_transfer_rows_builds_no_more_than_twenty(world, rows):
    response = log_in(world, "clinician").post(
        reverse("patients:surgery_create", args=[world.patient.pk]),
        {**surgery_data(world), "transfers-TOTAL_FORMS": rows},
    )
    formset = response.context["formset"]
    assert len(formset.forms) <= 20
    assert formset.non_form_errors() == ["Please submit at most 20 forms."]


@pytest.mark.parametrize(("use", "hours"), [("none", "0"), ("occasional", "0"), ("none", "5")])
def test_hours_for_a_prosthesis_not_worn_daily_are_refused_next_to_the_hours(world, use, hours):
    """Zero hours too: the database refuses any number there, and its refusal alone would be a
    message about a constraint at the top of the form."""
    client = log_in(world, "clinician")
    before = database_state()
    response = client.post(
        reverse("patients:amputation_create", args=[world.patient.pk]),
        amputation_data(world, prosthesis_use=use, prosthesis_hours_per_day=hours),
    )
    assert response.context["form"].errors == {
        "prosthesis_hours_per_day": ["Hours a day apply only to daily use."]
    }
    assert database_state() == before


@pytest.mark.parametrize(("window", "date"), [(0, "2024-02-29"), (7, "2024-02-22")])
def test_an_amputation_moved_away_from_its_primary_tmr_is_refused_next_to_its_date(
    world, settings, window, date
):
    """Found by tests/test_form_fuzzing.py: the database's trigger refused it, as a 500."""
    settings.CLINIC_PRIMARY_TMR_WINDOW_DAYS = window
    client = log_in(world, "clinician")
    before = database_state()
    response = client.post(
        reverse("patients:amputation_edit", args=[world.amputation.pk]),
        {**FORMS["amputation edit"].valid(world), "date": date},
    )
    [message] = response.context["form"].errors["date"]
    assert message.startswith("This limb's primary TMR (01 Mar 2024) was done at the amputation")
    assert database_state() == before


def test_a_nerve_transfer_of_another_patients_surgery_cannot_be_changed_through_this_one(world):
    """Django's formset accepts any transfer's id in a row, then ignores a row that is not this
    surgery's: nothing of the other patient's (visible to this clinician too) moves or changes."""
    other_patient = make_patient(world.other_clinic, "MRN-9", first_name="Olly", last_name="Other")
    others = make_surgery(make_amputation(other_patient), transfers=[("sciatic", "Gracilis")])
    before = list(NerveTransfer.objects.order_by("pk").values())
    log_in(world, "clinician").post(
        reverse("patients:surgery_edit", args=[world.surgery.pk]),
        {
            **surgery_edit_data(world),
            "transfers-0-id": others.nerve_transfers.get().pk,
            "transfers-0-nerve": "tibial",
            "transfers-0-target": "Hijacked",
        },
    )
    assert list(NerveTransfer.objects.order_by("pk").values()) == before


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "/\\evil.example"]
)
def test_a_hostile_next_address_after_logging_in_leads_home_instead(world, target):
    client = Client()
    response = client.post(
        reverse("login"), {"username": "pat", "password": PASSWORD, "next": target}
    )
    assert response["Location"] == reverse("home")
    clinician = log_in(world, "clinician")
    session = clinician.session
    del session[DEVICE_ID_SESSION_KEY]
    session.save()
    device = AuthenticatorDevice.objects.get(user=world.clinician)
    response = clinician.post(
        reverse("accounts:two_factor_verify"), {"otp_token": current_code(device), "next": target}
    )
    assert response["Location"] == reverse("home")


def test_a_list_where_one_value_is_expected_counts_as_its_last_value(world):
    data = pain_data(world, note=["first", SCRIPT], phantom_pain=["abc", "2"])
    log_in(world, "patient").post(reverse("painlog:new"), data)
    entry = PainEntry.objects.latest("pk")
    assert (entry.note, entry.phantom_pain) == (SCRIPT, 2)


# Forms whose refusals are told in a message at the top of the page after a redirect.


NOT_INTERVALS = ["2", "0", "", *NOT_NUMBERS]


@pytest.mark.parametrize("interval", NOT_INTERVALS)
def test_a_hostile_logging_schedule_is_refused_with_a_message(world, interval):
    client = log_in(world, "clinician")
    before = database_state()
    response = client.post(
        reverse("painlog:schedule", args=[world.patient.pk]),
        {"interval_days": interval, "reminders": SCRIPT},
    )
    # The schedules page again, the reason beside the field.
    assert response.status_code == 400
    assert response.context["diary_form"].errors["interval_days"] == [
        "Choose how often the patient should log pain."
    ]
    assert SCRIPT not in response.content.decode()
    assert database_state() == before


def test_a_valid_logging_schedule_is_saved(world):
    log_in(world, "clinician").post(
        reverse("painlog:schedule", args=[world.patient.pk]), {"interval_days": "7"}
    )
    assert LoggingSchedule.objects.get(patient=world.patient).interval_days == 7


@pytest.mark.parametrize("reason", [NUL, HUGE, "x" * 501, "", [SCRIPT, NUL]])
def test_archiving_with_a_hostile_reason_is_refused_with_a_message(world, reason):
    client = log_in(world, "clinician")
    before = database_state()
    response = client.post(
        reverse("patients:archive", args=[world.patient.pk]), {"reason": reason}, follow=True
    )
    assert b"Give a reason to archive or restore a patient." in response.content
    assert database_state() == before


@pytest.mark.parametrize("reason", [SCRIPT, SQL, EMOJI])
def test_archiving_keeps_a_reason_that_only_looks_hostile(world, reason):
    log_in(world, "clinician").post(
        reverse("patients:archive", args=[world.patient.pk]), {"reason": reason}
    )
    assert RecordChange.objects.get(action="archived").reason == reason


@pytest.mark.parametrize("wanted", [SCRIPT, SQL_OR, NUL, HUGE, ["", SCRIPT]])
def test_an_emailed_invitation_for_a_patient_without_email_is_refused_whatever_is_sent(
    world, wanted
):
    # Any value but an empty one or "false" means "yes" to a checkbox.
    client = log_in(world, "clinician")
    before = database_state()
    response = client.post(
        reverse("patients:invitation_create", args=[world.invitee.pk]),
        {"email_invitation": wanted},
        follow=True,
    )
    assert b"This patient has no email address on record." in response.content
    assert database_state() == before


# Filters in the address: never an error page; a bad value is left out (dashboard), marked
# next to its field (cohort page) or refused as a whole (the CSV exports).


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("q", [NUL, HUGE, "x" * 101]),
        ("clinic", [*NOT_NUMBERS, "0"]),
        ("limb", NOT_CHOICES),
        ("level", NOT_CHOICES),
        ("procedure", NOT_CHOICES),
        ("flag", NOT_CHOICES),
        ("sort", [NUL, HUGE, SCRIPT]),
    ],
)
def test_a_hostile_dashboard_filter_is_left_out_and_the_list_still_shows(world, field, values):
    client = log_in(world, "clinician")
    before = database_state()
    for value in values:
        response = client.get(reverse("reports:dashboard"), {field: value})
        assert response.status_code == 200, shown(value)
        assert field in response.context["form"].errors, f"{shown(value)} was not refused"
        body = response.content.decode()
        # Every patient of the clinic still listed: the bad filter is ignored, not applied.
        assert "Reyes, Jordan" in body and "Vitee, Ines" in body
        assert SCRIPT not in body and IMG not in body
    assert database_state() == before


@pytest.mark.parametrize("search", [*TEXT_TO_KEEP, "%", "_", "%%", "\\"])
def test_a_dashboard_search_for_hostile_text_finds_nobody_and_echoes_it_escaped(world, search):
    response = log_in(world, "clinician").get(reverse("reports:dashboard"), {"q": search})
    assert response.status_code == 200 and not response.context["form"].errors
    assert list(response.context["page"].object_list) == []
    body = response.content.decode()
    assert SCRIPT not in body and IMG not in body
    assert f'value="{escape(search)}"' in body


@pytest.mark.parametrize("page", ["abc", "-1", "0", "1e309", "99999999999999999999", SCRIPT, NUL])
def test_a_hostile_page_number_shows_a_page_of_the_list(world, page):
    for actor, path in [("clinician", reverse("reports:dashboard")),
                        ("clinician", reverse("reports:patient_entries", args=[world.patient.pk])),
                        ("patient", reverse("painlog:home"))]:  # fmt: skip
        response = log_in(world, actor).get(path, {"page": page})
        assert response.status_code == 200, path
        assert SCRIPT not in response.content.decode()


@pytest.mark.parametrize("export", ["reports:export_entries", "reports:export_outcomes"])
@pytest.mark.parametrize(
    ("field", "value"),
    [("clinic", SCRIPT), ("clinic", SQL_OR), ("clinic", "99999999999999999999"),
     ("surgery_from", "2026-02-30"), ("surgery_from", NUL), ("surgery_to", HUGE),
     ("surgery_to", ["2024-01-01", SCRIPT])],
)  # fmt: skip
def test_an_export_with_a_hostile_filter_is_refused_without_echoing_it(world, export, field, value):
    response = log_in(world, "clinician").get(reverse(export), {field: value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == f"Check the filters: {field}"


@pytest.mark.parametrize(
    "path",
    [
        "/patients/99999999999999999999/", "/patients/99999999999999999999/edit/",
        "/amputations/9223372036854775808/edit/", "/surgeries/99999999999999999999/edit/",
        "/painlog/99999999999999999999/edit/", "/dashboard/patients/99999999999999999999/",
        "/patients/1/invitations/99999999999999999999/", "/intake/no-such-step/",
        f"/invite/{'x' * 5000}/", "/invite/abc%00def/",
    ],
)  # fmt: skip
def test_an_address_with_an_id_out_of_range_or_a_hostile_token_is_not_found(world, path):
    actor = "patient" if path.startswith(("/painlog/999", "/intake/")) else "clinician"
    if path.startswith("/invite/"):
        actor = "anonymous"
    response = log_in(world, actor).get(path)
    assert response.status_code == 404


# Logging in and everything about passwords and codes. One test per value: the lockout and
# the rate limits count every wrong try, and these tests must not count for each other.


def assert_not_logged_in(client):
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("username", "password"),
    [(SCRIPT, PASSWORD), (IMG, PASSWORD), (SQL, PASSWORD), ("pat' --", PASSWORD),
     (SQL_OR, SQL_OR), (NUL, PASSWORD), ("pat\x00", PASSWORD), (HUGE, PASSWORD),
     ("pat", HUGE), ("pat", NUL), ("pat", SQL), ("pat", "' OR '1'='1"), (RTL, EMOJI),
     (["pat", SCRIPT], PASSWORD), ("pat", [PASSWORD, "wrong"]), ("PAT", PASSWORD)],
)  # fmt: skip
def test_a_hostile_login_is_refused_with_a_message_and_changes_nothing(world, username, password):
    client = Client()
    before = database_state()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors, "the login was not refused"
    body = response.content.decode()
    assert all(escape(message) in body for messages in errors.values() for message in messages)
    assert SCRIPT not in body and IMG not in body
    assert_not_logged_in(client)
    assert database_state() == before
    # The lockout's record of failed logins keeps usernames no longer than a username can be.
    failed = [*AccessAttempt.objects.all(), *AccessFailureLog.objects.all()]
    assert all(len(attempt.username) <= 150 for attempt in failed)


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_a_username_longer_than_any_is_refused_before_the_lockout_records_it(world, path):
    """Django's login forms let it through to authenticate(); django-axes then stored 100 kB
    per try on SQLite, and on PostgreSQL the login page answered 503."""
    response = Client().post(path, {"username": HUGE, "password": PASSWORD})
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "Ensure this value has at most 150 characters (it has 100000)."
    ]
    assert not AccessAttempt.objects.exists() and not AccessFailureLog.objects.exists()


@pytest.mark.parametrize("email", NOT_EMAILS)
def test_a_hostile_password_reset_address_is_refused_next_to_the_field(world, email, mailoutbox):
    response = Client().post(reverse("password_reset"), {"email": email})
    assert response.status_code == 200
    messages = response.context["form"].errors["email"]
    assert escape(messages[0]) in response.content.decode()
    assert mailoutbox == []


def test_a_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(world, mailoutbox):
    response = Client().post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


# (the password typed, then typed again; 0 or 1: which of the two fields explains the refusal).
# Django puts the messages of the password rules under the second one.
NEW_PASSWORDS_REFUSED = [
    ((NUL, "a long passphrase"), 0),
    (("a long passphrase", NUL), 1),
    (("short", "short"), 1),
    ((SQL_OR, SQL_OR), 1),
    (("123456789012345", "123456789012345"), 1),
    (("a long passphrase", SCRIPT), 1),
    (("a long passphrase", ["a long passphrase", "x"]), 1),
]
NEW_PASSWORDS_KEPT = [SCRIPT, SQL, EMOJI + " and more", RTL + " padding", HUGE]
KEPT_IDS = ["script", "sql", "emoji", "rtl", "100kB"]


def reset_link(user):
    """A client on the set-password page of a reset link, and that page's path."""
    client = Client()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    response = client.get(reverse("password_reset_confirm", args=[uid, token]))
    return client, response["Location"]


def password_form(world, name):
    """(client, path, extra data, names of the two new-password fields) of one of the three
    forms where a password is chosen."""
    if name == "invitation":
        path = reverse("accounts:invitation_accept", args=[world.token])
        return Client(), path, {"username": "ines"}, ("password1", "password2")
    if name == "change":
        client = log_in(world, "patient")
        return client, reverse("password_change"), {"old_password": PASSWORD}, (
            "new_password1", "new_password2")  # fmt: skip
    client, path = reset_link(world.patient.user)
    return client, path, {}, ("new_password1", "new_password2")


@pytest.mark.parametrize("form_name", ["invitation", "change", "reset"])
@pytest.mark.parametrize(("typed", "explained_by"), NEW_PASSWORDS_REFUSED)
def test_a_hostile_new_password_is_refused_next_to_its_field(world, form_name, typed, explained_by):
    client, path, data, names = password_form(world, form_name)
    before = database_state()
    response = client.post(path, data | dict(zip(names, typed, strict=True)))
    assert response.status_code == 200
    messages = response.context["form"].errors[names[explained_by]]
    assert escape(messages[0]) in response.content.decode()
    assert database_state() == before


@pytest.mark.parametrize("form_name", ["invitation", "change", "reset"])
@pytest.mark.parametrize("password", NEW_PASSWORDS_KEPT, ids=KEPT_IDS)
def test_a_password_that_looks_hostile_is_kept_only_as_a_hash(world, form_name, password):
    client, path, data, names = password_form(world, form_name)
    response = client.post(path, data | {names[0]: password, names[1]: password})
    assert response.status_code == 302
    user = get_user_model().objects.get(username="ines" if form_name == "invitation" else "pat")
    assert user.check_password(password) and password not in user.password


@pytest.mark.parametrize("old", [SCRIPT, SQL_OR, NUL, HUGE, ["wrong", SCRIPT]])
def test_a_hostile_old_password_is_refused_next_to_its_field(world, old):
    client = log_in(world, "patient")
    before = database_state()
    response = client.post(reverse("password_change"), {"old_password": old,
                           "new_password1": "a long passphrase",
                           "new_password2": "a long passphrase"})  # fmt: skip
    assert response.status_code == 200
    messages = response.context["form"].errors["old_password"]
    assert escape(messages[0]) in response.content.decode()
    assert database_state() == before


@pytest.mark.parametrize("uid", ["%00", "MQ%00", "%3Cscript%3E", "x" * 5000, "-1"])
def test_a_reset_link_with_a_hostile_user_id_is_shown_as_not_working(world, uid):
    response = Client().get(f"/accounts/reset/{uid}/set-password/")
    assert response.status_code == 200
    assert response.context["validlink"] is False
    assert "<script>" not in response.content.decode()


CODES = [SCRIPT, SQL, SQL_OR, NUL, HUGE, "", "1" * 21, "١٢٣٤٥٦", "²³⁴⁵⁶⁷", "-12345", "1e309",
         RTL, ["123456", SCRIPT]]  # fmt: skip


@pytest.mark.parametrize("code", CODES)
def test_a_hostile_two_factor_code_is_refused_next_to_the_field(world, code):
    client = log_in(world, "clinician")
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]  # the password given, the code not yet
    session.save()
    response = client.post(reverse("accounts:two_factor_verify"), {"otp_token": code, "next": IMG})
    assert response.status_code == 200
    messages = response.context["form"].errors["otp_token"]
    body = response.content.decode()
    assert escape(messages[0]) in body
    assert SCRIPT not in body and IMG not in body
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert client.get(reverse("reports:dashboard"))["Location"].startswith(
        reverse("accounts:two_factor_verify")
    )


@pytest.mark.parametrize("code", CODES)
def test_a_hostile_code_for_a_new_authenticator_is_refused_and_confirms_nothing(world, code):
    client = log_in(world, "patient")
    client.get(reverse("accounts:two_factor_setup"))
    response = client.post(reverse("accounts:two_factor_setup"), {"otp_token": code})
    assert response.status_code == 200
    messages = response.context["form"].errors["otp_token"]
    assert escape(messages[0]) in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=world.patient.user, confirmed=True).exists()


# Text that looks hostile, stored through the forms, is shown escaped on every page.


def fill_every_free_text_field(world, text):
    """Type `text` into every free-text field of the app, through its forms. Returns the
    clinician's and the patient's clients, with the confirmations (which name the patient)
    still to be shown."""
    clinician, patient = log_in(world, "clinician"), log_in(world, "patient")
    posts = [
        (patient, reverse("patients:intake_step", args=["limbs"]),
         {**INTAKE_ANSWERS["limbs"], "amputation_story": text}),
        (patient, reverse("patients:intake_step", args=["pain"]), INTAKE_ANSWERS["pain"]),
        (patient, reverse("patients:intake_step", args=["treatment"]),
         {**INTAKE_ANSWERS["treatment"], "pain_medicines": text}),
        (patient, reverse("patients:intake_step", args=["hopes"]), {"hopes": text}),
        (patient, reverse("patients:intake_step", args=["review"]), {}),
        (patient, reverse("painlog:new"), pain_data(world, note=text, medicine_taken=text)),
        (patient, reverse("painlog:edit", args=[world.entry.pk]),
         {**pain_edit_data(world), "note": text}),
        (patient, reverse("patients:my_contact_edit"),
         {"email": "", "phone": "", "preferred_language": text}),
        (clinician, reverse("patients:edit", args=[world.patient.pk]),
         {**patient_edit_data(world), "first_name": text, "last_name": text,
          "preferred_language": text, "reason": text}),
        (clinician, reverse("patients:amputation_edit", args=[world.amputation.pk]),
         amputation_data(world, side="left", level="transtibial", date="2024-03-01",
                         notes=text, reason=text)),
        (clinician, reverse("patients:surgery_edit", args=[world.surgery.pk]),
         {**surgery_edit_data(world), "surgeon": text, "facility": text, "notes": text,
          "transfers-0-target": text, "transfers-0-note": text, "reason": text}),
        (clinician, reverse("painlog:clinician_new", args=[world.patient.pk]),
         pain_data(world, note=text, medicine_taken=text)),
        (clinician, reverse("patients:archive", args=[world.patient.pk]), {"reason": text}),
        (clinician, reverse("patients:archive", args=[world.patient.pk]), {"reason": text}),
    ]  # fmt: skip
    for client, path, data in posts:
        assert client.post(path, data).status_code == 302, path
    world.patient.refresh_from_db()
    assert world.patient.last_name == text and not world.patient.is_archived
    assert Surgery.objects.get(pk=world.surgery.pk).facility == text
    assert Intake.objects.get(patient=world.patient).is_complete
    return clinician, patient


def pages_showing_the_text(world):
    """(who, page) for every page that shows the text typed in; each must show it."""
    patient_pk = world.patient.pk
    admin_pages = [
        reverse(f"admin:{app}_{model}_changelist")
        for app, model in [("patients", "patient"), ("patients", "amputation"),
                           ("patients", "surgery"), ("patients", "intake"),
                           ("patients", "recordchange"), ("patients", "accessevent"),
                           ("painlog", "painentry")]
    ] + [
        reverse("admin:patients_patient_change", args=[patient_pk]),
        reverse("admin:patients_amputation_change", args=[world.amputation.pk]),
        reverse("admin:patients_surgery_change", args=[world.surgery.pk]),
        reverse("admin:patients_intake_change", args=[Intake.objects.get().pk]),
        reverse("admin:painlog_painentry_change", args=[world.entry.pk]),
        reverse("admin:patients_recordchange_change",
                args=[RecordChange.objects.filter(action="restored").get().pk]),
    ]  # fmt: skip
    return [
        ("clinician", reverse("reports:dashboard")),
        ("clinician", reverse("patients:detail", args=[patient_pk])),
        ("clinician", reverse("reports:patient_pain", args=[patient_pk])),
        ("clinician", reverse("patients:edit", args=[patient_pk])),
        ("clinician", reverse("patients:amputation_edit", args=[world.amputation.pk])),
        ("clinician", reverse("patients:surgery_edit", args=[world.surgery.pk])),
        ("clinician", reverse("painlog:clinician_new", args=[patient_pk])),
        ("patient", reverse("painlog:home")),
        ("patient", reverse("patients:my_record")),
        ("patient", reverse("patients:my_contact_edit")),
        ("patient", reverse("patients:intake_step", args=["review"])),
        ("patient", reverse("painlog:edit", args=[world.entry.pk])),
        *[("admin", path) for path in admin_pages],
    ]


@pytest.mark.parametrize(
    "text", [SCRIPT, pytest.param(IMG, marks=pytest.mark.slow)], ids=["script", "img"]
)  # each walks every page: the second in CI's tier
def test_hostile_text_typed_into_every_form_is_shown_escaped_on_every_page(world, text):
    clinician, patient = fill_every_free_text_field(world, text)
    clients = {"clinician": clinician, "patient": patient, "admin": log_in(world, "admin")}
    confirmation = f"{escape(text)} {escape(text)} is active again."
    confirmation_shown = False
    for actor, path in pages_showing_the_text(world):
        response = clients[actor].get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert text not in body, f"{path} shows {text!r} unescaped"
        assert escape(text) in body, f"{path} does not show the text at all"
        confirmation_shown |= confirmation in body
    assert confirmation_shown, "the confirmation naming the patient was never shown"


@pytest.mark.slow  # walks every page as every actor: CI's tier
@pytest.mark.parametrize("text", [SCRIPT, IMG], ids=["script", "img"])
def test_no_page_of_the_app_shows_hostile_text_unescaped(world, text):
    """Every route, as each kind of user: pages nobody thought of showing the text included."""
    fill_every_free_text_field(world, text)
    objects = {"patient": world.patient, "amputation": world.amputation,
               "surgery": world.surgery, "entry": world.entry,
               "invitation": world.invitation, "response": world.questionnaire}  # fmt: skip
    for actor in ("clinician", "patient", "admin", "anonymous"):
        client = log_in(world, actor)
        for route, _name in routes():
            response = client.get(fill(route, objects))
            assert response.status_code != 500, route
            if response.streaming:
                # The CSV and FHIR exports carry the text as typed: a download, never a page.
                assert response["Content-Type"] in (
                    "text/csv; charset=utf-8",
                    "application/fhir+json; charset=utf-8",
                )
                assert response["Content-Disposition"].startswith("attachment;")
                assert response["X-Content-Type-Options"] == "nosniff"
                continue
            assert text not in response.content.decode(), f"{actor} {route}"


def test_the_invitation_page_shows_a_hostile_first_name_escaped(world):
    Patient.objects.filter(pk=world.invitee.pk).update(first_name=SCRIPT)
    url = reverse("accounts:invitation_accept", args=[world.token])
    body = Client().get(url, follow=True).content
    assert SCRIPT.encode() not in body and escape(SCRIPT).encode() in body


# The Django admin's own list filters and search pass address values to the database as they
# are; accounts.middleware.AdminQueryGuardMiddleware answers these with a 400 instead of the
# server error Django would give.

ADMIN_HOSTILE_QUERIES = [
    # A year past 9999 in the date drill-down: OverflowError, where Django catches ValueError.
    "/admin/painlog/painentry/?recorded_at__year=99999999999",
    # A NUL character in a list filter: PostgreSQL's driver refuses the query.
    "/admin/patients/patient/?amputations__level__exact=a%00b",
    # A 100 kB search: longer than SQLite's LIKE pattern limit.
    "/admin/patients/recordchange/?q=" + HUGE,
]


@pytest.mark.parametrize("path", ADMIN_HOSTILE_QUERIES, ids=lambda path: path[:60])
def test_a_hostile_admin_filter_or_search_is_not_a_server_error(world, path):
    client = log_in(world, "admin")
    client.raise_request_exception = False
    assert client.get(path).status_code == 400
