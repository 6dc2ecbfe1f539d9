"""What a research export is: patients under keyed pseudonyms, with the identifying columns
left out. The CSV exports and the FHIR research variant use the same pseudonym, so rows link up
across downloads."""

import hashlib
import hmac

from django.conf import settings


def pseudonym(patient_pk):
    """A stable research id for a patient: the same in every export, CSV and FHIR, meaningless
    without CLINIC_PSEUDONYM_KEY. A key of its own, so that rotating SECRET_KEY leaves research
    releases linkable; a new pseudonym key makes a new release that cannot be linked to the old
    (README, "Keys and rotation")."""
    message = f"research:{patient_pk}".encode()
    key = settings.CLINIC_PSEUDONYM_KEY.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


# Left out of research exports: identifiers, and every text a patient or clinician typed (a
# note or a medicine's name can name a person, a place, a date).
IDENTIFYING = {"mrn", "last_name", "first_name", "date_of_birth", "note", "medicine_taken"}


def for_research(header, rows):
    """The research variant of an export: pseudonym for the id, birth year for the date of
    birth, identifying columns dropped."""
    keep = [i for i, name in enumerate(header) if name not in IDENTIFYING]
    id_column = header.index("patient_id")
    birth_column = header.index("date_of_birth") if "date_of_birth" in header else None

    def research_row(row):
        values = [row[i] for i in keep]
        values[keep.index(id_column)] = pseudonym(row[id_column])
        if birth_column is not None:
            values.append(row[birth_column].year)
        return values

    research_header = ["patient" if name == "patient_id" else name for name in header]
    research_header = [research_header[i] for i in keep]
    if birth_column is not None:
        research_header.append("birth_year")
    return research_header, (research_row(row) for row in rows)
