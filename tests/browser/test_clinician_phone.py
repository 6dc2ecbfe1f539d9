"""A clinician's pages on a phone: the cohort chart keeps every label inside it (its text is
largest against the drawing there), and every page passes axe-core with its tables' boxes,
which scroll sideways, reachable by keyboard, and never scrolls sideways itself, however long
a word people typed."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from painlog.models import PainEntry
from patients import medicine_catalogue
from patients.demo import DEMO_PASSWORD
from patients.models import MedicineRegimen, Patient
from reports.models import FlagReview
from tests.browser.conftest import (
    assert_accessible,
    axe_violations,
    has_horizontal_scroll,
    log_in,
    screenshot,
)

# Each text of the chart's SVG that runs past the drawing's box on screen, as [text, left, right]
# (in CSS pixels, rotated texts included).
TEXTS_OUTSIDE = """() => {
  const svg = document.querySelector("svg.cohort-chart-svg");
  const edge = svg.getBoundingClientRect();
  return [...svg.querySelectorAll("text")]
    .map((text) => [text.textContent.trim(), text.getBoundingClientRect()])
    .filter(([, box]) => box.left < edge.left - 0.5 || box.right > edge.right + 0.5)
    .map(([words, box]) => [words, box.left - edge.left, box.right - edge.left]);
}"""


# The title (caption) of each table in a sideways-scrolling box that runs past the box: a reader
# would have to scroll the table to read it.
CAPTIONS_CUT = """() => [...document.querySelectorAll(".table-responsive > table > caption")]
  .filter((caption) => {
    const box = caption.closest(".table-responsive").getBoundingClientRect();
    const edges = caption.getBoundingClientRect();
    return edges.left < box.left - 0.5 || edges.right > box.right + 0.5;
  })
  .map((caption) => caption.textContent.trim().slice(0, 60))"""


def test_every_label_of_the_cohort_chart_stays_inside_it(phone, live_server, demo_data):
    phone.set_viewport_size({"width": 360, "height": 800})
    log_in(phone, live_server.url, "clinician", DEMO_PASSWORD)
    phone.goto(live_server.url + "/dashboard/outcomes/")
    # The demo's 24-month figures rest on one patient: drawn faint, with "n = 1" beside each
    # marker, the residual one to its right, where the chart ends.
    assert phone.locator("svg.cohort-chart-svg text", has_text="n = 1").count() == 2
    for width in (360, 768, 1366):
        phone.set_viewport_size({"width": width, "height": 800})
        assert phone.evaluate(TEXTS_OUTSIDE) == [], f"at {width} px"
        assert not has_horizontal_scroll(phone)
    phone.set_viewport_size({"width": 360, "height": 800})
    phone.locator("svg.cohort-chart-svg").scroll_into_view_if_needed()
    assert_accessible(phone)
    screenshot(phone, "cohort-chart-phone", full_page=False)


def test_a_clinicians_pages_on_a_phone_pass_axe_with_every_table_box_reachable(
    phone, live_server, demo_data
):
    """Tables wider than a phone scroll in their box, their titles wrapped within it: the
    keyboard must reach the box too. Text typed without a space (a pasted link, a medicine's
    name, a review note, a long surname) wraps instead."""
    patient = Patient.objects.get(mrn="DEMO-0014")
    # A real surname, wider than a phone's card in the worklist's large type.
    Patient.objects.filter(pk=patient.pk).update(last_name="Wolfeschlegelsteinhausenbergerdorff")
    PainEntry.objects.create(
        patient=patient,
        phantom_pain=5,
        residual_pain=2,
        note="https://example.org/" + "a" * 200,
        medicine_taken="Oxycodone" * 30,
        entered_by=patient.user,
    )
    FlagReview.objects.create(
        patient=patient,
        reviewed_by=get_user_model().objects.get(username="clinician"),
        reviewed_at=timezone.now(),
        note="x" * 500,
    )
    MedicineRegimen.objects.filter(pk=patient.medicines.first().pk).update(
        medicine=medicine_catalogue.OTHER, other_name="Gabapentinoid" * 7
    )
    phone.set_viewport_size({"width": 360, "height": 800})
    log_in(phone, live_server.url, "clinician", DEMO_PASSWORD)
    failures = []
    for path in (
        f"/dashboard/patients/{patient.pk}/",
        f"/dashboard/patients/{patient.pk}/entries/",
        f"/dashboard/patients/{patient.pk}/summary/",
        f"/patients/{patient.pk}/",
        f"/patients/{patient.pk}/medicines/",
        "/help/figures/",
        "/dashboard/exports/",
        "/dashboard/outcomes/",
        "/dashboard/",
    ):
        # A page that is not there would pass every check below.
        assert phone.goto(live_server.url + path).status == 200, path
        if has_horizontal_scroll(phone):
            failures.append(f"{path}: the page scrolls sideways")
        failures += [
            f"{path}: caption past its box: {words}" for words in phone.evaluate(CAPTIONS_CUT)
        ]
        # Folded tables too: a box that scrolls once opened must take the keyboard's focus.
        phone.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        failures += [f"{path}: {line}" for line in axe_violations(phone)]
    assert not failures, "\n".join(failures)
