"""The rough edges a newcomer hit (issue 22): the navbar before the second factor, the login
page's words, the surgery form, the intake's prosthesis hours, the patient's entry list, and the
page that explains every figure."""

import datetime

import pytest
import time_machine
from django.contrib.staticfiles import finders
from django.urls import reverse

from accounts.models import AuthenticatorDevice
from painlog import outcomes
from painlog.models import PainEntry
from painlog.services import record_entry
from tests.conftest import PASSWORD, make_amputation, make_surgery

NOW = datetime.datetime(2026, 3, 14, 18, 30, tzinfo=datetime.UTC)


def password_login(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD}, follow=True)


# Before the second factor


@pytest.mark.parametrize("has_authenticator", [True, False])
def test_before_the_second_factor_the_navbar_shows_neither_menu_nor_name(
    client, clinician, has_authenticator
):
    if has_authenticator:
        AuthenticatorDevice.objects.create(user=clinician, name="phone", confirmed=True)
    page = password_login(client, "alice").content.decode()
    assert "Log out" in page
    assert "Signed in as" not in page and "Alice" not in page
    assert 'class="nav-link"' not in page
    assert reverse("accounts:two_factor_manage") not in page


def test_after_the_second_factor_the_navbar_shows_the_menu_and_name(client, clinician):
    client.force_login(clinician)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert "Signed in as Alice Clinician" in page
    assert reverse("accounts:two_factor_manage") in page


def test_a_patient_without_an_authenticator_has_their_menu_at_once(client, patient):
    page = password_login(client, "pat").content.decode()
    assert "My pain log" in page and "Signed in as" in page


def test_the_login_page_speaks_to_invited_patients_who_chose_their_own_login(client):
    page = client.get(reverse("login")).content.decode()
    assert "your clinic gave you" not in page
    assert "chose" in page
    assert reverse("accounts:invitation_code") in page


# The surgery form


@pytest.fixture
def amputation(patient):
    return make_amputation(patient)


def test_the_surgery_form_names_its_empty_choices_and_marks_empty_transfer_rows_optional(
    client, clinician, patient, amputation
):
    client.force_login(clinician)
    response = client.get(reverse("patients:surgery_create", args=[patient.pk]))
    page = response.content.decode()
    assert "---------" not in page
    assert "Choose the procedure" in page and "Choose the cut nerve" in page
    assert page.count("(optional)") == 3
    transfers = page[page.index("Nerve transfers") :]
    # Crispy marks a required field with an asterisk; the transfer rows have none.
    assert "asteriskField" not in transfers
    assert 'class="col-lg-8"' in transfers  # the motor target's wide column


def test_a_started_transfer_row_needs_both_nerve_and_target(client, clinician, patient, amputation):
    client.force_login(clinician)
    data = {
        "amputation": amputation.pk,
        "procedure": "secondary_tmr",
        "date": "2024-09-01",
        "transfers-TOTAL_FORMS": "3",
        "transfers-INITIAL_FORMS": "0",
        "transfers-0-target": "Soleus motor branch",
    }
    response = client.post(reverse("patients:surgery_create", args=[patient.pk]), data)
    assert response.status_code == 200
    assert "Choose the cut nerve, or leave the whole row empty." in response.content.decode()
    assert not patient.surgeries.exists()


def test_a_surgery_with_transfers_on_record_offers_one_spare_row(
    client, clinician, patient, amputation
):
    surgery = make_surgery(amputation, transfers=[("tibial", "Soleus motor branch")])
    client.force_login(clinician)
    response = client.get(reverse("patients:surgery_edit", args=[surgery.pk]))
    assert len(response.context["formset"].forms) == 2


def test_the_amputation_form_says_what_to_choose(client, clinician, patient):
    client.force_login(clinician)
    page = client.get(reverse("patients:amputation_create", args=[patient.pk])).content.decode()
    assert "---------" not in page
    assert "Choose the level" in page


# The intake's prosthesis hours


