"""The Django admin's forms with a two-box filter widget (a group's permissions, a clinic's
clinicians) pass axe-core like every other page (issue 21, item 9)."""

from tests.browser.conftest import assert_accessible, confirm_totp_device, log_in
from tests.conftest import PASSWORD


def test_the_admins_filter_widgets_pass_axe(desktop, live_server, site_admin, clinic):
    confirm_totp_device(site_admin)
    log_in(desktop, live_server.url, "root", PASSWORD)
    for path in ("/admin/auth/group/add/", f"/admin/patients/clinic/{clinic.pk}/change/"):
        desktop.goto(live_server.url + path)
        desktop.wait_for_selector(".selector-chooser")  # SelectFilter2.js has built the widget
        assert_accessible(desktop)
