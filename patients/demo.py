"""
Demo clinics, accounts and patients for a laptop or a training server (`manage.py seed_demo`).

Deterministic and idempotent: a second run finds every row already there and changes nothing,
so a clinician's edits to demo data survive `make run`.
"""

import base64
import datetime
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.invitations import invite_patient
from accounts.models import AuthenticatorDevice
from accounts.roles import CLINICIANS_GROUP

from .history_words import Words, kept_fields, record_fields
from .models import (
    Amputation,
    Clinic,
    Etiology,
    Intake,
    Level,
    Limb,
    Nerve,
    NerveTransfer,
    Patient,
    Procedure,
    ProsthesisUse,
    RecordChange,
    Side,
    Surgery,
)
from .models.history import ChangeAction
from .services import record_label

DEMO_PASSWORD = "tmrdemo123"  # noqa: S105 - printed in the README; DEBUG-only
# The demo clinicians' and admin's authenticator secret (base32), printed by seed_demo and shown
# in the README so that anyone can add it to an authenticator app, and scripts can compute the
# codes. Demo only, like the password: seed_demo refuses to run with DEBUG off.
DEMO_TOTP_SECRET = "TMRCLINICDEMOTOTPSECRETKEY234567"  # noqa: S105
CLINIC_NAMES = ["Lakeside Limb Restoration Center", "Northfield Amputee & Nerve Clinic"]
# Made-up contact details (555-01xx numbers are reserved for fiction; example.org for examples).
CLINIC_CONTACTS = {
    CLINIC_NAMES[0]: {
        "phone": "+1 (312) 555-0142",
        "email": "painlog@lakeside.example.org",
        "address": "1200 Lakeshore Drive, Suite 4, Chicago, IL 60611",
    },
    CLINIC_NAMES[1]: {
        "phone": "+1 (608) 555-0187",
        "email": "nerveclinic@northfield.example.org",
        "address": "45 Mill Street, Northfield, MN 55057",
    },
}

# username: (first name, last name, clinic index or None, kind)
DEMO_ACCOUNTS = {
    "admin": ("Ada", "Admin", None, "admin"),
    "clinician": ("Maya", "Okafor", 0, "clinician"),
    "clinician2": ("Tomas", "Lindqvist", 1, "clinician"),
    "patient": ("Jordan", "Reyes", 0, "patient"),
    "patient2": ("Priya", "Shah", 0, "patient"),
    # A patient of the second clinic, so that patient-to-patient tests cross clinics (issue
    # 21): a login for an existing demo record there (names from the record).
    "patient3": (None, None, 1, "login_for_record"),
}
# username: (MRN, date of birth) of the demo patients who have a login
DEMO_PATIENT_RECORDS = {
    "patient": ("DEMO-P001", datetime.date(1971, 4, 18)),
    "patient2": ("DEMO-P002", datetime.date(1988, 9, 2)),
}
# username: MRN of the existing demo record a "login_for_record" account is linked to
DEMO_RECORD_LOGINS = {"patient3": "DEMO-0001"}
EXTRA_PATIENTS = 22
# Registered this week (two at Lakeside, one at Northfield): no login yet, an open invitation,
# no diary, no intake; their amputation is on record, their surgery not yet. MRNs sort after
# every other demo patient's, so that adding them changed nobody else's made-up record.
NEWLY_REGISTERED = [
    {"clinic_index": 0, "mrn": "DEMO-R001", "first_name": "Nadia", "last_name": "Kaur",
     "date_of_birth": datetime.date(1979, 6, 23)},
    {"clinic_index": 1, "mrn": "DEMO-R002", "first_name": "Victor", "last_name": "Hale",
     "date_of_birth": datetime.date(1956, 11, 2)},
    {"clinic_index": 0, "mrn": "DEMO-R003", "first_name": "Grace", "last_name": "Moreau",
     "date_of_birth": datetime.date(1990, 2, 14)},
]  # fmt: skip

