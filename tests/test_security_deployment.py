"""Issue 21, tried as an attacker would: production settings (DEBUG off), the shipped nginx config
with TLS in front of two gunicorn app servers, PostgreSQL, the demo data. Each test is one
thing the penetration test found, attempted from outside through nginx."""

import base64
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests import deploy_support as d

pytestmark = pytest.mark.deploy

DEMO_SECRET = "TMRCLINICDEMOTOTPSECRETKEY234567"  # noqa: S105 - the demo's published secret


@pytest.fixture(scope="module")
def stack():
    base_url = d.postgres_url()
    d.nginx_binary()
    # Not under pytest's own temporary directory: nginx's workers (nobody) write logs here.
    work = Path(tempfile.mkdtemp(prefix="tmrclinic-attack-"))
    with d.scratch_database(base_url, "attack") as url:
        d.migrate_and_seed_demo(url)
        env = d.production_environment(url, DJANGO_STATIC_ROOT=str(work / "static"))
        d.manage("collectstatic", "--noinput", "-v0", env=env)
        servers = [
            d.Gunicorn(env, work / "gunicorn-a.log").start(),
            d.Gunicorn(env, work / "gunicorn-b.log", workers=1).start(),
        ]
        cert, key = d.make_test_certificate(work)
        http_port, https_port = d.free_ports(2)
        site = d.site_config_for_test(
            [server.port for server in servers], http_port, https_port, cert, key, work
        )
        nginx = d.Nginx(work, site)
        nginx.start()
        tls = d.tls_context(cert)
        try:
            yield {
                "url": url,
                "env": env,
                "work": work,
                "browser": lambda: d.Browser(("127.0.0.1", https_port), d.CLINIC_HOST, tls),
            }
        finally:
            nginx.stop()
            for server in servers:
                server.stop()
            shutil.rmtree(work, ignore_errors=True)


_steps_used = {}


