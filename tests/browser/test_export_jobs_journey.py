"""Journey: a clinician starts the clinic's FHIR export from the cohort page, watches the
progress bar move on the job's page (updated by static/js/export-progress.js, no reload),
downloads the file when it is ready and it reads back as a valid FHIR R4B Bundle.

The test plays the worker: it runs the queued job in this process (reports.jobs.run, as
`manage.py db_worker` would) and, at each quarter of the diary, waits until the page in the
browser shows that much progress, so the bar is seen to move however fast the export is."""

import json
import time

from fhir.resources.R4B.bundle import Bundle

from patients.demo import DEMO_PASSWORD
from reports import jobs
from reports.models import ExportJob
from tests.browser.conftest import PHONE, assert_accessible, log_in, screenshot

BAR = "[data-export-bar]"


def bar_reaches(page, percent, seconds=10):
    """The bar's value once it shows at least `percent` (the page asks every 2 seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = int(page.locator(BAR).get_attribute("value"))
        if value >= percent:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"the bar stayed at {value}%, below {percent}%")


def test_a_clinician_watches_the_fhir_export_and_downloads_a_valid_bundle(
    desktop, live_server, demo_data, monkeypatch, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = desktop
    log_in(page, live_server.url, "clinician", DEMO_PASSWORD)
    page.goto(live_server.url + "/dashboard/outcomes/")
    page.get_by_role("link", name="Records and pain entries (FHIR bundle)").click()
    page.wait_for_load_state("domcontentloaded")
    assert_accessible(page)
    page.get_by_role("button", name="Start the export").click()
    page.wait_for_load_state("domcontentloaded")
    assert "/dashboard/exports/" in page.url
    assert page.locator("[data-export-label]").inner_text() == "Waiting for a worker"
    assert_accessible(page)
    screenshot(page, "export-job-queued")

    job = ExportJob.objects.get()
    seen = []
    original = jobs._Run.count

    def count_and_watch(run, amount=1):
        original(run, amount)
        if run.total and run.done in {run.total // 4, run.total // 2, 3 * run.total // 4}:
            run.heartbeat(force=True)
            percent = run.done * 100 // run.total
            seen.append(bar_reaches(page, percent))
            if len(seen) == 2:
                screenshot(page, "export-job-running")

    monkeypatch.setattr(jobs._Run, "count", count_and_watch)
    jobs.run(job.pk, job.attempt)

    # The bar moved on its own, the page never reloaded, and it ends on the download.
    assert len(seen) == 3 and seen == sorted(seen) and 0 < seen[0] < seen[-1] < 100
    download_button = page.get_by_role("link", name="Download")
    download_button.wait_for(state="visible", timeout=10_000)
    assert page.locator(BAR).get_attribute("value") == "100"
    assert page.locator("[data-export-label]").inner_text() == "Ready to download"
    assert_accessible(page)
    screenshot(page, "export-job-done")

    with page.expect_download() as download:
        download_button.click()
    path = tmp_path / "bundle.json"
    job.refresh_from_db()
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    bundle = Bundle.model_validate_json(text)
    # Three Observations a diary entry (the entry, its two scores); daily MME and questionnaire
    # scores are Observations too, of other codes.
    diary = [
        e
        for e in bundle.entry
        if e.resource.__resource_type__ == "Observation"
        and (e.resource.code.text == "Pain diary entry" or e.resource.code.text.endswith("0-10"))
    ]
    assert len(diary) == 3 * job.rows_total > 0
    assert json.loads(text)["type"] == "collection"

    # On a phone, the list of exports leads back to it.
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/dashboard/exports/")
    assert page.get_by_role("link", name="Download").count() == 1
    assert_accessible(page)
    screenshot(page, "export-jobs-list-phone")
