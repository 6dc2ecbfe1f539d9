"""Issue 21, item 5: bearer tokens (invitation and password-reset links) stay out of every log;
reset links last an hour; the invitation token is traded for a session value on the first hit."""

import datetime
import json
import re
import runpy
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.bearer_paths import redact_path
from accounts.invitations import invite_patient
from accounts.views import INVITATION_SESSION_TOKEN
from patients.audit import record_access
from patients.models import AccessEvent
from tests.conftest import make_patient
from tests.test_request_log import log_lines  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parent.parent
TOKEN = "Zq3-secretTOKENvalue_that_opens_a_login-42"
SET_LOGIN = reverse("accounts:invitation_accept", args=["set-login"])


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f"/invite/{TOKEN}/", "/invite/[redacted]/"),
        (f"/accounts/reset/MQ/{TOKEN}/", "/accounts/reset/[redacted]/"),
        (f'"GET /invite/{TOKEN}/ HTTP/1.1" 404', '"GET /invite/[redacted]/ HTTP/1.1" 404'),
        (f"Not Found: /accounts/reset/MQ/{TOKEN}/", "Not Found: /accounts/reset/[redacted]/"),
        ("/accounts/reset/done/", "/accounts/reset/done/"),
        ("/dashboard/", "/dashboard/"),
    ],
)
def test_tokens_in_paths_are_replaced(text, logged):
    assert redact_path(text) == logged


@pytest.fixture
def invitee(clinic, clinician):
    patient = make_patient(clinic, "TOK-1", first_name="Ines", email="ines@example.org")
    _invitation, token = invite_patient(
        patient=patient, invited_by=clinician, build_link=lambda token: f"/invite/{token}/"
    )
    return patient, token


def test_no_log_line_carries_an_invitation_token(client, invitee, log_lines):  # noqa: F811
    _patient, token = invitee
    client.get(f"/invite/{token}/")
    client.get(f"/invite/{token[:-2]}xx/")  # a 404 that Django logs with its path
    text = json.dumps(log_lines())
    assert "/invite/[redacted]/" in text
    assert token not in text and token[:-2] not in text


def test_no_log_line_carries_a_password_reset_token(client, patient, log_lines):  # noqa: F811
    user = patient.user
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    client.get(f"/accounts/reset/{uid}/{token}/")
    text = json.dumps(log_lines())
    assert token not in text
    assert "/accounts/reset/[redacted]/" in text


def test_the_access_log_stores_paths_without_tokens(rf, clinician, db):
    request = rf.get(f"/invite/{TOKEN}/")
    request.user = clinician
    record_access(request, "denied", detail="refused: accounts:invitation_accept")
    assert AccessEvent.objects.get().path == "/invite/[redacted]/"


def test_gunicorns_access_line_carries_no_token(monkeypatch, capsys):
    from gunicorn.config import Config

    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    config = Config()
    config.set("accesslog", "-")
    logger = runpy.run_path(str(REPO / "gunicorn.conf.py"))["JsonLogger"](config)

    class FakeResponse:
        status = "200 OK"
        headers = []
        sent = 0

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/invite/{TOKEN}/", "RAW_URI": "/"}
    logger.access(FakeResponse(), [], environ, datetime.timedelta(milliseconds=3))
    line = capsys.readouterr().out
    assert TOKEN not in line
    assert json.loads(line)["path"] == "/invite/[redacted]/"


def test_nginx_logs_the_redacted_path():
    conf = (REPO / "deploy" / "nginx" / "tmrclinic.conf").read_text()
    active = " ".join(line.split("#", 1)[0] for line in conf.splitlines())
    log_format = re.search(r"log_format tmrclinic (.*?);", active, re.S).group(1)
    assert "$tmrclinic_logged_uri" in log_format
    assert "$uri" not in log_format.replace("$tmrclinic_logged_uri", "")
    assert "$request_uri" not in log_format and "$request " not in log_format
    assert "map $uri $tmrclinic_logged_uri" in active


def test_the_first_visit_trades_the_token_for_a_session_value(client, invitee):
    patient, token = invitee
    response = client.get(f"/invite/{token}/")
    assert response.status_code == 302
    assert response["Location"] == SET_LOGIN
    assert token not in response["Location"]
    assert client.session[INVITATION_SESSION_TOKEN] == token
    page = client.get(SET_LOGIN)
    assert b"Welcome, Ines" in page.content
    assert token.encode() not in page.content
    password = "a long enough passphrase"
    response = client.post(
        SET_LOGIN, {"username": "ines", "password1": password, "password2": password}
    )
    assert response["Location"] == reverse("patients:intake")
    patient.refresh_from_db()
    assert patient.user.username == "ines"
    assert INVITATION_SESSION_TOKEN not in client.session


def test_the_token_free_address_without_the_session_value_is_not_found(client, invitee):
    assert client.get(SET_LOGIN).status_code == 404
    response = client.post(SET_LOGIN, {"username": "x", "password1": "y", "password2": "y"})
    assert response.status_code == 404


def test_a_made_up_token_is_not_stored_in_the_session(client, db):
    assert client.get(f"/invite/{TOKEN}/").status_code == 404
    assert INVITATION_SESSION_TOKEN not in client.session


def test_a_password_reset_link_lasts_an_hour(client, patient, settings):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.post(reverse("password_reset"), {"email": patient.user.email})
    (email,) = mail.outbox
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", email.body).group(1)
    with time_machine.travel(start + datetime.timedelta(minutes=59), tick=False):
        assert client.get(link, follow=True).context["validlink"] is True
    client.cookies.clear()
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert client.get(link, follow=True).context["validlink"] is False
