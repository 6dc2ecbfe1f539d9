"""
The patient's pages for people who cannot rely on a steady hand, a mouse or a large screen:
tap targets of the pain scales at least 44x44 CSS px, pain logged with the keyboard alone, and
no horizontal scrolling at 320 px wide or at 200% zoom (WCAG 2.2: 2.5.5/2.5.8, 2.1.1, 2.4.7,
1.4.10). Every page is also checked with axe-core at each size.
"""

import pytest

from painlog.models import PainEntry
from tests.browser.conftest import (
    assert_accessible,
    has_horizontal_scroll,
    log_in,
    screenshot,
)
from tests.conftest import PASSWORD, make_amputation, make_diary, make_surgery

MIN_TAP = 44
# WCAG 1.4.10 reflow: content must fit 320 CSS px, which is a 1280 px window at 400% zoom; at
# 200% zoom a 1280 px desktop window is 640 CSS px wide.
NARROW_PHONE = {"width": 320, "height": 640}
DESKTOP_AT_200_PERCENT = {"width": 640, "height": 450}


@pytest.fixture
def patient_with_diary(patient):
    """Jordan Reyes: a below-knee amputation, a delayed TMR, two months of diary."""
    amputation = make_amputation(patient)
    make_surgery(
        amputation,
        procedure="secondary_tmr",
        date=amputation.date.replace(year=amputation.date.year + 1),
        transfers=[("tibial", "Gastrocnemius")],
    )
    make_diary(patient, [(days_ago, 6 - days_ago // 20, 4) for days_ago in range(1, 60)])
    return patient


def test_pain_scale_tap_targets_are_at_least_44_px(phone, live_server, patient_with_diary):
    log_in(phone, live_server.url, "pat", PASSWORD)
    for scale in ("Phantom limb pain right now", "Residual limb pain right now"):
        group = phone.get_by_role("group", name=scale)
        scale_box = group.bounding_box()
        options = group.locator(".pain-scale-option")
        assert options.count() == 11
        for index in range(11):
            option = options.nth(index).bounding_box()
            assert option["x"] + option["width"] <= scale_box["x"] + scale_box["width"] + 0.5
            # The invisible radio covers its option; the label is what the finger sees.
            for part in ("input", "label"):
                box = options.nth(index).locator(part).bounding_box()
                assert box["width"] >= MIN_TAP and box["height"] >= MIN_TAP, (
                    f"{scale}, {index}: {part} is {box['width']:.0f}x{box['height']:.0f} px"
                )
    save = phone.get_by_role("button", name="Save", exact=True).bounding_box()
    assert save["height"] >= MIN_TAP


def test_patient_logs_pain_with_the_keyboard_alone(desktop, live_server, patient_with_diary):
    log_in(desktop, live_server.url, "pat", PASSWORD)
    keyboard = desktop.keyboard

    def focused(expression):
        """`expression` of the focused element, `el`."""
        return desktop.evaluate(f"(el => {expression})(document.activeElement)")

    keyboard.press("Tab")
    assert focused("el.textContent.trim()") == "Skip to main content"
    keyboard.press("Enter")
    # What needs doing first comes first: this patient has not started the intake.
    keyboard.press("Tab")
    assert focused("el.textContent.trim()") == "Start"
    keyboard.press("Tab")
    assert focused("[el.name, el.value]") == ["phantom_pain", "0"]
    # Where the focus is can be seen: the label of the focused radio gets an outline.
    outline = focused("getComputedStyle(el.nextElementSibling).outlineStyle")
    assert outline not in ("", "none")
    for _ in range(3):
        keyboard.press("ArrowRight")
    keyboard.press("Tab")
    assert focused("[el.name, el.value]") == ["residual_pain", "0"]
    keyboard.press("Space")
    for _ in range(2):
        keyboard.press("ArrowRight")
    keyboard.press("Tab")
    assert focused("el.textContent.trim()") == "Save"
    with desktop.expect_navigation():
        keyboard.press("Enter")

    assert desktop.get_by_text("Saved: phantom limb pain 3, residual limb pain 2").is_visible()
    newest = PainEntry.objects.filter(patient=patient_with_diary).order_by("-created_at").first()
    assert (newest.phantom_pain, newest.residual_pain) == (3, 2)


@pytest.mark.parametrize(
    "viewport", [NARROW_PHONE, DESKTOP_AT_200_PERCENT], ids=["320px", "200-percent-zoom"]
)
def test_patient_pages_fit_the_width_without_horizontal_scrolling(
    chromium, live_server, patient_with_diary, viewport
):
    entry = PainEntry.objects.filter(patient=patient_with_diary).first()  # correctable today
    # Typed without a space: a pasted link and a medicine's name wrap rather than widen the page.
    entry.note = "https://example.org/" + "a" * 200
    entry.medicine_taken = "Oxycodone" * 30
    entry.save(update_fields=["note", "medicine_taken"])
    context = chromium.new_context(viewport=viewport, has_touch=viewport is NARROW_PHONE)
    page = context.new_page()
    log_in(page, live_server.url, "pat", PASSWORD)
    pages = {
        "home": "/painlog/",
        "log-pain": "/painlog/new/",
        "correct": f"/painlog/{entry.pk}/edit/",
        "my-record": "/my-record/",
        "my-contact": "/my-record/contact/",
        "intake": "/intake/",
        "change-password": "/accounts/password_change/",
        "account-security": "/accounts/two-factor/",
        "authenticator-setup": "/accounts/two-factor/setup/",
    }
    for name, path in pages.items():
        page.goto(live_server.url + path)
        if name == "log-pain":
            page.get_by_text("More details (optional)").click()
        assert not has_horizontal_scroll(page), f"{path} scrolls sideways at {viewport}"
        assert_accessible(page)
        if viewport is NARROW_PHONE:
            screenshot(page, f"patient-{name}-320px", full_page=name != "home")
    context.close()


# Each score of an entry card with its label, as [label, the label's first line and the score
# overlap in height, the score is to the label's right, the next label starts below this row].
SCORES_BESIDE_LABELS = """() => [...document.querySelectorAll(".entry-scores dt")].map((label) => {
  const box = label.getBoundingClientRect();
  const score = label.nextElementSibling.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(label);
  const firstLine = range.getClientRects()[0];
  const next = label.nextElementSibling.nextElementSibling;
  return [
    label.textContent,
    score.top < firstLine.bottom && score.bottom > firstLine.top,
    score.left >= box.right,
    !next || next.getBoundingClientRect().top >= Math.max(score.bottom, box.bottom) - 0.5,
  ];
})"""


@pytest.mark.parametrize("language", ["en", "es"])
def test_each_score_of_an_entry_stays_beside_its_own_label(
    chromium, live_server, patient_with_diary, language
):
    """On a narrow phone the longest label (Spanish "Dolor del miembro fantasma") neither runs
    into the next one nor leaves a score beside the other label's words."""
    patient_with_diary.app_language = language
    patient_with_diary.save(update_fields=["app_language"])
    context = chromium.new_context(viewport=NARROW_PHONE, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, "pat", PASSWORD)
    for width in (320, 360, 390):
        page.set_viewport_size({"width": width, "height": 640})
        page.goto(live_server.url + "/painlog/")
        cards = page.evaluate(SCORES_BESIDE_LABELS)
        assert len(cards) == 2 * 20  # a page of entries
        assert all(rest == [True, True, True] for _, *rest in cards), (width, cards[:2])
    assert page.locator("html").get_attribute("lang") == language
    page.locator("#entries-heading").scroll_into_view_if_needed()
    screenshot(page, f"patient-entry-scores-{language}-390px", full_page=False)
    context.close()
