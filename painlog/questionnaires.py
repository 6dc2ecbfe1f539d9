"""Questionnaires for one patient: what is scheduled and due, answering a question at a time,
sending (scoring), the clinic's choice of schedule, and installing an instrument file. The
rules of when (windows) live in painlog.outcomes.questionnaires; the file format and scoring
in painlog.instruments."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from patients.history_words import Words
from patients.models import RecordChange, Surgery

from .chart_data import date_label
from .instruments import built_in_definitions, parse, scored_part
from .models import Instrument, QuestionnaireResponse, QuestionnaireSchedule
from .outcomes import day_zero, shown_change
from .outcomes.questionnaires import (
    BASELINE,
    DEFAULT_SCHEDULE,
    DONE,
    DUE,
    EVENT_LABELS,
    EVENTS,
    MISSED,
    NOT_YET,
    Overdue,
    event_name,
    event_status,
    event_window,
    overdue_questionnaires,
    scheduled_events,
    still_overdue,
)


@dataclass
class Scheduled:
    """One instrument at one event for one patient, with its answer sets (one per limb for an
    instrument asked per limb): scheduled, or answered before the clinic stopped asking it."""

    instrument: Instrument
    event: str
    status: str
    window: object
    responses: list = field(default_factory=list)
    scheduled: bool = True  # False: answered, then unticked in the patient's schedule

    @property
    def event_label(self):
        return event_name(self.event)

    @property
    def status_shown(self):
        """Where it stands, as the clinician's page says it: "Due, open until 9 Jun 2026"."""
        if self.status == DONE:
            return _("Answered") if self.scheduled else _("Answered (no longer asked)")
        if self.status == DUE:
            if self.window.closes:
                return _("Due, open until %(closes)s") % {"closes": date_label(self.window.closes)}
            return _("Due")
        if self.status == NOT_YET:
            return _("Due from %(opens)s") % {"opens": date_label(self.window.opens)}
        if self.status == MISSED:
            return _("Missed (closed %(closes)s)") % {"closes": date_label(self.window.closes)}
        return _("Waiting for surgery date")

    @property
    def limbs_to_enter(self):
        """The limbs ("" when asked once) whose answers clinic staff may type in from a paper
        form: those not yet sent, while the window is open or after it closed."""
        if self.status not in (DUE, MISSED):
            return []
        sent = {response.limb for response in self.responses if response.completed_at}
        return [limb for limb in self.instrument.parsed.limbs if limb not in sent]

    @property
    def started(self):
        return any(response.answers for response in self.responses)

    @property
    def question_count(self):
        return len(self.instrument.parsed.items) * len(self.instrument.parsed.limbs)


def first_tmr_day(patient):
    return day_zero(list(Surgery.objects.filter(patient=patient).only("date", "procedure")))


def schedule_of(patient):
    """{instrument key: events} the clinic chose for this patient, or the default."""
    chosen = QuestionnaireSchedule.objects.filter(patient=patient).first()
    return chosen.events if chosen else dict(DEFAULT_SCHEDULE)


# Day 0 not yet known to the caller (None is a known "no TMR surgery yet").
UNKNOWN = object()


def questionnaires_for(patient, *, today=None, day_zero=UNKNOWN, instruments=None, schedule=None):
    """Every scheduled instrument and event for the patient, with where it stands on `today`,
    in event order: the home page shows the due ones, the clinician's page all of them. An
    event no longer scheduled is listed only where the patient sent answers for it, as
    answered. Three queries (the instruments, the schedule, the answer sets), and the
    surgeries unless the caller knows day 0; fewer when the caller has the instruments or the
    schedule."""
    today = today or timezone.localdate()
    instruments = Instrument.objects.current() if instruments is None else instruments
    responses = list(
        QuestionnaireResponse.objects.filter(patient=patient).select_related("instrument")
    )
    _add_changes(responses)
    start = first_tmr_day(patient) if day_zero is UNKNOWN else day_zero
    events = scheduled_events(
        schedule_of(patient) if schedule is None else schedule,
        {key: instrument.parsed.events for key, instrument in instruments.items()},
    )
    rows = []
    for event in EVENTS:
        # The scheduled instruments in the schedule's order, then the others.
        for key in dict.fromkeys([*events, *instruments]):
            instrument = instruments[key]
            answered = [
                response
                for response in responses
                if response.instrument.key == key and response.event == event
            ]
            limbs_done = {response.limb for response in answered if response.completed_at}
            if event in events.get(key, ()):
                done = set(instrument.parsed.limbs) <= limbs_done
                status = event_status(event, day_zero=start, today=today, done=done)
            elif limbs_done:
                # Unticked after the patient sent answers: what they sent stays in view, and
                # a time point the clinic no longer asks is never due, missed or flagged.
                status = DONE
            else:
                # Unscheduled with nothing sent: a set begun and not sent is the patient's
                # draft, kept, and listed again if the clinic schedules the time point again.
                continue
            rows.append(
                Scheduled(
                    instrument=instrument,
                    event=event,
                    status=status,
                    window=event_window(event, start),
                    responses=answered,
                    scheduled=event in events.get(key, ()),
                )
            )
    return rows