def test_the_prosthesis_hours_question_shows_only_once_daily_is_chosen(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("patients:intake_step", args=["treatment"])).content.decode()
    assert "css/intake.css" in page
    with open(finders.find("css/intake.css")) as stylesheet:
        rules = stylesheet.read()
    assert "#div_id_prosthesis_hours_per_day {\n    display: none;" in rules
    assert 'input[name="prosthesis_use"][value="daily"]:checked' in rules
    # An answer with a message stays shown, daily or not.
    assert "#id_prosthesis_hours_per_day.is-invalid" in rules


# The patient's entry list


def test_each_entry_in_the_patients_list_shows_its_details(client, patient):
    with time_machine.travel(NOW, tick=False):
        record_entry(
            entry=PainEntry(
                patient=patient,
                recorded_at=NOW,
                phantom_pain=6,
                residual_pain=3,
                sensations=["burning", "stabbing"],
                sleep_interference=5,
                activity_interference=4,
                medicine_taken="Gabapentin 300 mg",
                prosthesis_hours=8,
                phantom_frequency="few",
                episode_length="minutes",
                note="Long walk today",
            ),
            actor=patient.user,
        )
        client.force_login(patient.user)
        page = client.get(reverse("painlog:home")).content.decode()
    entries = page[page.index('id="entries-heading"') :]
    for words in (
        "Felt: burning, stabbing",
        "Phantom pain came: a few times",
        "A bout lasted: minutes",
        "Got in the way of sleep: 5 of 10",
        "Got in the way of daily life: 4 of 10",
        "Medicine: Gabapentin 300 mg",
        "Prosthesis worn: 8 hours",
        "Long walk today",
    ):
        assert words in entries
    assert "<dt>Residual limb pain</dt><dd>3</dd>" in entries
    # "Show the numbers" gives the weekly means, and sends to the list for each entry.
    numbers = page[page.index("Show the numbers") : page.index('id="entries-heading"')]
    assert "pain-chart-entries" not in numbers
    assert "#entries-heading" in numbers


# The page that explains every figure


def test_the_figures_page_explains_each_window_flag_verdict_and_worked_example(client):
    response = client.get(reverse("help_figures"))
    assert response.status_code == 200
    page = response.content.decode()
    for point in outcomes.TIME_POINTS:
        assert f"days {point.first_day} to {point.last_day}" in page
    for label in outcomes.FLAG_LABELS.values():
        assert str(label) in page  # lazily translated
    assert "Substantial" in page and "Baseline too low to judge" in page
    assert "−57.1%" in page and "−37.5%" in page and "too few entries (2)" in page
    assert "truncated toward zero" in page


@pytest.mark.parametrize(
    "url_name", ["reports:dashboard", "reports:patient_pain", "reports:cohort_outcomes"]
)
def test_the_pages_that_show_figures_link_to_their_explanation(
    client, clinician, patient, url_name
):
    client.force_login(clinician)
    args = [patient.pk] if url_name == "reports:patient_pain" else []
    page = client.get(reverse(url_name, args=args)).content.decode()
    assert reverse("help_figures") in page
    assert "PLP is phantom limb pain" in page


def test_a_newly_registered_patient_on_the_worklist_prompts_to_complete_the_record(
    client, clinician, patient
):
    client.force_login(clinician)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert reverse("patients:amputation_create", args=[patient.pk]) in page
    assert "Complete the clinical record" in page
    make_amputation(patient)
    page = client.get(reverse("reports:dashboard")).content.decode()
    assert "Complete the clinical record" not in page


def test_the_patients_record_explains_its_clinical_words(client, patient):
    client.force_login(patient.user)
    page = client.get(reverse("patients:my_record")).content.decode()
    assert "Medical record number" in page
    assert "TMR (targeted muscle reinnervation)" in page
    assert "Secondary (delayed) TMR" in page and "RPNI (regenerative" in page


def test_the_admin_prints_dates_as_the_app_does(client, site_admin, patient):
    make_amputation(patient, date=datetime.date(2024, 3, 1))
    client.force_login(site_admin)
    page = client.get(reverse("admin:patients_amputation_changelist")).content.decode()
    assert "1 Mar 2024" in page
    assert "March 1, 2024" not in page and "Mar. 1, 2024" not in page
