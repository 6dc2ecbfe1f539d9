"""The cohort's questionnaire figures (issue 17): per instrument version and limb, for each
event, n, median, mean change from baseline with its 95% interval, the PGIC's share improved,
and, for a PROMIS file that names its domain, the reference population's medians beside the
clinic's. Versions are never pooled: each version is its own table."""

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from painlog.models import QuestionnaireResponse
from painlog.outcomes.questionnaires import (
    REFERENCE_MEDIANS,
    REFERENCE_SOURCE,
    QuestionnaireCell,
    event_name,
    questionnaire_cells,
)


@dataclass(frozen=True)
class QuestionnaireTable:
    instrument: object  # painlog.models.Instrument: one version
    limb: str  # "", "phantom" or "residual"
    cells: list[QuestionnaireCell]
    reference: tuple | None  # (median, IQR low, IQR high) of the reference population
    pgic: bool

    @property
    def title(self):
        names = {"name": self.instrument.shown.name, "version": self.instrument.version}
        if self.limb == "phantom":
            return _("%(name)s, phantom limb (version %(version)s)") % names
        if self.limb == "residual":
            return _("%(name)s, residual limb (version %(version)s)") % names
        return _("%(name)s (version %(version)s)") % names

    @property
    def rows(self):
        return [(event_name(cell.event), cell) for cell in self.cells if cell.n]


def questionnaire_tables(patients):
    """Tables for the patients of a queryset (patients_for()): one query for the answer sets
    (a subquery of the patients, whatever their number); scores worked out exactly from the
    answers as each version scores them."""
    responses = (
        QuestionnaireResponse.objects.completed()
        .filter(patient__in=patients.values("pk"))
        .select_related("instrument")
        .order_by("instrument__key", "instrument__version", "limb", "patient_id")
    )
    parsed = {}
    instruments = {}
    groups = defaultdict(lambda: defaultdict(dict))
    for response in responses:
        instrument = instruments.setdefault(response.instrument_id, response.instrument)
        if instrument.pk not in parsed:
            parsed[instrument.pk] = instrument.parsed
        score = parsed[instrument.pk].score(response.answers)
        if score is not None:
            groups[(instrument.pk, response.limb)][response.patient_id][response.event] = (
                score.exact
            )
    tables = []
    for (instrument_pk, limb), per_patient in groups.items():
        instrument = instruments[instrument_pk]
        definition = parsed[instrument_pk]
        pgic = instrument.key == "pgic"
        tables.append(
            QuestionnaireTable(
                instrument=instrument,
                limb=limb,
                cells=questionnaire_cells(list(per_patient.values()), pgic=pgic),
                reference=REFERENCE_MEDIANS.get((definition.domain, limb)),
                pgic=pgic,
            )
        )
    return tables


__all__ = ["REFERENCE_SOURCE", "QuestionnaireTable", "questionnaire_tables"]
