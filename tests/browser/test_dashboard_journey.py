"""Journey 2: a clinician finds on the dashboard the patient whose pain is getting worse after
TMR, and opens their review page. Every page on the way passes axe-core (WCAG 2.2 A and AA)."""

import datetime
import random
import statistics

import pytest
from django.utils import timezone

from tests.browser.conftest import assert_accessible, confirm_totp_device, log_in, screenshot
from tests.conftest import PASSWORD, make_amputation, make_diary, make_patient, make_surgery


def after_tmr(patient, *, last_week):
    """A delayed TMR 200 days ago: a month of diary around 7/6 before it, easing to 3/2 over
    the months after, a settled month around 3/2, then the last 7 days around `last_week`.
    Scores vary a little from day to day (seeded: the same every run). Returns the diary as
    (days ago, phantom, residual), oldest first."""
    today = timezone.localdate()
    amputation = make_amputation(patient, date=today - datetime.timedelta(days=400))
    make_surgery(
        amputation,
        procedure="secondary_tmr",
        date=today - datetime.timedelta(days=200),
        transfers=[("tibial", "Gastrocnemius, medial head")],
    )
    rng = random.Random(patient.mrn)  # noqa: S311 - test data

    def score(usual):
        return min(10, max(0, round(usual + rng.gauss(0, 0.6))))

    def day(days_ago):
        if days_ago > 200:
            phantom, residual = 7, 6
        elif days_ago > 34:
            eased = (days_ago - 35) / 165
            phantom, residual = 3 + 3 * eased, 2 + 4 * eased
        elif days_ago > 6:
            phantom, residual = 3, 2
        else:
            phantom, residual = last_week
        return days_ago, score(phantom), score(residual)

    diary = [day(days_ago) for days_ago in range(230, -1, -1)]
    make_diary(patient, diary)
    return diary


@pytest.fixture
def clinic_with_a_flare(clinic, clinician, patient):
    """Jordan Reyes is getting worse this week (6/5 on average, against 3/2 the 28 days
    before); Priya Shah, operated on the same day, is not."""
    confirm_totp_device(clinician)
    diary = after_tmr(patient, last_week=(6, 5))
    steady = make_patient(clinic, "MRN-2", username="priya", first_name="Priya", last_name="Shah")
    after_tmr(steady, last_week=(3, 2))
    return patient, diary