def fresh_code_step(username):
    """The demo secret, once the authenticator shows a code this account has not used: each
    code is accepted once (django-otp), and the demo staff share one secret."""
    step = int(time.time() // 30)
    if _steps_used.get(username) == step:
        time.sleep(30 - time.time() % 30 + 0.5)
        step = int(time.time() // 30)
    _steps_used[username] = step
    return DEMO_SECRET


def sql(stack, statement, params=None):
    return d.query(stack["url"], statement, params)


def execute(stack, statement):
    """A statement committed at once, as someone at a database console would."""
    import psycopg2

    connection = psycopg2.connect(stack["url"])
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def patient_pk(stack, mrn):
    return sql(stack, "SELECT id FROM patients_patient WHERE mrn = %s", [mrn])[0][0]


def latest_access(stack):
    return sql(
        stack,
        "SELECT action, detail, path, host(ip_address) FROM patients_accessevent "
        "ORDER BY id DESC LIMIT 1",
    )[0]


def test_production_refuses_to_start_without_mail_or_with_a_bad_proxy(stack):
    for change, named in (({"EMAIL_HOST": ""}, "EMAIL_HOST must be set"),
                          ({"DJANGO_TRUSTED_PROXIES": "nginx.internal"},
                           "DJANGO_TRUSTED_PROXIES")):  # fmt: skip
        run = subprocess.run(
            [sys.executable, "manage.py", "check"], cwd=d.REPO,
            env={**stack["env"], **change}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode != 0 and named in run.stderr


def test_the_deploy_check_is_clean_with_production_variables(stack):
    out = d.manage("check", "--deploy", "--fail-level", "WARNING", env=stack["env"])
    assert "no issues" in out


def test_a_forged_forwarded_address_does_not_reach_the_access_log(stack):
    staff = stack["browser"]()
    staff.log_in("clinician", totp_secret=fresh_code_step("clinician"))
    pk = patient_pk(stack, "DEMO-P001")
    forged = {"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6", "X-Forwarded-Proto": "http"}
    assert staff.get(f"/patients/{pk}/", headers=forged).status == 200
    action, _detail, _path, address = latest_access(stack)
    assert (action, address) == ("view_record", "127.0.0.1")


def test_a_search_is_logged_by_its_length_and_refusals_cannot_flood(stack):
    staff = stack["browser"]()
    staff.log_in("clinician", totp_secret=fresh_code_step("clinician"))
    staff.get("/dashboard/?q=Reyes")
    _action, detail, path, _address = latest_access(stack)
    assert "search of 5 characters" in detail and "Reyes" not in detail + path
    count = "SELECT count(*) FROM patients_accessevent WHERE action = 'denied'"
    before = sql(stack, count)[0][0]
    for pk in range(900_000, 900_060):
        assert staff.get(f"/patients/{pk}/").status == 404
    assert sql(stack, count)[0][0] - before <= 31


def test_rights_gained_mid_session_are_decided_on_the_next_request(stack):
    patient = stack["browser"]()
    patient.log_in("patient3")
    assert patient.get("/painlog/").status == 200
    # Made a clinician by a path that fires no signal: the next page asks for a second factor.
    execute(
        stack,
        "INSERT INTO auth_user_groups (user_id, group_id) SELECT u.id, g.id FROM auth_user u, "
        "auth_group g WHERE u.username = 'patient3' AND g.name = 'Clinicians'",
    )
    response = patient.get("/dashboard/")
    assert response.status == 302
    assert response.header("location").startswith("/accounts/two-factor/setup/")
    # Made staff through the ORM (as the admin does): the session ends at once.
    other = stack["browser"]()
    other.log_in("patient2")
    code = (
        "from django.contrib.auth import get_user_model; "
        "u = get_user_model().objects.get(username='patient2'); u.is_staff = True; u.save()"
    )
    d.manage("shell", "--no-imports", "-c", code, env=stack["env"])
    response = other.get("/admin/")
    assert response.status == 302 and "/login/" in response.header("location")


def test_bearer_tokens_reach_no_log(stack):
    token = "AttackerReadsLogs" + "x7Qa9" * 6
    stack["browser"]().get(f"/invite/{token}/")
    stack["browser"]().get(f"/accounts/reset/MQ/{token}/")
    time.sleep(0.5)  # nginx and gunicorn write their lines after the response
    logs = "".join(path.read_text() for path in stack["work"].glob("*.log"))
    assert "/invite/[redacted]/" in logs and "/accounts/reset/[redacted]/" in logs
    assert token not in logs


def login_post(browser, username, password):
    token = browser.csrf_token("/accounts/login/")
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    return browser.post("/accounts/login/", form)


def test_guessing_a_clinicians_password_slows_it_down_and_locks_out_nobody(stack):
    guesser = stack["browser"]()
    for _ in range(10):  # until the account is slowed down (after 3 free failures)
        if "then try again" in login_post(guesser, "clinician", "guess" * 3).text:
            break
    else:
        pytest.fail("ten wrong passwords in a row and no slow-down")
    # The clinician, from the same (NAT) address, waits seconds: not locked out.
    victim = stack["browser"]()
    slowed = login_post(victim, "clinician", d.DEMO_PASSWORD)
    wait = re.search(r"wait (\d+) seconds?", slowed.text)
    assert slowed.status == 200 and wait, slowed.text[:500]
    # A colleague behind the same address is not affected at all.
    colleague = stack["browser"]()
    colleague.log_in("clinician2", totp_secret=fresh_code_step("clinician2"))
    assert colleague.get("/dashboard/").status == 200
    time.sleep(int(wait.group(1)) + 1)
    stack["browser"]().log_in("clinician", totp_secret=fresh_code_step("clinician"))


def test_the_admin_shows_no_seed_and_the_database_holds_none_in_clear(stack):
    admin = stack["browser"]()
    admin.log_in("admin", totp_secret=fresh_code_step("admin"))
    clear = [base64.b32decode(DEMO_SECRET).hex(), DEMO_SECRET]
    (device,) = sql(
        stack,
        "SELECT d.id, d.encrypted_key FROM accounts_authenticatordevice d JOIN auth_user u "
        "ON u.id = d.user_id WHERE u.username = 'clinician'",
    )
    page = admin.get(f"/admin/accounts/authenticatordevice/{device[0]}/change/")
    assert page.status == 200
    assert not any(secret in page.text or secret in device[1] for secret in clear)
    assert admin.get("/admin/otp_totp/totpdevice/").status == 404
    admin.get("/admin/painlog/painentry/?q=Reyes")
    action, detail, _path, _address = latest_access(stack)
    assert action == "admin_view" and "Reyes" not in detail
