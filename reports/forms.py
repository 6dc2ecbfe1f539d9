"""The clinician screens' filter forms: a bad value gets its message and is left out; the page
still shows."""

from django import forms
from django.db.models import F, Q

from patients.forms import DATE_INPUT
from patients.models import Clinic, Level, Limb, Procedure


class CohortFilterForm(forms.Form):
    """Which patients: a clinic of the clinician's, and a range for the first TMR's date.
    A bad value gets its message next to the field and is left out; the page still shows."""

    clinic = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    surgery_from = forms.DateField(label="First TMR from", required=False, widget=DATE_INPUT)
    surgery_to = forms.DateField(label="First TMR to", required=False, widget=DATE_INPUT)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        # Choices from the clinics already fetched: a clinic that is not the clinician's is
        # "not one of the choices", and validating costs no query.
        self.fields["clinic"].choices = [("", "All my clinics")] + [
            (clinic.pk, clinic.name) for clinic in clinics
        ]
        for field in ("surgery_from", "surgery_to"):
            self.fields[field].widget.attrs["class"] = "form-control"

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("surgery_from"), cleaned.get("surgery_to")
        if start and end and start > end:
            self.add_error("surgery_to", "This date is before the “from” date.")
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


class DashboardForm(forms.Form):
    """Search, filters and sort order of the dashboard; a bad value is ignored, never fatal."""

    FLAGS = [
        ("worsening", "Getting worse"),
        ("stopped", "Stopped logging"),
        ("never", "Never logged"),
        ("no_surgery", "No TMR surgery yet"),
    ]
    # column: the fields it orders by, ascending
    SORTS = {
        "name": ["last_name", "first_name"],
        "mrn": ["mrn"],
        "clinic": ["clinic__name", "last_name"],
        "surgery": ["first_tmr_date"],
        "phantom": ["latest_phantom"],
        "residual": ["latest_residual"],
        "phantom7": ["recent_phantom"],
        "residual7": ["recent_residual"],
        "last_entry": ["last_entry_at"],
    }

    q = forms.CharField(label="Name or MRN", required=False, max_length=100)
    clinic = forms.ModelChoiceField(
        queryset=Clinic.objects.none(), required=False, empty_label="All my clinics"
    )
    limb = forms.ChoiceField(choices=[("", "Any limb"), *Limb.choices], required=False)
    level = forms.ChoiceField(choices=[("", "Any level"), *Level.choices], required=False)
    procedure = forms.ChoiceField(
        choices=[("", "Any procedure"), *Procedure.choices], required=False
    )
    flag = forms.ChoiceField(choices=[("", "Any"), *FLAGS], required=False)
    sort = forms.CharField(required=False, max_length=20)

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
        self.fields["q"].widget.attrs.update(type="search", placeholder="e.g. Reyes or MRN")

    def value(self, name):
        return self.cleaned_data.get(name) if self.is_valid() else None

    def filter(self, patients):
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
        flag = data["flag"]
        if flag == "worsening":
            patients = patients.filter(is_worsening=True)
        elif flag == "stopped":
            patients = patients.filter(has_stopped=True)
        elif flag == "never":
            patients = patients.filter(never_logged=True)
        elif flag == "no_surgery":
            patients = patients.filter(first_tmr_date__isnull=True)
        # The joins for limb, level and procedure can repeat a patient.
        return (
            patients.distinct() if data["limb"] or data["level"] or data["procedure"] else patients
        )

    def ordering(self):
        """The sort key in use ("-x" descending) and the ORDER BY for it."""
        key = (self.value("sort") or "").strip()
        column = key.removeprefix("-")
        if column not in self.SORTS:
            # Patients needing attention first, then by name.
            return "", [
                F("is_worsening").desc(),
                F("has_stopped").desc(),
                "last_name",
                "first_name",
                "pk",
            ]
        descending = key.startswith("-")
        fields = [
            F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
            for name in self.SORTS[column]
        ]
        return key, [*fields, "pk"]