def test_clinician_finds_the_patient_getting_worse_and_opens_their_review(
    desktop, live_server, clinic_with_a_flare
):
    patient, diary = clinic_with_a_flare
    _today, latest_phantom, latest_residual = diary[-1]
    last_week = diary[-7:]
    baseline = statistics.mean(phantom for days_ago, phantom, _ in diary if days_ago > 200)
    log_in(desktop, live_server.url, "alice", PASSWORD)
    assert desktop.url == live_server.url + "/dashboard/"
    assert_accessible(desktop)
    rows = desktop.locator("tbody tr")
    assert rows.count() == 2
    # Those needing attention come first; only the flare carries the flag.
    assert rows.nth(0).get_by_role("link").inner_text() == "Reyes, Jordan"
    assert rows.nth(0).get_by_text("Getting worse").is_visible()
    assert rows.nth(1).get_by_text("Getting worse").count() == 0
    assert f"{latest_phantom} / {latest_residual}" in rows.nth(0).inner_text()
    week_average = (
        f"{statistics.mean(p for _, p, _ in last_week):.1f} / "
        f"{statistics.mean(r for _, _, r in last_week):.1f}"
    )
    assert week_average in rows.nth(0).inner_text()
    screenshot(desktop, "clinician-dashboard-getting-worse")
    # On a wide screen the worklist spans it (a fixed-width page left a third of it empty),
    # and the header's name lines up with the page below.
    desktop.set_viewport_size({"width": 1920, "height": 1080})
    table = desktop.locator("table.worklist").bounding_box()
    brand = desktop.locator(".navbar-brand").bounding_box()
    heading = desktop.get_by_role("heading", name="Patients", level=1).bounding_box()
    assert table["width"] > 1800 and abs(brand["x"] - heading["x"]) < 1
    desktop.set_viewport_size({"width": 1280, "height": 900})

    desktop.get_by_label("Flag", exact=True).select_option(label="Getting worse")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Show").click()
    assert desktop.locator("tbody tr").count() == 1
    assert "Shah" not in desktop.locator("tbody").inner_text()
    assert_accessible(desktop)

    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Reyes, Jordan").click()
    assert desktop.url == f"{live_server.url}/dashboard/patients/{patient.pk}/"
    assert desktop.get_by_role("heading", name="Jordan Reyes").is_visible()
    assert desktop.locator("svg[role=img]").first.is_visible()
    phantom = desktop.locator("caption", has_text="Phantom limb pain: baseline")
    assert f"baseline {baseline:.1f}; baseline from diary (30 entries)" in phantom.inner_text()
    assert_accessible(desktop)
    screenshot(desktop, "clinician-patient-review", full_page=False)
    # Every entry, with its history, is one link away; back to the review.
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Every entry, with its details").click()
    newest = desktop.locator("#entries-heading ~ div tbody tr").first.locator("td")
    assert (newest.nth(1).inner_text(), newest.nth(2).inner_text()) == (
        str(latest_phantom),
        str(latest_residual),
    )
    assert_accessible(desktop)
    with desktop.expect_navigation():
        desktop.go_back()
    # The flag says why, with its numbers; the clinician marks it reviewed with a note.
    assert desktop.get_by_text("Getting worse (PLP): 7-day mean").is_visible()
    desktop.get_by_label("Note (optional)").fill("Called: seen Friday")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Mark today's flags reviewed").click()
    assert desktop.get_by_text("Called: seen Friday").first.is_visible()
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Patients").first.click()
    reviewed = desktop.locator("tbody tr", has_text="Reyes, Jordan")
    assert reviewed.get_by_text("Getting worse").is_visible()
    assert reviewed.get_by_text("Reviewed").is_visible()
    assert reviewed.get_by_role("button", name="Mark reviewed").count() == 0


def test_clinician_reads_the_worklist_on_a_phone_without_sideways_scroll(
    phone, live_server, clinic_with_a_flare
):
    log_in(phone, live_server.url, "alice", PASSWORD)
    assert phone.url == live_server.url + "/dashboard/"
    card = phone.locator("table.worklist tbody tr").first
    assert "Reyes, Jordan" in card.inner_text() and "Getting worse" in card.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert misplaced_figures(phone) == []
    for width in (360, 320):
        phone.set_viewport_size({"width": width, "height": 780})
        assert phone.evaluate("document.documentElement.scrollWidth") <= width
        assert misplaced_figures(phone) == []
    assert_accessible(phone)
    screenshot(phone, "clinician-worklist-phone", full_page=False)


# Each figure of a card (a line per pain type where a cell has two) must lie inside its cell and
# beside the cell's label: a figure wider than its column spilled past the card by a few pixels,
# and a cell's second line fell under the label.
MISPLACED_FIGURES = """() => {
  const misplaced = [];
  for (const cell of document.querySelectorAll("table.worklist td[data-label]")) {
    const box = cell.getBoundingClientRect();
    const first = cell.children[0] && cell.children[0].getBoundingClientRect().left;
    for (const line of cell.children) {
      const left = line.getBoundingClientRect().left;
      const outside = left < box.left - 0.5 || left + line.scrollWidth > box.right + 0.5;
      if (outside || left !== first || left < box.left + 20) {
        misplaced.push(`${cell.dataset.label}: ${line.textContent.trim()}`);
      }
    }
  }
  return misplaced;
}"""


def misplaced_figures(page):
    return page.evaluate(MISPLACED_FIGURES)
