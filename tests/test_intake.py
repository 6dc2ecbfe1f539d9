"""The patient's step-by-step intake, /intake/ and /intake/<step>/."""

import datetime
import re

import pytest
import time_machine
from django.forms.models import model_to_dict
from django.urls import reverse

from patients.models import Intake, Patient

START_URL = reverse("patients:intake")
SENT_AT = datetime.datetime(2026, 3, 3, 14, 5, tzinfo=datetime.UTC)

# What a patient types into each step, as the browser sends it.
LIMBS = {"limbs": ["left_leg"], "amputation_story": "Below the knee, after a crush at work."}
PAIN = {
    "pain_onset": "first_week",
    "phantom_pain": "7",
    "phantom_pain_frequency": "several_daily",
    "residual_pain": "0",
    "residual_pain_frequency": "rarely",
    "sensations": ["electric", "burning"],
}
TREATMENT = {
    "pain_medicines": "Gabapentin 300 mg three times a day",
    "takes_opioids": "no",
    "prosthesis_use": "daily",
    "prosthesis_hours_per_day": "8",
}
HOPES = {"hopes": "Sleep through the night and walk my dog again."}
ANSWERS = {"limbs": LIMBS, "pain": PAIN, "treatment": TREATMENT, "hopes": HOPES}


@pytest.fixture(autouse=True)
def clinic_in_utc(settings):
    # Dates on the page are in the clinic's zone; pin it so they do not depend on the host.
    settings.TIME_ZONE = "UTC"


def step_url(slug):
    return reverse("patients:intake_step", args=[slug])


def save_steps(client, *slugs):
    for slug in slugs:
        response = client.post(step_url(slug), ANSWERS[slug])
        assert response.status_code == 302, response.content.decode()


def answers_of(patient):
    """Everything the patient answered, without the bookkeeping timestamps."""
    intake = Intake.objects.get(patient=patient)
    return model_to_dict(intake, exclude=["id", "started_at", "updated_at"])


def make_intake(patient, **answers):
    """A half-done intake: the first two steps answered."""
    fields = {"left_arm": True, "phantom_pain": 4, "residual_pain": 2, "hopes": "Less pain."}
    return Intake.objects.create(patient=patient, **{**fields, **answers})


def next_to(body, field):
    """The HTML of one field's block on the page, from its wrapper to the next field's."""
    start = body.index(f'id="div_id_{field}"')
    following = re.compile(r'id="div_id_|</form>').search(body, start + 1)
    return body[start : following.start()]


# The whole way through