def _add_changes(responses):
    """Give each sent answer set its exact `change` from the baseline answer set of the same
    instrument version and limb (None without one, or when either cannot be scored), and the
    change as printed (truncated toward zero at one decimal, signed)."""
    scores = {}
    for response in responses:
        exact = None
        if response.completed_at is not None:
            score = response.instrument.parsed.score(response.answers)
            exact = score.exact if score else None
        scores[response.pk] = exact
    baselines = {
        (response.instrument_id, response.limb): scores[response.pk]
        for response in responses
        if response.event == BASELINE and scores[response.pk] is not None
    }
    for response in responses:
        baseline = baselines.get((response.instrument_id, response.limb))
        exact = scores[response.pk]
        response.change = (
            exact - baseline
            if response.event != BASELINE and exact is not None and baseline is not None
            else None
        )
        response.change_shown = shown_change(response.change) if response.change is not None else ""


def due_for(patient, *, today=None, day_zero=UNKNOWN):
    rows = questionnaires_for(patient, today=today, day_zero=day_zero)
    return [row for row in rows if row.status == DUE]


def next_response(*, patient, instrument, event, actor):
    """The answer set to work on next for this instrument and event: the first limb not yet
    sent, created when the patient opens it; None when every limb is sent."""
    for limb in instrument.parsed.limbs:
        response, _created = QuestionnaireResponse.objects.get_or_create(
            patient=patient,
            instrument=instrument,
            event=event,
            limb=limb,
            defaults={"entered_by": actor},
        )
        if response.completed_at is None:
            return response
    return None


def first_unanswered(response):
    """The number (1-based) of the first question not yet answered, or None when all are."""
    for number, item in enumerate(response.instrument.parsed.items, start=1):
        if item.id not in response.answers:
            return number
    return None


def save_answer(*, response, item, value, language=""):
    """Keep one answer (None: skipped, where the instrument allows it), and the language the
    question was shown in. Answers are saved one question at a time so that a patient who
    stops halfway comes back to where they were."""
    if response.completed_at is not None:
        raise ValidationError(_("These answers are already sent."))
    response.answers = {**response.answers, item.id: value}
    response.language = language or response.language
    response.save(update_fields=["answers", "language"])


def score_kept(score):
    """A score as its history line keeps it: a number (2, 5.667), which each reader reads in
    their own notation; "none" for an answer set that could not be scored."""
    if score is None:
        return "none"
    return int(score) if score == score.to_integral_value() else float(score)


def response_words(response):
    """How a history line names an answer set: "PEG: ... (Krebs 2009) at 3 months (phantom
    limb)", with the questionnaire's name as its file gives it in each language."""
    instrument = response.instrument
    names = {"en": str(instrument), instrument.parsed.language: str(instrument)} | {
        code: f"{translated.name} ({instrument.version})"
        for code, translated in instrument.parsed.translations.items()
    }
    values = {
        "questionnaire": {"names": names},
        "time_point": Words.choice(EVENT_LABELS[response.event], lower=True),
    }
    if response.limb:
        return Words(
            gettext_noop("%(questionnaire)s at %(time_point)s (%(limb)s)"),
            limb=Words.choice(QuestionnaireResponse.Limb(response.limb).label, lower=True),
            **values,
        )
    return Words(gettext_noop("%(questionnaire)s at %(time_point)s"), **values)


@transaction.atomic
def send_response(*, response, actor, completed_at=None, reason=""):
    """Score and close an answer set, and keep the event in the record's history."""
    instrument = response.instrument.parsed
    missing = [item.id for item in instrument.items if item.id not in response.answers]
    if missing:
        raise ValidationError(_("Please answer every question first."))
    score = instrument.score(response.answers)
    response.completed_at = completed_at or timezone.now()
    response.score = score.value if score else None
    response.score_se = score.se if score else None
    response.save(update_fields=["completed_at", "score", "score_se"])
    RecordChange.objects.log(
        actor=actor,
        patient=response.patient,
        record=response_words(response),
        action=RecordChange.Action.CREATED,
        # {label: [before, after]} in words, as every history line (patients/history_diff.py).
        changes={"Score": ["", score_kept(response.score)]},
        reason=reason,
        about=response,
    )
    return response