_FIRST_NAMES = [
    "Alex",
    "Brenda",
    "Carlos",
    "Dana",
    "Elijah",
    "Fatima",
    "George",
    "Hannah",
    "Ibrahim",
    "Julia",
    "Kwame",
    "Linda",
    "Marcus",
    "Nora",
    "Oscar",
    "Paula",
    "Quinn",
    "Rosa",
    "Samuel",
    "Tessa",
    "Umar",
    "Vera",
    "Walter",
    "Yusuf",
]
_LAST_NAMES = [
    "Anderson",
    "Becker",
    "Castillo",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Johansson",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Nguyen",
    "Olsen",
    "Patel",
    "Rossi",
    "Schmidt",
    "Thompson",
    "Usman",
    "Valdez",
    "Walsh",
    "Young",
    "Zhang",
]


# Demo patients who speak Spanish: their record says so, and the app speaks Spanish to them.
SPANISH_SPEAKING_LAST_NAMES = {"Castillo", "Garcia", "Lopez", "Valdez"}


def _extra_patient_rows():
    """The same ~20 made-up patients on every run (fixed seed), spread over both clinics."""
    rng = random.Random(20261125)  # noqa: S311 - made-up names, not security
    first_names = rng.sample(_FIRST_NAMES, EXTRA_PATIENTS)
    last_names = rng.sample(_LAST_NAMES, EXTRA_PATIENTS)
    for number, (first, last) in enumerate(zip(first_names, last_names, strict=True), start=1):
        born = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(0, 60 * 365))
        yield {
            "clinic_index": number % 2,
            "mrn": f"DEMO-{number:04d}",
            "first_name": first,
            "last_name": last,
            "date_of_birth": born,
            "preferred_language": ("Spanish" if last in SPANISH_SPEAKING_LAST_NAMES else "English"),
            # Most agreed that their data may be used for research, as clinics usually see.
            "research_consent": number % 4 != 0,
            "research_consent_date": datetime.date(2025, 1, 6) if number % 4 else None,
        }


def _demo_authenticator(user):
    """Give a demo account a confirmed TOTP device with the published demo secret."""
    key = base64.b32decode(DEMO_TOTP_SECRET).hex()
    _, was_created = AuthenticatorDevice.objects.get_or_create(
        user=user, name="Demo authenticator", defaults={"key": key, "confirmed": True}
    )
    return int(was_created)


def _demo_username(row):
    """The login of a demo patient of the extra rows: the published one where there is one
    (patient3), otherwise first.last, which signs in with the demo password too."""
    for username, mrn in DEMO_RECORD_LOGINS.items():
        if mrn == row["mrn"]:
            return username
    return f"{row['first_name']}.{row['last_name']}".lower()


def _patient_logins(rows):
    """Each extra demo patient's own login, made where missing: every patient with a diary
    logged it themselves. One password hash for all (demo only), so the seed stays fast."""
    User = get_user_model()
    wanted = {_demo_username(row): row for row in rows}
    existing = dict(
        User.objects.filter(username__in=wanted).values_list("username", "pk")
    )  # fmt: skip
    password = make_password(DEMO_PASSWORD)
    made = User.objects.bulk_create(
        User(
            username=username,
            first_name=row["first_name"],
            last_name=row["last_name"],
            email=f"{username}@example.org",
            password=password,
        )
        for username, row in wanted.items()
        if username not in existing
    )
    logins = existing | {user.username: user.pk for user in made}
    return {row["mrn"]: logins[username] for username, row in wanted.items()}, len(made)


