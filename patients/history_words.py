"""
How a history line names the row it is about, and why (a reason the app writes), in words any
reader's language can show:
"Surgery: %(procedure)s on %(date)s", with the procedure's choice and the date kept apart, reads
"Cirugía: TMR con RPNI el 4 nov 2025" to a reader of Spanish. RecordChange keeps these words
(record_words) beside the English line as written (record), which exports, the admin's search
and lines written before the words existed go on reading.

A value is kept as one of:
- text as written (a name, an MRN, a muscle typed in): shown as it is;
- {"choice": English label}: a field's choice, shown in the reader's words ("lower": in lower
  case, as in the middle of a sentence);
- {"date": "2025-11-04"}: shown as the reader's language writes dates;
- {"names": {language: name}}: a name given in each language by a file (a questionnaire's);
- {"medicine": {...}}: a regimen's medicine and dose, named and worded as its page words them.
"""

import datetime
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop, pgettext


class Words:
    """Words with values kept apart, for a history line: Words("Surgery: %(procedure)s on
    %(date)s", procedure=Words.choice(label), date=Words.date(day)). The text is marked for the
    catalogue where it is written (gettext_noop)."""

    def __init__(self, text, **values):
        self.text, self.values = str(text), values

    @staticmethod
    def choice(label, *, lower=False):
        with translation.override(None):
            value = {"choice": str(label)}
        return {**value, "lower": True} if lower else value

    @staticmethod
    def date(day):
        return {"date": day.isoformat()}

    @staticmethod
    def medicine(regimen, *, dose=True):
        fields = {"medicine": regimen.medicine, "other_name": regimen.other_name}
        if dose:
            fields |= {
                "strength": None if regimen.strength is None else str(regimen.strength),
                "unit": regimen.unit,
                "units_per_dose": None
                if regimen.units_per_dose is None
                else str(regimen.units_per_dose),
                "times_per_day": regimen.times_per_day,
                "as_needed": regimen.as_needed,
                "route": regimen.route,
            }
        return {"medicine": fields}

    def stored(self):
        return {"text": self.text, "values": self.values}

    def english(self):
        """The line as the record keeps it, in the app's own language."""
        with translation.override(None):
            return words_shown(self.stored())

    def __str__(self):
        return self.english()


# How history lines name the clinical record's rows: words, and how each field in them is kept.
RECORD_WORDS = {
    "patients.patient": (
        gettext_noop("Patient: %(full_name)s (%(mrn)s)"),
        {"full_name": "text", "mrn": "text"},
    ),
    "patients.amputation": (
        gettext_noop("Amputation: %(side)s %(level)s (%(date)s)"),
        {"side": "choice", "level": "lower choice", "date": "date"},
    ),
    "patients.surgery": (
        gettext_noop("Surgery: %(procedure)s on %(date)s"),
        {"procedure": "choice", "date": "date"},
    ),
    "patients.nervetransfer": (
        gettext_noop("Nerve transfer: %(nerve)s → %(target)s"),
        {"nerve": "choice", "target": "text"},
    ),
}


def record_words(instance, text=None):
    """Words naming a row of the clinical record (RECORD_WORDS), or None for a row of another
    kind; `text`: other words with the same fields ("Nerve transfers of %(procedure)s on
    %(date)s")."""
    if instance._meta.label_lower not in RECORD_WORDS:
        return None
    words, kinds = RECORD_WORDS[instance._meta.label_lower]
    return words_of(instance, text or words, **kinds)


def words_of(instance, text, **kinds):
    """Words naming a row by some of its fields, each kept as `kinds` says: "text" (as
    written), "choice" or "lower choice" (its label), "date"."""
    values = {}
    with translation.override(None):
        for name, kind in kinds.items():
            if kind == "date":
                values[name] = Words.date(getattr(instance, name))
            elif kind in ("choice", "lower choice"):
                label = getattr(instance, f"get_{name}_display")()
                values[name] = Words.choice(label, lower=kind == "lower choice")
            else:
                values[name] = str(getattr(instance, name))
    return Words(text, **values)


def kept_fields(field, value, max_length):
    """A RecordChange's text `field` (`record`, `reason`) as written, in English, and beside it
    `<field>_words`: the words, or None for text alone (what someone typed). `value` is text,
    Words, or words as stored ({"text": ..., "values": {...}}), which accounts writes: it knows
    nothing of the record, this module included."""
    if isinstance(value, Words):
        value = value.stored()
    if not isinstance(value, dict):
        return {field: str(value)[:max_length], f"{field}_words": None}
    with translation.override(None):
        return {field: words_shown(value)[:max_length], f"{field}_words": value}


def record_fields(record):
    return kept_fields("record", record, 200)


def words_shown(stored):
    """Stored words in the reader's language. Raises KeyError, TypeError or ValueError on words
    that are not Words.stored()'s: the caller reads the English line instead."""
    values = {name: _value_shown(value) for name, value in stored["values"].items()}
    return gettext(stored["text"]) % values


def _value_shown(value):
    if not isinstance(value, dict):
        return str(value)
    if "choice" in value:
        text = gettext(value["choice"])
        return text.lower() if value.get("lower") else text
    if "date" in value:
        day = datetime.date.fromisoformat(value["date"])
        return date_format(day, pgettext("date format", "j M Y"))
    if "names" in value:
        names = value["names"]
        language = (translation.get_language() or "en").lower()
        return names.get(language) or names.get(language.split("-")[0]) or names["en"]
    if "medicine" in value:
        return _medicine_shown(value["medicine"])
    raise ValueError(f"Not a kept value: {value!r}")


def _medicine_shown(fields):
    from .models import MedicineRegimen

    regimen = MedicineRegimen(
        medicine=fields["medicine"],
        other_name=fields["other_name"],
        **{
            name: Decimal(fields[name]) if fields.get(name) is not None else None
            for name in ("strength", "units_per_dose")
        },
        **{
            name: fields[name]
            for name in ("unit", "times_per_day", "as_needed", "route")
            if name in fields
        },
    )
    if "unit" not in fields:
        return regimen.name_shown
    return f"{regimen.name_shown} {regimen.dose_text}"
