"""
Demo clinics, accounts and patients for a laptop or a training server (`manage.py seed_demo`).

Deterministic and idempotent: a second run finds every row already there and changes nothing,
so a clinician's edits to demo data survive `make run`.
"""

import datetime
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .access import CLINICIANS_GROUP
from .models import Clinic, Patient

DEMO_PASSWORD = "tmrdemo123"  # noqa: S105 - printed in the README; DEBUG-only
CLINIC_NAMES = ["Lakeside Limb Restoration Center", "Northfield Amputee & Nerve Clinic"]

# username: (first name, last name, clinic index or None, kind)
DEMO_ACCOUNTS = {
    "admin": ("Ada", "Admin", None, "admin"),
    "clinician": ("Maya", "Okafor", 0, "clinician"),
    "clinician2": ("Tomas", "Lindqvist", 1, "clinician"),
    "patient": ("Jordan", "Reyes", 0, "patient"),
    "patient2": ("Priya", "Shah", 0, "patient"),
}
# username: (MRN, date of birth) of the demo patients who have a login
DEMO_PATIENT_RECORDS = {
    "patient": ("DEMO-P001", datetime.date(1971, 4, 18)),
    "patient2": ("DEMO-P002", datetime.date(1988, 9, 2)),
}
EXTRA_PATIENTS = 22

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
        }


def seed_demo_clinics():
    """Create what is missing of the demo data; return a count of what was created."""
    created = {"clinics": 0, "accounts": 0, "patients": 0}
    clinics = []
    for name in CLINIC_NAMES:
        clinic, was_created = Clinic.objects.get_or_create(name=name)
        clinics.append(clinic)
        created["clinics"] += was_created

    clinicians_group, _ = Group.objects.get_or_create(name=CLINICIANS_GROUP)
    User = get_user_model()
    for username, (first, last, clinic_index, kind) in DEMO_ACCOUNTS.items():
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.is_staff = user.is_superuser = kind == "admin"
            user.save()
            created["accounts"] += 1
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
                },
            )
            created["patients"] += was_created

    existing = set(Patient.objects.filter(clinic__in=clinics).values_list("clinic_id", "mrn"))
    missing = []
    for row in _extra_patient_rows():
        clinic = clinics[row.pop("clinic_index")]
        if (clinic.pk, row["mrn"]) not in existing:
            missing.append(Patient(clinic=clinic, **row))
    Patient.objects.bulk_create(missing)
    created["patients"] += len(missing)
    return created