def seed_demo_clinics():
    """Create what is missing of the demo data; return a count of what was created."""
    created = {"clinics": 0, "accounts": 0, "patients": 0}
    clinics = []
    for name in CLINIC_NAMES:
        clinic, was_created = Clinic.objects.get_or_create(
            name=name, defaults=CLINIC_CONTACTS[name]
        )
        clinics.append(clinic)
        created["clinics"] += was_created

    clinicians_group, _ = Group.objects.get_or_create(name=CLINICIANS_GROUP)
    User = get_user_model()
    for username, (first, last, clinic_index, kind) in DEMO_ACCOUNTS.items():
        if kind == "login_for_record":
            continue  # once the record exists, below
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = kind == "admin"
            user.save()
            created["accounts"] += 1
        if kind in ("admin", "clinician"):
            created["authenticators"] = created.get("authenticators", 0) + _demo_authenticator(user)
        if kind == "clinician":
            user.groups.add(clinicians_group)
            clinics[clinic_index].clinicians.add(user)
        elif kind == "patient":
            mrn, born = DEMO_PATIENT_RECORDS[username]
            _, was_created = Patient.objects.get_or_create(
                clinic=clinics[clinic_index],
                mrn=mrn,
                defaults={
                    "user": user,
                    "first_name": first,
                    "last_name": last,
                    "date_of_birth": born,
                    "email": f"{username}@example.org",
                },
            )
            created["patients"] += was_created

    existing = set(Patient.objects.filter(clinic__in=clinics).values_list("clinic_id", "mrn"))
    rows = [
        row
        for row in [*_extra_patient_rows(), *(dict(row) for row in NEWLY_REGISTERED)]
        if (clinics[row["clinic_index"]].pk, row["mrn"]) not in existing
    ]
    with_login = [row for row in rows if row["mrn"] not in NEWLY_REGISTERED_MRNS]
    logins, made = _patient_logins(with_login)
    created["accounts"] += made
    missing = []
    for row in rows:
        clinic = clinics[row.pop("clinic_index")]
        missing.append(Patient(clinic=clinic, user_id=logins.get(row["mrn"]), **row))
    Patient.objects.bulk_create(missing)
    created["patients"] += len(missing)
    clinician_of = {clinic.pk: _clinician_of(clinic) for clinic in clinics}
    created.update(seed_demo_clinical_records(clinics, clinician_of))
    created["invitations"] = _invite_the_newly_registered(clinics, clinician_of)
    return created


NEWLY_REGISTERED_MRNS = {row["mrn"] for row in NEWLY_REGISTERED}


def _clinician_of(clinic):
    return clinic.clinicians.order_by("pk").first()


def _invite_the_newly_registered(clinics, clinician_of):
    """An open invitation for each newly registered patient who has none, made by the same
    service as a clinician's (their code and link were shown on screen, so nobody knows
    them: a new one is a click away on the patient's page)."""
    made = 0
    for patient in Patient.objects.filter(
        clinic__in=clinics, mrn__in=NEWLY_REGISTERED_MRNS, user__isnull=True
    ):
        if not patient.invitations.usable().exists():
            invite_patient(
                patient=patient, invited_by=clinician_of[patient.clinic_id], build_link=str
            )
            made += 1
    return made


# level: [(cut nerve, motor target)], typical transfers from the literature (DOMAIN.md)
TYPICAL_TRANSFERS = {
    Level.TRANSHUMERAL: [
        (Nerve.MEDIAN, "Biceps, short head motor branch"),
        (Nerve.ULNAR, "Brachialis motor branch"),
        (Nerve.RADIAL, "Triceps, lateral head motor branch"),
    ],
    Level.TRANSRADIAL: [
        (Nerve.MEDIAN, "Flexor digitorum superficialis motor branch"),
        (Nerve.ULNAR, "Flexor carpi ulnaris motor branch"),
        (Nerve.SUPERFICIAL_RADIAL, "Extensor carpi radialis motor branch"),
    ],
    Level.SHOULDER_DISARTICULATION: [
        (Nerve.MUSCULOCUTANEOUS, "Pectoralis major, clavicular segment"),
        (Nerve.MEDIAN, "Pectoralis major, sternal segment"),
        (Nerve.ULNAR, "Pectoralis minor motor branch"),
    ],
    Level.TRANSFEMORAL: [
        (Nerve.TIBIAL, "Semimembranosus motor branch"),
        (Nerve.COMMON_PERONEAL, "Biceps femoris, long head motor branch"),
        (Nerve.POSTERIOR_FEMORAL_CUTANEOUS, "Semitendinosus motor branch"),
    ],
    Level.KNEE_DISARTICULATION: [
        (Nerve.TIBIAL, "Semimembranosus motor branch"),
        (Nerve.COMMON_PERONEAL, "Biceps femoris, long head motor branch"),
    ],
    Level.TRANSTIBIAL: [
        (Nerve.TIBIAL, "Gastrocnemius, medial head motor branch"),
        (Nerve.DEEP_PERONEAL, "Tibialis anterior motor branch"),
        (Nerve.SUPERFICIAL_PERONEAL, "Peroneus longus motor branch"),
        (Nerve.SURAL, "Gastrocnemius, lateral head motor branch"),
    ],
}
DEMO_PATIENT_PLAN = (Limb.LOWER, Level.TRANSTIBIAL, Etiology.TRAUMA, Procedure.SECONDARY_TMR)
DEMO_SURGEONS = ["Dr. Amara Osei", "Dr. Ben Hartley", "Dr. Clara Nakamura"]
DEMO_FACILITIES = ["Lakeside General Hospital", "Northfield University Hospital"]


