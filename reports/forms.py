"""The clinician screens' filter forms: a bad value gets its message and is left out; the page
still shows."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.text_checks import PlainTextMixin
from painlog import outcomes
from patients.forms import DATE_INPUT
from patients.models import Clinic, Level, Limb, Procedure

from .models import NOTE_MAX_LENGTH


class CohortFilterForm(forms.Form):
    """Which patients: a clinic of the clinician's, and a range for the first TMR's date.
    A bad value gets its message next to the field and is left out; the page still shows."""

    clinic = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    surgery_from = forms.DateField(label=_("First TMR from"), required=False, widget=DATE_INPUT)
    surgery_to = forms.DateField(label=_("First TMR to"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices from the clinics already fetched: a clinic that is not the clinician's is
        # "not one of the choices", and validating costs no query.
        self.fields["clinic"].choices = [("", _("All my clinics"))] + [
            (clinic.pk, clinic.name) for clinic in clinics
        ]
        for field in ("surgery_from", "surgery_to"):
            self.fields[field].widget.attrs["class"] = "form-control"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("surgery_from"), cleaned.get("surgery_to")
        if start and end and start > end:
            self.add_error("surgery_to", _("This date is before the “from” date."))
        return cleaned

    def filters(self):
        """The valid filters as keyword arguments for patients_for(); bad ones left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-describedby"] = f"{name}-error"
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value is not None and name not in self.errors
        }


def _by_name(row):
    return (row.last_name.casefold(), row.first_name.casefold(), row.pk)


def _change(pain_type, part):
    def key(row):
        change = row.changes.get(pain_type)
        return getattr(change, part) if change else None

    return key


def _recent_mean(pain_type):
    return lambda row: row.recent[pain_type].mean


class DashboardForm(forms.Form):
    """Search, filters and sort order of the worklist; a bad value is ignored, never fatal."""

    FLAGS = [
        ("attention", _("Any flag needing attention")),
        *outcomes.FLAG_LABELS.items(),
        ("unreviewed", _("Flags not reviewed")),
        ("no_surgery", _("No TMR surgery yet")),
    ]
    # column: its value on a worklist row (None sorts last, whichever the direction)
    SORTS = {
        "name": _by_name,
        "mrn": lambda row: row.mrn,
        "clinic": lambda row: row.clinic_name.casefold(),
        "surgery": lambda row: row.first_tmr_date,
        "phantom": lambda row: row.latest_phantom,
        "residual": lambda row: row.latest_residual,
        "phantom7": _recent_mean("phantom"),
        "residual7": _recent_mean("residual"),
        "change_phantom": _change("phantom", "points"),
        "change_phantom_percent": _change("phantom", "percent"),
        "change_residual": _change("residual", "points"),
        "change_residual_percent": _change("residual", "percent"),
        "last_entry": lambda row: row.last_entry_at,
        # Patients on no opioid sort with the unknowns, last.
        "mme": lambda row: row.mme.mme if row.mme.on_opioid else None,
    }

    q = forms.CharField(label=_("Name or MRN"), required=False, max_length=100)
    clinic = forms.ModelChoiceField(
        queryset=Clinic.objects.none(), required=False, empty_label=_("All my clinics")
    )
    limb = forms.ChoiceField(choices=[("", _("Any limb")), *Limb.choices], required=False)
    level = forms.ChoiceField(choices=[("", _("Any level")), *Level.choices], required=False)
    procedure = forms.ChoiceField(
        choices=[("", _("Any procedure")), *Procedure.choices], required=False
    )
    flag = forms.ChoiceField(choices=[("", _("Any")), *FLAGS], required=False)
    sort = forms.ChoiceField(
        choices=[(key, key) for column in SORTS for key in (column, f"-{column}")],
        required=False,
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
        self.fields["q"].widget.attrs.update(type="search", placeholder=_("e.g. Reyes or MRN"))

    def value(self, name):
        return self.cleaned_data.get(name) if self.is_valid() else None

    def filter(self, patients):
        """The filters the database applies: search, clinic, limb, level, procedure."""
        if not self.is_bound or not self.is_valid():
            return patients
        data = self.cleaned_data
        for word in data["q"].split():
            patients = patients.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(mrn__icontains=word)
            )
        if data["clinic"]:
            patients = patients.filter(clinic=data["clinic"])
        if data["limb"]:
            patients = patients.filter(amputations__limb=data["limb"])
        if data["level"]:
            patients = patients.filter(amputations__level=data["level"])
        if data["procedure"]:
            patients = patients.filter(surgeries__procedure=data["procedure"])
        # The joins for limb, level and procedure can repeat a patient.
        return (
            patients.distinct() if data["limb"] or data["level"] or data["procedure"] else patients
        )

    def filter_flags(self, rows):
        """Only the worklist rows with the chosen flag (judged by the outcome module)."""
        flag = self.value("flag")
        if not flag:
            return rows
        if flag == "attention":
            return [row for row in rows if row.flags.needs_attention]
        if flag == "unreviewed":
            return [row for row in rows if row.flags and not row.review_stands]
        if flag == "no_surgery":
            return [row for row in rows if row.first_tmr_date is None]
        return [row for row in rows if row.flags.has(flag)]

    def sort_rows(self, rows):
        """The rows in the chosen column's order ("-x" descending), those without a value
        last; unsorted, they keep the order of attention. Returns (sort key in use, rows)."""
        key = self.value("sort") or ""
        if not key:
            return "", rows
        value = self.SORTS[key.removeprefix("-")]
        known = [row for row in rows if value(row) is not None]
        unknown = [row for row in rows if value(row) is None]
        # Ties in name order, whichever the direction.
        known.sort(key=_by_name)
        known.sort(key=value, reverse=key.startswith("-"))
        return key, known + sorted(unknown, key=_by_name)


class FlagReviewForm(PlainTextMixin, forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text=_("What you did or decided, e.g. “called, appointment booked”."),
    )
