"""The Content-Security-Policy blocks nothing the pages need: no page of the demo logs a
violation in Chromium (an inline style or script would)."""

from patients.demo import DEMO_PASSWORD
from patients.models import Patient
from tests.browser.conftest import log_in


def visit_all(page, base, username, paths):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, base, username, DEMO_PASSWORD)
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
             f"/dashboard/patients/{jordan.pk}/", "/patients/new/"]  # fmt: skip
    assert visit_all(desktop, live_server.url, "clinician", paths) == []


def test_admin_pages_raise_no_csp_violation(desktop, live_server, demo_data):
    jordan = Patient.objects.get(mrn="DEMO-P001")
    paths = ["/admin/", "/admin/patients/patient/", f"/admin/patients/patient/{jordan.pk}/change/",
             "/admin/patients/accessevent/", "/admin/painlog/painentry/"]  # fmt: skip
    assert visit_all(desktop, live_server.url, "admin", paths) == []