def _demo_limb_plan(rng, index):
    """(limb, level, etiology, procedure or None) for the index-th demo patient: a fixed mix
    of upper and lower, primary and delayed TMR, and a few without surgery yet."""
    plans = [
        (Limb.LOWER, Level.TRANSTIBIAL, Etiology.VASCULAR, Procedure.SECONDARY_TMR),
        (Limb.LOWER, Level.TRANSFEMORAL, Etiology.TRAUMA, Procedure.PRIMARY_TMR),
        (Limb.UPPER, Level.TRANSHUMERAL, Etiology.TRAUMA, Procedure.SECONDARY_TMR),
        (Limb.LOWER, Level.TRANSTIBIAL, Etiology.VASCULAR, Procedure.PRIMARY_TMR),
        (Limb.UPPER, Level.TRANSRADIAL, Etiology.TRAUMA, Procedure.TMR_RPNI),
        (Limb.LOWER, Level.KNEE_DISARTICULATION, Etiology.INFECTION, Procedure.SECONDARY_TMR),
        (Limb.LOWER, Level.TRANSFEMORAL, Etiology.MALIGNANCY, Procedure.PRIMARY_TMR),
        (Limb.UPPER, Level.SHOULDER_DISARTICULATION, Etiology.MALIGNANCY, Procedure.PRIMARY_TMR),
        (Limb.LOWER, Level.TRANSTIBIAL, Etiology.TRAUMA, None),
    ]
    return plans[index % len(plans)]


def _demo_intake(patient, limb, sides, rng, *, completed):
    """The intake of a planned amputation, sent by the patient from the clinic the day before;
    the limbs are the ones on record (both, for a bilateral amputee)."""
    limb_name = "arm" if limb == Limb.UPPER else "leg"
    intake, _ = Intake.objects.get_or_create(
        patient=patient,
        defaults={
            **{f"{side}_{limb_name}": True for side in sides},
            "pain_onset": Intake.PainOnset.BEFORE,
            "phantom_pain": rng.randint(6, 9),
            "residual_pain": rng.randint(5, 8),
            "phantom_pain_frequency": Intake.Frequency.SEVERAL_DAILY,
            "residual_pain_frequency": Intake.Frequency.DAILY,
            "completed_at": _at(completed - datetime.timedelta(days=1), 15),
        },
    )
    return intake


def _at(day, hour, minute=0):
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


TWO_DAYS = datetime.timedelta(days=2)
# A patient sets up their login the day after the clinic shows them the invitation.
INVITATION_ACCEPTED_AFTER = datetime.timedelta(hours=26)