@transaction.atomic
def enter_paper_answers(*, patient, instrument, event, limb, answers, answered_on, actor):
    """Keep an answer set the patient gave on paper, typed in by clinic staff: scored and sent
    as from the app, dated the day the patient answered (at noon, or now if that is later
    today), with "answered on paper" in the history. Refused when these answers are already
    sent, or when the patient has begun them in the app: what a patient saved is not
    overwritten."""
    answered_at = min(
        timezone.make_aware(datetime.datetime.combine(answered_on, datetime.time(12))),
        timezone.now(),
    )
    # Typed in twice at once, the second waits for the first (the one-per-event constraint)
    # and then finds its answers sent.
    response, created = QuestionnaireResponse.objects.get_or_create(
        patient=patient, instrument=instrument, event=event, limb=limb,
        defaults={"entered_by": actor, "started_at": answered_at},
    )  # fmt: skip
    if not created:
        response = QuestionnaireResponse.objects.select_for_update().get(pk=response.pk)
    if response.completed_at is not None:
        raise ValidationError(
            _("These answers were already sent on %(day)s.")
            % {"day": date_label(timezone.localdate(response.completed_at))}
        )
    if response.answers:
        raise ValidationError(
            _(
                "The patient has begun these questions in the app. Ask them to finish there: "
                "what they saved is kept and not replaced."
            )
        )
    # Opened in the app and left empty, the set is the patient's no longer: staff fill it.
    response.entered_by = actor
    response.answers = dict(answers)
    response.started_at = answered_at
    response.language = ""  # the paper's language is not known
    response.save()
    return send_response(
        response=response,
        actor=actor,
        completed_at=answered_at,
        reason=Words(
            gettext_noop("Answered on paper on %(day)s; typed in by clinic staff."),
            day=Words.date(answered_on),
        ),
    )


@transaction.atomic
def set_schedule(*, patient, events, actor):
    """The clinic's choice of questionnaires for this patient {key: [event, ...]}."""
    before = schedule_of(patient)
    QuestionnaireSchedule.objects.update_or_create(patient=patient, defaults={"events": events})
    RecordChange.objects.log(
        actor=actor,
        patient=patient,
        record=gettext_noop("Questionnaire schedule"),
        action=RecordChange.Action.CHANGED,
        changes={
            key.upper(): [", ".join(before.get(key, ())), ", ".join(events.get(key, ()))]
            for key in sorted(set(before) | set(events))
            if list(before.get(key, ())) != list(events.get(key, ()))
        },
    )


def install_instrument(definition):
    """Install one version of an instrument from its decoded file. Returns (instrument,
    created); a version already installed is left as it was, and a different file under an
    installed key and version is refused: versions are never rewritten. Only a file that adds
    or changes translations of an installed version updates it (instruments.scored_part)."""
    parsed = parse(definition)
    existing = Instrument.objects.filter(key=parsed.key, version=parsed.version).first()
    if existing is not None:
        if existing.definition == definition:
            return existing, False
        if scored_part(existing.definition) == scored_part(definition):
            # Only its translations differ: what is asked in the file's language, the options
            # and the scoring are the same, so the version's scores are too. Each answer set
            # keeps the language it was shown in.
            existing.definition = definition
            existing.save(update_fields=["definition"])
            return existing, False
        raise ValidationError(
            _(
                "%(key)s version %(version)s is installed with other content: give the new "
                "file its own version."
            )
            % {"key": parsed.key, "version": parsed.version}
        )
    return Instrument.objects.create(
        key=parsed.key, version=parsed.version, name=parsed.name, definition=definition
    ), True


def overdue_for_patients(patients, day_zeros, *, today):
    """{patient pk: (Overdue, ...)} for the patients of a queryset, whose day 0 are
    `day_zeros` {pk: date or None}: the worklist's questionnaire flag, in three queries whatever
    the number of patients (the instruments, the schedules chosen, the answer sets sent)."""
    instruments = Instrument.objects.current()
    instrument_events = {key: instrument.parsed.events for key, instrument in instruments.items()}
    short_names = {key: instrument.parsed.short_name for key, instrument in instruments.items()}
    limbs = {key: set(instrument.parsed.limbs) for key, instrument in instruments.items()}
    ids = patients.order_by().values("pk")
    chosen = dict(
        QuestionnaireSchedule.objects.filter(patient__in=ids).values_list("patient_id", "events")
    )
    answered = {}
    for patient_id, key, event, limb in (
        QuestionnaireResponse.objects.completed()
        .filter(patient__in=ids)
        .values_list("patient_id", "instrument__key", "event", "limb")
    ):
        answered.setdefault(patient_id, {}).setdefault((key, event), set()).add(limb)
    default = scheduled_events(DEFAULT_SCHEDULE, instrument_events)
    overdue = {}
    for pk, start in day_zeros.items():
        if start is None:
            continue
        events = scheduled_events(chosen[pk], instrument_events) if pk in chosen else default
        done = {
            pair for pair, sent in answered.get(pk, {}).items() if limbs.get(pair[0], {""}) <= sent
        }
        found = overdue_questionnaires(events, short_names, done, day_zero=start, today=today)
        if found:
            overdue[pk] = found
    return overdue


def overdue_from(rows, *, today):
    """The Overdue questionnaires among questionnaires_for()'s rows (the patient's page)."""
    return tuple(
        Overdue.of(row.instrument.parsed.short_name, row.event, row.window.closes)
        for row in rows
        if row.status == MISSED and still_overdue(row.window.closes, today)
    )


def ensure_built_in_instruments():
    """The PEG and the PGIC as their files define them, installed where missing (the migration
    installs them; a test database emptied by a flush has lost them, as it loses every row a
    migration made)."""
    for definition in built_in_definitions():
        instrument, created = install_instrument(definition)
        if created:
            Instrument.objects.filter(pk=instrument.pk).update(built_in=True)
