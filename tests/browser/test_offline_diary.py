"""The offline diary in Chromium: installable (a valid manifest, a service worker that controls
the page), pain logged in three taps with no connection waits on the phone and is stored once,
with the time of the tap, when the connection returns; logout and another patient's login
leave nothing of the first patient; with JavaScript off the diary works as before."""

import datetime

import pytest
from django.utils import timezone

from painlog.models import PainEntry
from tests.browser.conftest import (
    DESKTOP,
    assert_accessible,
    log_in,
    open_menu,
    phone_context,
    screenshot,
)
from tests.conftest import PASSWORD, make_patient

QUEUED = "**/painlog/queued/"
# Read what the phone keeps: the queue (IndexedDB) and the cache names.
KEPT = """async () => {
  const names = await caches.keys();
  const entries = await new Promise((resolve) => {
    const request = indexedDB.open("tmr-offline-diary", 1);
    request.onupgradeneeded = () =>
      request.result.createObjectStore("queue", { keyPath: "submission_id" });
    request.onsuccess = () => {
      const all = request.result.transaction("queue").objectStore("queue").getAll();
      all.onsuccess = () => { request.result.close(); resolve(all.result); };
    };
  });
  return { caches: names, entries };
}"""


@pytest.fixture
def patients(transactional_db):
    from patients.models import Clinic

    clinic = Clinic.objects.create(name="Lakeside")
    return (
        make_patient(clinic, "MRN-1", username="ada", first_name="Ada", last_name="Reyes"),
        make_patient(clinic, "MRN-2", username="ben", first_name="Ben", last_name="Shah"),
    )


def patient_phone(chromium, live_server, username):
    """A phone whose clock agrees with the live server's pinned one, logged in, with the
    service worker in control and the home page kept for offline use."""
    context = phone_context(chromium)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.clock.set_system_time(timezone.now())
    log_in(page, live_server.url, username, PASSWORD)
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # the first page the worker sees, and keeps
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    # The worker keeps the page after handing it over: wait until it holds it.
    page.wait_for_function(
        """caches.keys().then(async (names) => {
          for (const name of names.filter((n) => n.startsWith("tmr-pages-"))) {
            if (await (await caches.open(name)).match("/painlog/")) return true;
          }
          return false;
        })"""
    )
    return context, page


def tap_scores(page, phantom, residual):
    page.get_by_role("group", name="Phantom limb pain right now").get_by_role(
        "radio", name=str(phantom), exact=True
    ).tap()
    page.get_by_role("group", name="Residual limb pain right now").get_by_role(
        "radio", name=str(residual), exact=True
    ).tap()
    page.get_by_role("button", name="Save", exact=True).first.tap()


def test_the_diary_meets_chromiums_install_criteria(chromium, live_server, patients):
    context, page = patient_phone(chromium, live_server, "ada")
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getAppManifest")["errors"] == []
    errors = {
        e["errorId"] for e in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    }
    # A Playwright context is a private window, where Chromium never offers to install.
    assert errors <= {"in-incognito"}, errors
    manifest = page.evaluate("fetch('/manifest.webmanifest').then(r => r.json())")
    assert manifest["start_url"] == "/painlog/"
    # Hidden: the browser did not offer installation here.
    assert page.locator("[data-install-hint]").is_hidden()
    context.close()


def test_pain_logged_offline_waits_then_is_stored_once_with_the_time_of_the_tap(
    chromium, live_server, patients
):
    ada = patients[0]
    context, page = patient_phone(chromium, live_server, "ada")
    context.set_offline(True)
    page.goto(live_server.url + "/painlog/")  # from the phone, not the server
    # The page's script shows the banner once it has read the kept copy's marks.
    page.get_by_text("No connection: this page is as you last saw it").wait_for()
    before_tap = timezone.now()
    tap_scores(page, 6, 3)
    after_tap = timezone.now()
    waiting = page.locator("[data-offline-list] li")
    waiting.first.wait_for()
    assert "Waiting to send" in waiting.first.inner_text()
    assert "phantom limb pain 6, residual limb pain 3" in waiting.first.inner_text()
    assert_accessible(page)
    screenshot(page, "patient-offline-waiting-to-send", full_page=False)
    assert not PainEntry.objects.filter(patient=ada).exists()

    # The first send reaches the server but its answer is lost on the way back: the phone
    # keeps the entry and sends it again.
    answered = []

    def lose_the_answer(route):
        answered.append(route.fetch().status)
        route.abort()

    page.route(QUEUED, lose_the_answer)
    context.set_offline(False)
    page.wait_for_function("document.querySelector('[data-offline-status]').textContent !== ''")
    page.wait_for_timeout(500)
    assert answered == [200]
    assert PainEntry.objects.filter(patient=ada).count() == 1
    assert waiting.count() == 1
    page.unroute(QUEUED)
    page.get_by_role("button", name="Send now").tap()
    page.get_by_text("Sent 1 entry to your clinic.").wait_for()
    assert waiting.count() == 0
    screenshot(page, "patient-offline-sent", full_page=False)

    entry = PainEntry.objects.get(patient=ada)
    assert (entry.phantom_pain, entry.residual_pain) == (6, 3)
    # The time of the tap, not of either upload (the browser's clock is the server's, to a
    # second or two of test overhead).
    slack = datetime.timedelta(seconds=2)
    assert before_tap - slack <= entry.recorded_at <= after_tap + slack
    assert page.evaluate(KEPT)["entries"] == []
    context.close()


