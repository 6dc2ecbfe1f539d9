"""Each demo user logs in through a real browser and lands on the home for their role."""

from patients.demo import DEMO_PASSWORD
from tests.browser.conftest import assert_accessible, log_in, open_menu, screenshot


def log_in_watching_requests(page, live_server, username):
    """Log in as a demo user; returns the list, filled as pages load, of requests that left
    the app's own server."""
    outside = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else outside.append(request.url)
        ),
    )
    log_in(page, live_server.url, username, DEMO_PASSWORD)
    page.wait_for_load_state("networkidle")
    return outside


def test_patient_on_a_phone_lands_on_their_pain_log_and_logs_out(phone, live_server, demo_data):
    phone.goto(live_server.url + "/")
    assert phone.url == live_server.url + "/accounts/login/"
    assert_accessible(phone)
    screenshot(phone, "login-phone")
    outside = log_in_watching_requests(phone, live_server, "patient")
    assert phone.url == live_server.url + "/painlog/"
    assert phone.get_by_role("heading", name="Hello, Jordan").is_visible()
    assert phone.get_by_text("Lakeside Limb Restoration Center").first.is_visible()
    # Bootstrap's CSS and JS come from the app itself: the menu only opens if the JS loaded.
    assert outside == []
    assert phone.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    screenshot(phone, "patient-home-phone")
    open_menu(phone)
    phone.get_by_role("button", name="Log out").click()
    phone.wait_for_url(live_server.url + "/accounts/login/")
    phone.goto(live_server.url + "/painlog/")
    assert phone.url.startswith(live_server.url + "/accounts/login/")


def test_clinician_lands_on_the_dashboard_and_opens_a_patient(desktop, live_server, demo_data):
    outside = log_in_watching_requests(desktop, live_server, "clinician")
    assert desktop.url == live_server.url + "/dashboard/"
    assert outside == []
    assert desktop.get_by_role("heading", name="Patients").is_visible()
    rows = desktop.locator("tbody tr")
    assert rows.count() > 5
    assert "Northfield" not in desktop.locator("tbody").inner_text()
    screenshot(desktop, "clinician-dashboard")
    desktop.get_by_label("Name or MRN").fill("Reyes")
    desktop.get_by_role("button", name="Show").click()
    desktop.get_by_role("link", name="Reyes, Jordan").click()
    assert desktop.get_by_role("heading", name="Jordan Reyes").is_visible()
    screenshot(desktop, "clinician-patient-record")


def test_clinician_of_the_second_clinic_sees_only_theirs(desktop, live_server, demo_data):
    log_in(desktop, live_server.url, "clinician2", DEMO_PASSWORD)
    assert desktop.url == live_server.url + "/dashboard/"
    assert "Lakeside" not in desktop.locator("tbody").inner_text()
    assert "Reyes" not in desktop.locator("tbody").inner_text()


def test_admin_lands_on_the_admin(desktop, live_server, demo_data):
    log_in(desktop, live_server.url, "admin", DEMO_PASSWORD)
    assert desktop.url == live_server.url + "/admin/"
    assert desktop.get_by_role("link", name="Patients", exact=True).first.is_visible()
    screenshot(desktop, "admin-home")


def test_wrong_password_shows_a_message_next_to_the_form(phone, live_server, demo_data):
    phone.goto(live_server.url + "/accounts/login/")
    phone.get_by_label("Username").fill("patient")
    phone.get_by_label("Password").fill("not the password")
    phone.get_by_role("button", name="Log in").click()
    assert phone.get_by_text("Please enter a correct username and password").is_visible()
    assert_accessible(phone)
    assert phone.url.startswith(live_server.url + "/accounts/login/")
