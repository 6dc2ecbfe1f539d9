"""The Content-Security-Policy blocks nothing the pages need: no page of the demo logs a
violation in Chromium (an inline style or script would)."""

import pytest
from django.core.management import call_command

from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import give_second_factor


@pytest.fixture
def demo_data(transactional_db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = False


def visit_all(page, base, username, paths):
    violations = []
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("networkidle")
    give_second_factor(page, username)
    for path in paths:
        response = page.goto(base + path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    return violations


def test_patient_pages_raise_no_csp_violation(phone, live_server, demo_data):
    paths = ["/painlog/", "/painlog/new/", "/my-record/", "/accounts/two-factor/",
             "/accounts/two-factor/setup/"]  # fmt: skip
    assert visit_all(phone, live_server.url, "patient", paths) == []


def test_clinician_and_admin_pages_raise_no_csp_violation(desktop, live_server, demo_data):
    jordan = Patient.objects.get(mrn="DEMO-P001")
    paths = ["/dashboard/", "/dashboard/outcomes/", f"/patients/{jordan.pk}/",
             f"/painlog/patients/{jordan.pk}/", "/patients/new/"]  # fmt: skip
    assert visit_all(desktop, live_server.url, "clinician", paths) == []


def test_admin_pages_raise_no_csp_violation(desktop, live_server, demo_data):
    jordan = Patient.objects.get(mrn="DEMO-P001")
    paths = ["/admin/", "/admin/patients/patient/", f"/admin/patients/patient/{jordan.pk}/change/",
             "/admin/patients/accessevent/", "/admin/painlog/painentry/"]  # fmt: skip
    assert visit_all(desktop, live_server.url, "admin", paths) == []