class _History:
    """The history lines of what the seed records, written in one insert at the times a clinic
    would have written them: what patients/services.py writes for each create, and what
    accounts/invitations.py writes when a login is made from an invitation."""

    def __init__(self, now):
        self.now = now
        self.lines = []

    def add(self, *, patient, about, actor_id, at, action=ChangeAction.CREATED, **line):
        record = line.pop("record", None) or record_label(about)
        self.lines.append(
            RecordChange(
                patient=patient,
                actor_id=actor_id,
                at=min(at, self.now),
                action=action,
                record_type=ContentType.objects.get_for_model(about),
                record_id=about.pk,
                **record_fields(record),
                **kept_fields("reason", line.pop("reason", ""), 500),
                **line,
            )
        )

    def record(self, patient, made, intakes, *, clinician, at):
        """The lines of a patient registered `at`: with their login made from an invitation,
        amputations recorded then (a planned one two days after it), each surgery two days
        after it, the intake when the patient sent it."""
        self.add(patient=patient, about=patient, actor_id=clinician.pk, at=at)
        if patient.user_id:
            self.add(
                patient=patient,
                about=patient,
                actor_id=clinician.pk,
                at=at + datetime.timedelta(minutes=20),
                record=Words(gettext_noop("Invitation link")),
                reason=Words(gettext_noop("Shown on screen")),
            )
            self.add(
                patient=patient,
                about=patient,
                actor_id=patient.user_id,
                at=at + INVITATION_ACCEPTED_AFTER,
                action=ChangeAction.CHANGED,
                record=Words(gettext_noop("Invitation link")),
                reason=Words(
                    gettext_noop("Accepted: login '%(username)s' created"),
                    username=patient.user.username,
                ),
            )
        for amputation, surgery in made:
            recorded = max(at + datetime.timedelta(minutes=10), _at(amputation.date, 11) + TWO_DAYS)
            self.add(patient=patient, about=amputation, actor_id=clinician.pk, at=recorded)
            if surgery is not None:
                recorded = _at(surgery.date, 16) + TWO_DAYS
                self.add(patient=patient, about=surgery, actor_id=clinician.pk, at=recorded)
        for intake in intakes:
            self.add(**_intake_sent(patient, intake))

    def save(self):
        RecordChange.objects.bulk_create(self.lines)


def _registered_at(patient, *, procedure, amputated, operated, today):
    """When the clinic registered the patient: before the diary and the intake they keep."""
    if patient.mrn in NEWLY_REGISTERED_MRNS:
        return timezone.now() - datetime.timedelta(hours=2)
    if procedure == Procedure.PRIMARY_TMR:
        # Referred before a planned amputation, with TMR at the same operation.
        return _at(operated - datetime.timedelta(days=14), 10)
    if procedure is None:
        day = today - datetime.timedelta(days=65)
    else:
        day = operated - datetime.timedelta(days=45)  # referred with pain after the amputation
    return _at(max(day, amputated + datetime.timedelta(days=1)), 10)