def test_an_entry_past_the_backdating_limit_is_refused_with_the_servers_reason(
    chromium, live_server, patients
):
    context, page = patient_phone(chromium, live_server, "ada")
    context.set_offline(True)
    page.goto(live_server.url + "/painlog/")
    # The phone's clock eight days back: the entry is older than the 7 days allowed.
    page.clock.set_system_time(timezone.now() - datetime.timedelta(days=8))
    tap_scores(page, 5, 5)
    page.locator("[data-offline-list] li").first.wait_for()
    context.set_offline(False)
    page.get_by_text("Not saved: Entries can go back 7 days at most.").wait_for()
    assert not PainEntry.objects.exists()
    page.get_by_role("button", name="Remove from this phone").tap()
    page.locator("[data-offline-waiting]").wait_for(state="hidden")
    assert page.evaluate(KEPT)["entries"] == []
    context.close()


def test_logout_clears_the_queue_and_the_kept_pages(chromium, live_server, patients):
    context, page = patient_phone(chromium, live_server, "ada")
    page.route(QUEUED, lambda route: route.abort())  # the entry cannot leave the phone
    context.set_offline(True)
    tap_scores(page, 7, 2)
    page.locator("[data-offline-list] li").first.wait_for()
    context.set_offline(False)
    kept = page.evaluate(KEPT)
    assert len(kept["entries"]) == 1 and any(n.startswith("tmr-pages-") for n in kept["caches"])

    open_menu(page)
    page.get_by_role("button", name="Log out").tap()
    page.wait_for_url("**/accounts/login/")
    page.wait_for_function("navigator.serviceWorker.getRegistrations().then(r => r.length === 0)")
    kept = page.evaluate(KEPT)
    assert kept == {"caches": [], "entries": []}
    assert not PainEntry.objects.exists()
    context.close()


def test_a_second_patient_on_the_same_phone_sees_nothing_of_the_first(
    chromium, live_server, patients
):
    context, page = patient_phone(chromium, live_server, "ada")
    page.route(QUEUED, lambda route: route.abort())
    context.set_offline(True)
    tap_scores(page, 8, 1)
    page.locator("[data-offline-list] li").first.wait_for()
    context.set_offline(False)
    # Ada's session ends without a logout (the idle limit), and Ben logs in on her phone.
    context.clear_cookies()
    log_in(page, live_server.url, "ben", PASSWORD)
    assert page.get_by_text("Hello, Ben").is_visible()
    page.wait_for_function(
        "caches.keys().then(names => !names.some(n => n.startsWith('tmr-pages-')) || "
        "names.filter(n => n.startsWith('tmr-pages-')).length === 1)"
    )
    page.wait_for_timeout(500)
    assert page.locator("[data-offline-list] li").count() == 0
    assert page.evaluate(KEPT)["entries"] == []
    # Offline, the phone opens Ben's page, never Ada's.
    page.reload()
    context.set_offline(True)
    page.goto(live_server.url + "/painlog/")
    assert page.get_by_text("Hello, Ben").is_visible()
    assert "Ada" not in page.content()
    # Ada's entry never left her phone, and went when Ben's page opened: it is never sent
    # under his login.
    assert not PainEntry.objects.exists()
    context.close()


def test_with_javascript_off_the_diary_works_as_before(chromium, live_server, patients):
    context = chromium.new_context(viewport=DESKTOP, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Not log_in(): axe-core needs JavaScript.
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.url == live_server.url + "/painlog/"
    assert page.locator("[data-offline-waiting]").is_hidden()
    assert page.locator("[data-install-hint]").is_hidden()
    for scale, score in (("Phantom limb pain right now", 4), ("Residual limb pain right now", 2)):
        page.get_by_role("group", name=scale).get_by_role(
            "radio", name=str(score), exact=True
        ).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).first.click()
    assert page.get_by_text("Saved: phantom limb pain 4, residual limb pain 2").is_visible()
    entry = PainEntry.objects.get()
    assert (entry.phantom_pain, entry.residual_pain) == (4, 2)
    context.close()
