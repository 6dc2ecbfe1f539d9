"""Journey 4: a patient corrects an entry within 24 hours on their phone; an admin finds the
entry in the Django admin and sees its change history. Every page on the way passes axe-core
(WCAG 2.2 A and AA); the admin's pages too, with static/css/admin.css."""

import re

import pytest

from painlog.models import PainEntry, PainEntryChange, Source
from painlog.services import record_entry
from tests.browser.conftest import (
    assert_accessible,
    confirm_totp_device,
    log_in,
    screenshot,
)
from tests.conftest import PASSWORD


@pytest.fixture
def entry_to_correct(patient):
    """Saved by the patient a moment ago: still within the 24 hours for corrections."""
    entry, _created = record_entry(
        entry=PainEntry(patient=patient, phantom_pain=6, residual_pain=4, source=Source.PATIENT),
        actor=patient.user,
    )
    return entry


def test_admin_sees_the_history_of_an_entry_the_patient_corrected(
    phone, desktop, live_server, entry_to_correct, site_admin
):
    log_in(phone, live_server.url, "pat", PASSWORD)
    phone.get_by_role("link", name="Correct the entry of").tap()
    phone.wait_for_url(f"{live_server.url}/painlog/{entry_to_correct.pk}/edit/")
    assert phone.get_by_role("heading", name="Correct your entry").is_visible()
    assert_accessible(phone)
    # The correction names the entry's own time, not "right now".
    phone.get_by_role("group", name=re.compile(r"^Phantom limb pain on ")).get_by_role(
        "radio", name="4", exact=True
    ).tap()
    screenshot(phone, "patient-correct-entry", full_page=False)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Save correction").first.tap()
    assert phone.get_by_text("Your correction is saved.").is_visible()
    assert "Phantom limb pain\n4" in phone.locator("#entries-heading ~ ul li").first.inner_text()
    assert_accessible(phone)
    entry_to_correct.refresh_from_db()
    assert (entry_to_correct.phantom_pain, entry_to_correct.residual_pain) == (4, 4)

    confirm_totp_device(site_admin)
    log_in(desktop, live_server.url, "root", PASSWORD)
    assert desktop.url == live_server.url + "/admin/"
    assert_accessible(desktop)
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Pain entries").click()
    assert_accessible(desktop)
    desktop.get_by_role("textbox", name="Search").fill("Reyes")
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Search").click()
    results = desktop.locator("#result_list tbody tr")
    assert results.count() == 1
    assert_accessible(desktop)
    with desktop.expect_navigation():
        results.first.get_by_role("link", name="Jordan Reyes (MRN-1)").click()
    assert desktop.url.startswith(
        f"{live_server.url}/admin/painlog/painentry/{entry_to_correct.pk}/change/"
    )

    # Read-only: the patient's own words are never rewritten here.
    assert desktop.get_by_role("button", name="Save").count() == 0
    # Every version in words, on the entry's page and behind its History button.
    versions = desktop.locator(".field-versions").inner_text()
    assert "phantom pain: 6" in versions and "phantom pain 6 → 4" in versions
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="History").click()
    rows = desktop.locator("#change-history tbody tr")
    assert rows.count() == 2
    first, second = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "Created" in first and "phantom pain: 6" in first
    assert "Corrected" in second and "phantom pain 6 → 4" in second and "pat" in second
    assert PainEntryChange.objects.filter(entry=entry_to_correct).count() == 2
    assert_accessible(desktop)
    screenshot(desktop, "admin-pain-entry-history")
