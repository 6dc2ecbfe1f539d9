"""What changed between two versions of a record, field by field, in words: "phantom pain 6 → 5",
"note added". The one place that turns stored history into sentences, for the admin's History
pages and the clinicians' history tables alike.

Two kinds of history feed it: RecordChange lines, which store {label: [before, after]} already
in words (patients/services.py:changed_fields), and pain entry versions, which store every
field's raw value (painlog PainEntryChange.values) and are compared with the version before.
"""

import datetime
import functools
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import Sensation

# Free text is told as "added", "removed" or "changed" with the new words, not as an arrow
# between two paragraphs.
LONG_TEXT = 60


@dataclass(frozen=True)
class Difference:
    label: str
    before: str
    after: str

    def __str__(self):
        # Stored labels are the fields' English verbose names, which are in the catalogue: a
        # page in another language shows them in its own words.
        values = {"label": _(self.label) if self.label else "", "before": self.before}
        values["after"] = self.after
        if not self.before:
            return _("%(label)s added: %(after)s") % values
        if not self.after:
            return _("%(label)s removed (was %(before)s)") % values
        if len(self.before) > LONG_TEXT or len(self.after) > LONG_TEXT:
            return _("%(label)s changed to: %(after)s") % values
        return _("%(label)s %(before)s → %(after)s") % values


def recorded_differences(changes):
    """A RecordChange's stored {label: [before, after]} as Differences."""
    if not isinstance(changes, dict):
        return []
    differences = []
    for label, values in changes.items():
        if isinstance(values, list | tuple) and len(values) == 2:
            differences.append(Difference(str(label), _text(values[0]), _text(values[1])))
    return differences


def _in_field_order(model, values):
    """The stored values in the model's field order: PostgreSQL's jsonb keeps its keys in an
    order of its own (shortest first), SQLite the order they were written in."""
    order = {field.name: index for index, field in enumerate(model._meta.get_fields())}
    return sorted(values.items(), key=lambda item: order.get(item[0], len(order)))


def version_differences(model, before, after):
    """Differences between two stored versions ({field name: raw value}) of a `model` row;
    `before` None for the first version. Labels from the fields' verbose names, values from
    their choices."""
    if before is None:
        return []
    differences = []
    for name, new in _in_field_order(model, after):
        old = before.get(name)
        if old == new or (old in (None, "", []) and new in (None, "", [])):
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            label = name.replace("_", " ")
            field = None
        else:
            label = str(field.verbose_name)
        shown_old, shown_new = _shown(field, old), _shown(field, new)
        if field is not None and isinstance(field, models.DateTimeField):
            shown_old, shown_new = _moments(old, new)
        differences.append(Difference(label, shown_old, shown_new))
    return differences


def described_values(model, values):
    """A first version in words ("phantom pain: 6; residual pain: 5"), empty fields left out."""
    described = []
    for name, value in _in_field_order(model, values):
        if value in (None, "", []):
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field, label = None, name.replace("_", " ")
        else:
            label = str(field.verbose_name)
        if field is not None and isinstance(field, models.DateTimeField):
            shown = _moments(value, value)[0]
        else:
            shown = _shown(field, value)
        described.append(f"{label}: {shown}")
    return "; ".join(described)


def with_differences(model, versions):
    """Give each version (oldest first, each with `.values`) its `.differences` from the one
    before it; a first version and a deletion (which keeps the last values) have none."""
    previous = None
    for version in versions:
        version.differences = version_differences(model, previous, version.values)
        previous = version.values
    return versions


def _text(value):
    """A stored value as pages print it; dates (kept as 2025-03-13) as 13 Mar 2025, the app's
    one way of writing a date (13 mar 2025 in Spanish)."""
    if value in (None, ""):
        return ""
    # A number kept as a number (a questionnaire's score) in the reader's notation: 5.667 is
    # 5,667 in Spanish, where "5.667" would read five thousand.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_format(value)
    # Yes/no fields were stored as Python writes them.
    if str(value) in ("True", "False"):
        return _("Yes") if str(value) == "True" else _("No")
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        text = str(value)
        # Choices were stored by their English labels, which are in the catalogue: a page in
        # another language shows them in its own words. Anything else (a surgeon called May)
        # reads as it was kept.
        if text in _choice_labels():
            return _(text)
        for words in _WORDS_OF_OTHER_APPS:
            if (shown := words(text)) is not None:
                return shown
        return text
    return date_format(day, pgettext("date format", "j M Y"))


# Functions from a value other apps store in history lines, in English, to its words in the
# reader's language, or None when they do not know it (reports: the flags a review saw).
_WORDS_OF_OTHER_APPS = []


def translate_when_shown(words):
    """Let `words(text)` say stored English values in the reader's language."""
    if words not in _WORDS_OF_OTHER_APPS:
        _WORDS_OF_OTHER_APPS.append(words)


@functools.cache
def _choice_labels():
    """The English labels of every model field's choices, as the history stores them."""
    with translation.override(None):
        return frozenset(
            str(label)
            for model in apps.get_models()
            for field in model._meta.get_fields()
            if getattr(field, "choices", None)
            for _value, label in field.flatchoices
        )


def _shown(field, value):
    if value in (None, "", []):
        return ""
    if isinstance(value, list):
        labels = dict(Sensation.choices)
        return ", ".join(str(labels.get(item, item)).lower() for item in value)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _moments(old, new):
    """Two stored times in the clinic's zone, to the minute unless only the seconds differ."""
    old_time, new_time = _parse(old), _parse(new)
    if old_time is None or new_time is None:
        return _text(old), _text(new)
    if old_time.replace(second=0) == new_time.replace(second=0):
        shape = pgettext("date format", "j M Y, H:i:s")
    else:
        shape = pgettext("date format", "j M Y, H:i")
    return date_format(old_time, shape), date_format(new_time, shape)


def _parse(value):
    try:
        moment = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return timezone.localtime(moment)
