"""The demo's questionnaire history (issue 17): what each demo patient with a login answered at
the events whose windows have closed, consistent with their own diary (a PEG near the pain they
logged in that window, a PGIC that follows their change since baseline), and nothing at an event
that is open now, so that a demo patient has a PEG to answer. A patient who logged nothing in a
window answered nothing there either."""

import datetime
import random
from fractions import Fraction

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from patients.history_words import record_fields
from patients.models import Patient, RecordChange

from .models import Instrument, PainEntry, QuestionnaireResponse
from .outcomes import Reading, local_midnight
from .outcomes.questionnaires import BASELINE, DEFAULT_SCHEDULE, event_window
from .questionnaires import ensure_built_in_instruments, response_words, score_kept

SEED = "tmr-demo-questionnaires"
# Of the windows a patient logged pain in, how often they also answered the questionnaire.
ANSWERED = 0.8


def _clamp(value):
    return max(0, min(10, round(value)))


def _pgic(baseline, now):
    """The PGIC answer a patient whose pain went from `baseline` to `now` would plausibly give."""
    if not baseline:
        return 4
    relief = (baseline - now) / baseline
    for threshold, answer in [(0.5, 1), (0.3, 2), (0.1, 3), (-0.1, 4), (-0.3, 5)]:
        if relief >= threshold:
            return answer
    return 6


def seed_demo_questionnaires(today=None):
    """Answer sets for the demo patients with a login; idempotent (nothing when any exist)."""
    demo = Patient.objects.filter(mrn__startswith="DEMO-", user__isnull=False)
    if QuestionnaireResponse.objects.filter(patient__in=demo).exists():
        return {"questionnaire answer sets": 0}
    today = today or timezone.localdate()
    tz = timezone.get_current_timezone()
    ensure_built_in_instruments()
    instruments = Instrument.objects.current()
    peg, pgic = instruments["peg"], instruments["pgic"]
    responses = []
    # Two queries for every demo patient's day 0 and diary: the seed runs in a few seconds.
    patients = list(demo.with_first_tmr().select_related("user").order_by("pk"))
    diaries = {}
    for patient_id, recorded_at, phantom, residual in (
        PainEntry.objects.live()
        .filter(patient__in=demo.values("pk"))
        .values_list("patient_id", "recorded_at", "phantom_pain", "residual_pain")
    ):
        diaries.setdefault(patient_id, []).append(
            Reading(day=recorded_at.astimezone(tz).date(), phantom=phantom, residual=residual)
        )
    for patient in patients:
        rng = random.Random(f"{SEED}:{patient.mrn}")  # noqa: S311 - made-up data, not security
        start = patient.first_tmr_date
        if start is None:
            continue
        entries = diaries.get(patient.pk, [])
        baseline_pain = None
        for event in DEFAULT_SCHEDULE["peg"]:
            window = event_window(event, start)
            opens = window.opens or start - datetime.timedelta(days=30)
            if window.closes is None or window.closes >= today:
                continue  # open now or still to come: left for the patient to answer
            logged = [
                max(score for score in (reading.phantom, reading.residual) if score is not None)
                for reading in entries
                if opens <= reading.day <= window.closes
                and (reading.phantom is not None or reading.residual is not None)
            ]
            if not logged or rng.random() > ANSWERED:
                continue
            pain = Fraction(sum(logged), len(logged))
            if event == BASELINE:
                baseline_pain = pain
            answered_on = min(window.closes, opens + datetime.timedelta(days=rng.randrange(0, 8)))
            at = local_midnight(answered_on, tz) + datetime.timedelta(hours=rng.randrange(9, 21))
            peg_answers = {
                "pain": _clamp(pain),
                "enjoyment": _clamp(pain + rng.choice([-1, 0, 0, 1])),
                "activity": _clamp(pain + rng.choice([-1, 0, 1, 1])),
            }
            sets = [(peg, peg_answers)]
            if event != BASELINE:
                sets.append((pgic, {"change": _pgic(baseline_pain, pain)}))
            for instrument, answers in sets:
                score = instrument.parsed.score(answers)
                responses.append(
                    QuestionnaireResponse(
                        patient=patient, instrument=instrument, event=event, answers=answers,
                        started_at=at, completed_at=at + datetime.timedelta(minutes=2),
                        score=score.value, entered_by=patient.user,
                    )
                )  # fmt: skip
    QuestionnaireResponse.objects.bulk_create(responses)
    # Each with its "created" line of history, dated when it was sent, pointing at its row.
    kind = ContentType.objects.get_for_model(QuestionnaireResponse)
    RecordChange.objects.bulk_create(
        RecordChange(
            patient=response.patient, actor=response.patient.user,
            action=RecordChange.Action.CREATED, at=response.completed_at,
            **record_fields(response_words(response)),
            changes={"Score": ["", score_kept(response.score)]}, record_type=kind,
            record_id=response.pk,
        )
        for response in responses
    )  # fmt: skip
    return {"questionnaire answer sets": len(responses)}
