"""
Headless Chromium through Playwright, against a live server of the app.

Debian's Chromium is used (Playwright's own browser download does not work here). Where it is
missing these tests skip with a message, so `make test` passes on a fresh laptop; CI installs it.

Shared by every journey: `log_in` (password, then the one-time code where two-factor asks for
it), `assert_accessible` (axe-core, WCAG 2.2 A and AA) and `screenshot`.

Every test runs on a pinned clock (`pinned_clock`), and so does the live server: it serves from
a thread of this process, and time-machine moves the clock of the whole process.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model

from tests.seeded_demo import SEEDED_AT

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# WCAG 2.2 A and AA as axe-core tags them (wcag22a holds no rule that wcag2a/21a lack).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(autouse=True)
def pinned_clock():
    """The demo's "now" (14:00 UTC, the clinic's zone), ticking on from there: a journey that
    builds a diary from today and reads the dashboard's 7-day window a minute later never
    sees the date change under it, whenever it runs. Ticking, because two-factor codes are
    accepted once per 30-second step and a journey may log the same person in again."""
    with time_machine.travel(SEEDED_AT, tick=True):
        yield


@pytest.fixture(scope="session")
def chromium(live_server):
    # Asking for live_server makes the browser (and its keep-alive connections) close before
    # the server stops; otherwise the server's request threads close a shared SQLite
    # connection from the wrong thread.
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: apt-get install -y chromium to run browser tests"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def phone_context(chromium, **options):
    """A private browser on a 390x844 touch screen, as most patients use the app."""
    return chromium.new_context(viewport=PHONE, has_touch=True, is_mobile=True, **options)


@pytest.fixture
def phone(chromium):
    context = phone_context(chromium)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(chromium):
    context = chromium.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


def screenshot(page, name, *, full_page=True):
    """Save test-artifacts/screenshots/<name>.png; the window only with full_page=False (for
    the README, where a phone page four screens long says less than its first screen)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def open_menu(page):
    """Tap the phone's menu button and wait until the menu has finished opening. A tap during
    Bootstrap's collapse animation can land where the layout was a frame earlier, on nothing:
    the phone logout journey then waited 30 s for a logout that was never sent."""
    # By its target, not its name: the Spanish journey opens it too.
    page.locator("button[aria-controls=main-nav]").tap()
    page.locator("#main-nav.collapse.show").wait_for()


# ---- Two-factor ----------------------------------------------------------------------------


def confirm_totp_device(user):
    """Give a clinician or admin the confirmed authenticator that two-factor asks for (the
    demo staff have one already)."""
    from accounts.models import AuthenticatorDevice

    return AuthenticatorDevice.objects.filter(
        user=user, confirmed=True
    ).first() or AuthenticatorDevice.objects.create(
        user=user, name="Test authenticator", confirmed=True
    )


def current_totp_code(username):
    """The code the user's authenticator app shows now. django-otp accepts each time step once
    per device, so a second login within 30 seconds takes the next step's code (inside its
    tolerance) or waits for it."""
    from django_otp.oath import totp

    from accounts.models import AuthenticatorDevice

    device = AuthenticatorDevice.objects.filter(user__username=username, confirmed=True).first()
    assert device is not None, f"{username} is asked for a one-time code but has no device"
    while True:
        step_now = int(time.time() - device.t0) // device.step + device.drift
        ahead = max(0, device.last_t + 1 - step_now)
        if ahead <= device.tolerance:
            break
        time.sleep(1)
    code = totp(
        device.bin_key,
        step=device.step,
        t0=device.t0,
        digits=device.digits,
        drift=device.drift + ahead,
    )
    return f"{code:0{device.digits}d}"


def log_in(page, base_url, username, password):
    """Log in through the login page, then answer the one-time code step where two-factor
    asks for it. Both pages are checked with axe-core on the way: every journey starts here."""
    page.goto(base_url + "/accounts/login/")
    assert_accessible(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("domcontentloaded")
    token = page.locator("input[name=otp_token]")
    if token.count():
        assert_accessible(page)
        token.fill(current_totp_code(username))
        token.locator("xpath=ancestor::form").locator("[type=submit]").first.click()
        page.wait_for_load_state("domcontentloaded")


@pytest.fixture
def demo_data(transactional_db, demo_snapshot):
    """The demo clinic (`seed_demo`, seeded once per session: tests/seeded_demo.py), committed
    for the live server to see; its clinicians and admins have an authenticator."""
    from accounts.roles import CLINICIANS_GROUP

    demo_snapshot.restore()
    User = get_user_model()
    staff = User.objects.filter(is_staff=True) | User.objects.filter(groups__name=CLINICIANS_GROUP)
    for user in staff.distinct():
        confirm_totp_device(user)


# ---- Accessibility -------------------------------------------------------------------------


def axe_violations(page):
    """axe-core's WCAG 2.2 A/AA violations on the page as it is now: for each rule its id,
    impact and summary, then each element's selector and what is wrong with it."""
    from axe_playwright_python.sync_playwright import Axe

    # Judge the page at rest, not halfway through a colour transition after a click (a
    # transition cut short rejects its promise: settled is enough).
    page.evaluate("Promise.allSettled(document.getAnimations().map(a => a.finished))")
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options).response
    lines = []
    for violation in results["violations"]:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
            reason = checks[0]["message"] if checks else ""
            lines.append(f"    {' '.join(node['target'])}: {reason}")
    return lines


def assert_accessible(page):
    """Fail with the list of violations (rule, impact, what it means, target selectors). The
    Django admin's pages are held to the same rules (static/css/admin.css)."""
    violations = axe_violations(page)
    assert not violations, f"Accessibility violations on {page.url}:\n" + "\n".join(violations)


def has_horizontal_scroll(page):
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