def seed_demo_clinical_records(clinics, clinician_of):
    """Amputations, surgeries with nerve transfers, and one completed intake, for the demo
    patients that have no amputation yet, with the history a clinic's records would have:
    registered by a clinician, a login made from an invitation, the amputation recorded, the
    surgery recorded after it, the intake sent by the patient. Dates count back from today, so
    the records stay 'months ago' whenever the demo is loaded."""
    today, now = timezone.localdate(), timezone.now()
    rng = random.Random(7)  # noqa: S311 - made-up records, not security
    counts = {"amputations": 0, "surgeries": 0}
    patients = (
        Patient.objects.filter(clinic__in=clinics, mrn__startswith="DEMO-")
        .select_related("user")
        .order_by("mrn")
    )
    has_records = set(Amputation.objects.values_list("patient_id", flat=True))
    history = _History(now)
    registered = []
    for index, patient in enumerate(patients):
        limb, level, etiology, procedure = _demo_limb_plan(rng, index)
        amputated = today - datetime.timedelta(days=rng.randrange(200, 900))
        if patient.pk in has_records:
            continue
        sides = [Side.LEFT, Side.RIGHT] if index % 7 == 3 else [rng.choice([Side.LEFT, Side.RIGHT])]
        if patient.mrn == "DEMO-P001":
            # Jordan Reyes, the demo patient: delayed TMR, with the intake filled in before it.
            limb, level, etiology, procedure = DEMO_PATIENT_PLAN
            sides, amputated = [Side.LEFT], today - datetime.timedelta(days=420)
        if patient.mrn in NEWLY_REGISTERED_MRNS:
            procedure = None  # surgery not yet planned
        made, intakes = [], []
        for side in sides:  # every seventh patient is a bilateral amputee
            amputation = Amputation.objects.create(
                patient=patient,
                limb=limb,
                side=side,
                level=level,
                date=amputated,
                etiology=etiology,
                prosthesis_use=ProsthesisUse.DAILY if index % 3 else ProsthesisUse.OCCASIONAL,
                prosthesis_hours_per_day=rng.randrange(4, 14) if index % 3 else None,
            )
            counts["amputations"] += 1
            if procedure is None:
                made.append((amputation, None))
                continue
            if procedure == Procedure.PRIMARY_TMR:
                operated = amputated
            else:
                operated = amputated + datetime.timedelta(days=rng.randrange(120, 170))
            surgery = Surgery.objects.create(
                patient=patient,
                amputation=amputation,
                date=operated,
                procedure=procedure,
                surgeon=rng.choice(DEMO_SURGEONS),
                facility=DEMO_FACILITIES[patient.clinic_id % 2],
            )
            NerveTransfer.objects.bulk_create(
                NerveTransfer(surgery=surgery, nerve=nerve, target=target)
                for nerve, target in TYPICAL_TRANSFERS.get(level, [])
            )
            counts["surgeries"] += 1
            made.append((amputation, surgery))
            if procedure == Procedure.PRIMARY_TMR and side == sides[0] and index % 3 != 2:
                # A planned amputation: the intake, filled in at the clinic the day before,
                # is the only pre-surgery baseline a primary TMR can have.
                intakes.append(_demo_intake(patient, limb, sides, rng, completed=operated))
        registered_at = _registered_at(
            patient,
            procedure=procedure,
            amputated=amputated,
            operated=min((s.date for _, s in made if s), default=None),
            today=today,
        )
        history.record(
            patient, made, intakes, clinician=clinician_of[patient.clinic_id], at=registered_at
        )
        registered.append((patient, registered_at))
    demo_patient = Patient.objects.filter(mrn="DEMO-P001", clinic__in=clinics).first()
    first_surgery = Surgery.objects.filter(patient=demo_patient).order_by("date").first()
    if first_surgery and not Intake.objects.filter(patient=demo_patient).exists():
        intake = Intake.objects.create(
            patient=demo_patient,
            left_leg=True,
            amputation_story="Below the knee on the left, after my leg was crushed at work.",
            pain_onset=Intake.PainOnset.FIRST_WEEK,
            phantom_pain=7,
            residual_pain=6,
            phantom_pain_frequency=Intake.Frequency.SEVERAL_DAILY,
            residual_pain_frequency=Intake.Frequency.DAILY,
            sensations=["burning", "electric", "cramping"],
            pain_medicines="Gabapentin 300 mg three times a day; ibuprofen when needed.",
            takes_opioids=Intake.YesNoUnsure.NO,
            prosthesis_use=ProsthesisUse.DAILY,
            prosthesis_hours_per_day=6,
            hopes="Sleep through the night and walk my dog again.",
            completed_at=_at(first_surgery.date - datetime.timedelta(days=10), 18, 30),
        )
        history.add(**_intake_sent(demo_patient, intake))
    history.save()
    _dated_as_registered(registered)
    return counts


def _intake_sent(patient, intake):
    """The line the intake's Send writes (patients/intake_views.py)."""
    return {
        "patient": patient,
        "about": intake,
        "actor_id": patient.user_id,
        "at": intake.completed_at,
        "record": "Intake: sent by the patient",
    }


def _dated_as_registered(registered):
    """The patients' rows and logins carry the day they were registered and accepted their
    invitation, not the day the demo was loaded."""
    User = get_user_model()
    users = []
    for patient, registered_at in registered:
        patient.created_at = patient.updated_at = registered_at
        if patient.user_id:
            patient.user.date_joined = registered_at + INVITATION_ACCEPTED_AFTER
            users.append(patient.user)
    Patient.objects.bulk_update([p for p, _ in registered], ["created_at", "updated_at"])
    User.objects.bulk_update(users, ["date_joined"])
