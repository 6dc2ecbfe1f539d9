from django import forms
from django.db.models import Q

from .models import Clinic


class PatientSearchForm(forms.Form):
    """The filters above the clinician's patient list; bad values are ignored, not fatal."""

    q = forms.CharField(
        label="Name or MRN",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "class": "form-control", "placeholder": "e.g. Reyes or MRN"}
        ),
    )
    clinic = forms.ModelChoiceField(
        queryset=Clinic.objects.none(),
        required=False,
        empty_label="All my clinics",
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics

    def filter(self, patients):
        if not self.is_valid():
            return patients
        query = self.cleaned_data["q"].strip()
        if query:
            for word in query.split():
                patients = patients.filter(
                    Q(first_name__icontains=word)
                    | Q(last_name__icontains=word)
                    | Q(mrn__icontains=word)
                )
        if self.cleaned_data["clinic"]:
            patients = patients.filter(clinic=self.cleaned_data["clinic"])
        return patients