def test_patient_answers_every_step_and_sends_the_intake(client, patient):
    client.force_login(patient.user)
    assert client.get(START_URL)["Location"] == step_url("limbs")
    for slug, following in [
        ("limbs", "pain"),
        ("pain", "treatment"),
        ("treatment", "hopes"),
        ("hopes", "review"),
    ]:
        page = client.get(step_url(slug))
        assert page.status_code == 200
        assert "Save and continue" in page.content.decode()
        response = client.post(step_url(slug), ANSWERS[slug])
        assert response["Location"] == step_url(following)

    review = client.get(step_url("review")).content.decode()
    assert "Left leg" in review and "7 out of 10" in review and "0 out of 10" in review
    assert "Electric shocks" in review and "Send to my clinic" in review

    with time_machine.travel(SENT_AT, tick=False):
        response = client.post(step_url("review"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("painlog:home")
    assert "Your answers have been sent to Lakeside" in response.content.decode()
    assert answers_of(patient) == {
        "patient": patient.pk,
        "left_arm": False,
        "right_arm": False,
        "left_leg": True,
        "right_leg": False,
        "amputation_story": "Below the knee, after a crush at work.",
        "pain_onset": "first_week",
        "phantom_pain": 7,
        "residual_pain": 0,
        "phantom_pain_frequency": "several_daily",
        "residual_pain_frequency": "rarely",
        # In the list's own order, whatever order they were ticked in.
        "sensations": ["burning", "electric"],
        "pain_medicines": "Gabapentin 300 mg three times a day",
        "takes_opioids": "no",
        "prosthesis_use": "daily",
        "prosthesis_hours_per_day": 8,
        "hopes": "Sleep through the night and walk my dog again.",
        "completed_at": SENT_AT,
    }


def test_a_pain_score_of_zero_is_an_answer(client, patient):
    client.force_login(patient.user)
    save_steps(client, "limbs")
    client.post(step_url("pain"), {"phantom_pain": "0", "residual_pain": "0"})

    intake = Intake.objects.get(patient=patient)
    assert (intake.phantom_pain, intake.residual_pain) == (0, 0)
    assert client.post(step_url("review"))["Location"] == reverse("painlog:home")
    assert Intake.objects.get(patient=patient).is_complete


def test_every_step_page_shows_its_place_and_plain_explanations(client, patient):
    client.force_login(patient.user)
    body = client.get(step_url("pain")).content.decode()
    assert "Step 2 of 4" in body
    assert "pain you feel in the part of your limb that is gone" in body
    assert "pain in the part of your limb that remains" in body
    assert "0 = no pain" in body and "10 = worst pain imaginable" in body
    assert body.count('type="radio" name="phantom_pain"') == 11
    assert "css/pain-scale.css" in body
    assert "style=" not in body and "<script>" not in body


# Stopping and coming back


def test_nothing_is_stored_until_the_patient_saves_a_step(client, patient):
    client.force_login(patient.user)
    for slug in ["limbs", "pain", "treatment", "hopes", "review"]:
        assert client.get(step_url(slug)).status_code == 200
    assert not Intake.objects.filter(patient=patient).exists()


def test_patient_who_stopped_half_way_resumes_at_the_first_unanswered_step(client, patient):
    client.force_login(patient.user)
    save_steps(client, "limbs", "pain")
    client.logout()

    client.force_login(patient.user)
    assert client.get(START_URL)["Location"] == step_url("treatment")
    save_steps(client, "treatment", "hopes")
    assert client.get(START_URL)["Location"] == step_url("review")


def test_going_back_shows_the_answers_already_saved(client, patient):
    client.force_login(patient.user)
    save_steps(client, "limbs", "pain")
    pain = client.get(step_url("pain")).content.decode()
    assert re.search(r'value="7"[^>]*checked', pain)
    assert re.search(r'value="0"[^>]*checked', pain)
    assert re.search(r'value="electric"[^>]*checked', pain)
    limbs = client.get(step_url("limbs")).content.decode()
    assert re.search(r'value="left_leg"[^>]*checked', limbs)
    assert not re.search(r'value="right_leg"[^>]*checked', limbs)


def test_saving_a_step_changes_only_that_steps_answers(client, patient):
    make_intake(patient, pain_medicines="Paracetamol")
    client.force_login(patient.user)
    save_steps(client, "limbs")
    intake = Intake.objects.get(patient=patient)
    assert (intake.left_arm, intake.left_leg) == (False, True)
    assert (intake.phantom_pain, intake.pain_medicines, intake.hopes) == (
        4,
        "Paracetamol",
        "Less pain.",
    )


# Bad input


HOSTILE = [
    ("limbs", {}, "limbs", "Tick at least one: left arm, right arm, left leg or right leg."),
    ("limbs", {"limbs": ["tail"]}, "limbs", "Choose from the arms and legs listed."),
    (
        "limbs",
        {"limbs": ["left_leg"], "amputation_story": "x" * 2001},
        "amputation_story",
        "Please shorten this to 2000 characters or fewer (it has 2001).",
    ),
    ("pain", {**PAIN, "phantom_pain": "11"}, "phantom_pain", "“11” is not on the scale."),
    ("pain", {**PAIN, "phantom_pain": "-1"}, "phantom_pain", "“-1” is not on the scale."),
    ("pain", {**PAIN, "residual_pain": "abc"}, "residual_pain", "“abc” is not on the scale."),
    ("pain", {**PAIN, "residual_pain": "5.5"}, "residual_pain", "“5.5” is not on the scale."),
    (
        "pain",
        {**PAIN, "phantom_pain": ""},
        "phantom_pain",
        "Choose how strong your phantom limb pain is, from 0 to 10.",
    ),
    (
        "pain",
        {key: value for key, value in PAIN.items() if key != "residual_pain"},
        "residual_pain",
        "Choose how strong your residual limb pain is, from 0 to 10.",
    ),
    (
        "pain",
        {**PAIN, "sensations": ["burning", "tingling"]},
        "sensations",
        "Choose from the feelings listed.",
    ),
    ("pain", {**PAIN, "pain_onset": "yesterday"}, "pain_onset", "Choose one of the answers shown."),
    (
        "pain",
        {**PAIN, "phantom_pain_frequency": "hourly"},
        "phantom_pain_frequency",
        "Choose one of the answers shown.",
    ),
    (
        "treatment",
        {**TREATMENT, "prosthesis_hours_per_day": "25"},
        "prosthesis_hours_per_day",
        "A day has 24 hours: enter a number from 0 to 24.",
    ),
    (
        "treatment",
        {**TREATMENT, "prosthesis_hours_per_day": "-1"},
        "prosthesis_hours_per_day",
        "Enter the hours as a whole number from 0 to 24",
    ),
    (
        "treatment",
        {**TREATMENT, "prosthesis_hours_per_day": "abc"},
        "prosthesis_hours_per_day",
        "Enter the hours as a whole number from 0 to 24",
    ),
    (
        "treatment",
        {**TREATMENT, "prosthesis_use": "occasional"},
        "prosthesis_hours_per_day",
        "Hours are only for a prosthesis worn every day.",
    ),
    (
        "treatment",
        {**TREATMENT, "prosthesis_use": ""},
        "prosthesis_hours_per_day",
        "Hours are only for a prosthesis worn every day.",
    ),
    (
        "treatment",
        {**TREATMENT, "pain_medicines": "y" * 1001},
        "pain_medicines",
        "Please shorten this to 1000 characters or fewer (it has 1001).",
    ),
    ("treatment", {**TREATMENT, "takes_opioids": "maybe"}, "takes_opioids", "Choose one of"),
    (
        "hopes",
        {"hopes": "z" * 2001},
        "hopes",
        "Please shorten this to 2000 characters or fewer (it has 2001).",
    ),
]


@pytest.mark.parametrize(("slug", "data", "field", "message"), HOSTILE)
def test_bad_answer_is_explained_next_to_its_question_and_nothing_is_stored(
    client, patient, slug, data, field, message
):
    make_intake(patient)
    before = answers_of(patient)
    client.force_login(patient.user)

    response = client.post(step_url(slug), data)

    assert response.status_code == 200
    body = response.content.decode()
    assert message in next_to(body, field)
    assert "Please check" in body
    assert answers_of(patient) == before


def test_bad_first_answer_does_not_create_an_intake(client, patient):
    client.force_login(patient.user)
    client.post(step_url("pain"), {**PAIN, "phantom_pain": "11"})
    assert not Intake.objects.filter(patient=patient).exists()


def test_hours_are_kept_when_the_prosthesis_is_worn_daily(client, patient):
    client.force_login(patient.user)
    client.post(
        step_url("treatment"), {"prosthesis_use": "daily", "prosthesis_hours_per_day": "24"}
    )
    assert Intake.objects.get(patient=patient).prosthesis_hours_per_day == 24


# Sending


def test_sending_is_refused_while_the_pain_scores_are_missing(client, patient):
    client.force_login(patient.user)
    save_steps(client, "limbs", "treatment", "hopes")

    review = client.get(step_url("review")).content.decode()
    assert "Before you can send this" in review
    assert f'href="{step_url("pain")}">Go to step 2: Your pain</a>' in review
    assert "How strong your phantom limb pain and residual limb pain are." in review
    assert "Go to step 1" not in review and "Where your amputation is" not in review
    assert "Send to my clinic" not in review

    response = client.post(step_url("review"), follow=True)
    assert response.redirect_chain == [(step_url("review"), 302)]
    assert "please check step 2 (your pain)" in response.content.decode()
    assert not Intake.objects.get(patient=patient).is_complete


def test_sending_is_refused_while_no_limb_is_ticked(client, patient):
    Intake.objects.create(patient=patient, phantom_pain=3, residual_pain=3)
    client.force_login(patient.user)
    response = client.post(step_url("review"), follow=True)
    assert "please check step 1 (your amputation)" in response.content.decode()
    assert not Intake.objects.get(patient=patient).is_complete


def test_sending_before_answering_anything_stores_nothing(client, patient):
    client.force_login(patient.user)
    client.post(step_url("review"))
    assert not Intake.objects.filter(patient=patient).exists()


def test_review_says_not_answered_for_blank_answers(client, patient):
    client.force_login(patient.user)
    save_steps(client, "limbs")
    body = client.get(step_url("review")).content.decode()
    assert body.count("Not answered") == 11  # all but the limbs and the story


def test_review_escapes_what_the_patient_typed(client, patient):
    client.force_login(patient.user)
    client.post(
        step_url("limbs"), {"limbs": ["right_arm"], "amputation_story": "<script>x()</script>"}
    )
    body = client.get(step_url("review")).content.decode()
    assert "<script>x()</script>" not in body and "&lt;script&gt;" in body


# After sending


@pytest.fixture
def sent_intake(patient):
    return make_intake(patient, completed_at=SENT_AT)


@pytest.mark.parametrize("slug", ["limbs", "pain", "treatment", "hopes"])
def test_a_sent_intake_cannot_be_changed(client, patient, sent_intake, slug):
    before = answers_of(patient)
    client.force_login(patient.user)
    assert client.get(step_url(slug))["Location"] == step_url("review")
    assert client.post(step_url(slug), ANSWERS[slug])["Location"] == step_url("review")
    assert client.post(step_url("review"))["Location"] == step_url("review")
    assert answers_of(patient) == before


def test_a_sent_intake_is_shown_read_only_with_the_date_it_was_sent(client, patient, sent_intake):
    client.force_login(patient.user)
    assert client.get(START_URL)["Location"] == step_url("review")
    body = client.get(step_url("review")).content.decode()
    assert "You sent these answers to Lakeside on 3 March 2026 at 14:05" in body
    assert "Send to my clinic" not in body and "Change an answer" not in body
    assert "4 out of 10" in body


@pytest.mark.parametrize("slug", ["nope", "Review", "limbs2"])
def test_unknown_step_is_404(client, patient, slug):
    client.force_login(patient.user)
    assert client.get(step_url(slug)).status_code == 404
    assert client.post(step_url(slug), LIMBS).status_code == 404


def test_pages_are_not_cached_and_refuse_other_methods(client, patient):
    client.force_login(patient.user)
    response = client.get(step_url("limbs"))
    assert "no-store" in response["Cache-Control"]
    assert client.put(step_url("limbs")).status_code == 405
    assert client.post(START_URL).status_code == 405


# Who may use it


def test_another_patient_only_ever_sees_and_changes_their_own_intake(
    client, patient, other_patient
):
    make_intake(patient, amputation_story="Jordan's own story")
    before = answers_of(patient)
    client.force_login(other_patient.user)

    assert "Jordan&#x27;s own story" not in client.get(step_url("review")).content.decode()
    assert client.get(START_URL)["Location"] == step_url("limbs")
    save_steps(client, "limbs", "pain")
    client.post(step_url("review"))

    assert answers_of(patient) == before
    theirs = Intake.objects.get(patient=other_patient)
    assert theirs.left_leg and theirs.phantom_pain == 7 and theirs.is_complete


@pytest.mark.parametrize("who", ["clinician", "colleague", "outsider", "site_admin"])
def test_staff_get_404_everywhere_in_the_intake(client, request, patient, who):
    make_intake(patient)
    before = answers_of(patient)
    client.force_login(request.getfixturevalue(who))
    assert client.get(START_URL).status_code == 404
    for slug in ["limbs", "pain", "treatment", "hopes", "review"]:
        assert client.get(step_url(slug)).status_code == 404
        assert client.post(step_url(slug), ANSWERS.get(slug, {})).status_code == 404
    assert answers_of(patient) == before


def test_archived_patient_gets_404(client, patient):
    Patient.objects.filter(pk=patient.pk).update(archived_at=SENT_AT)
    client.force_login(patient.user)
    assert client.get(START_URL).status_code == 404
    assert client.post(step_url("limbs"), LIMBS).status_code == 404
    assert not Intake.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("url", [START_URL, step_url("limbs"), step_url("review")])
def test_anonymous_visitor_is_sent_to_login(client, patient, url):
    assert client.get(url)["Location"].startswith(reverse("login"))
    assert client.post(url, LIMBS)["Location"].startswith(reverse("login"))
    assert not Intake.objects.filter(patient=patient).exists()


# Cost


def test_a_step_page_takes_a_fixed_number_of_queries(client, patient, django_assert_num_queries):
    make_intake(patient)
    client.force_login(patient.user)
    # 1 the session, 2 the user, 3 the role (decided on every request, issue 21), 4 the patient
    # with their clinic and the role check, 5 the intake.
    with django_assert_num_queries(5):
        response = client.get(step_url("pain"))
    assert response.status_code == 200
