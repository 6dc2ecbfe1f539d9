"""Browser-side defences in every answer: CSP without inline code, no sniffing, no framing, a
strict referrer policy, and no caching of pages that show PHI."""

import pytest
from django.urls import reverse


@pytest.fixture
def pages(clinician, patient):
    return {
        "login": (None, reverse("login")),
        "dashboard": (clinician, reverse("reports:dashboard")),
        "patient record": (clinician, reverse("patients:detail", args=[patient.pk])),
        "pain log": (patient.user, reverse("painlog:home")),
        "admin": ("admin", reverse("admin:index")),
    }


@pytest.mark.parametrize("page", ["login", "dashboard", "patient record", "pain log", "admin"])
def test_every_page_carries_the_security_headers(client, pages, page, site_admin):
    user, url = pages[page]
    if user is not None:
        client.force_login(site_admin if user == "admin" else user)
    response = client.get(url)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("page", ["dashboard", "patient record", "pain log", "admin"])
def test_pages_for_a_logged_in_user_are_never_cached(client, pages, page, site_admin):
    user, url = pages[page]
    client.force_login(site_admin if user == "admin" else user)
    cache_control = client.get(url)["Cache-Control"]
    assert "no-store" in cache_control
    assert "private" in cache_control


def test_no_template_carries_inline_script_style_or_handlers():
    """The CSP would block them; catching them here names the file."""
    import re
    from pathlib import Path

    offenders = []
    for template in Path("templates").rglob("*.html"):
        text = re.sub(r"{% comment %}.*?{% endcomment %}|{#.*?#}", "", template.read_text(),
                      flags=re.DOTALL)  # fmt: skip
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{template}: inline <script>")
        if re.search(r"<style\b", text) or re.search(r"\sstyle=", text):
            offenders.append(f"{template}: inline style")
        if re.search(r"\son[a-z]+=", text):
            offenders.append(f"{template}: on* handler")
    assert offenders == []
