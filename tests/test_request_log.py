"""Every request gets an id and one summary line; log lines carry ids, never PHI."""

import io
import json
import logging
import re
import sys
import uuid

import pytest
from django.test import Client

from painlog.models import PainEntry
from tests.conftest import PASSWORD
from tmrclinic import request_log

NOTE = "Zebra-Quokka-7731 stump throbbing after the long walk"


@pytest.fixture
def log_lines():
    """What the production handler would print: JSON lines from the root and django loggers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(request_log.RequestContextFilter())
    handler.setFormatter(request_log.JsonFormatter())
    loggers = [logging.getLogger(), logging.getLogger("django")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


def log_in(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302


def entry_form(submission_id, note=NOTE):
    return {"submission_id": submission_id, "phantom_pain": 7, "residual_pain": 3, "note": note}


def test_every_response_carries_a_new_request_id(client, db):
    first, second = client.get("/healthz/"), client.get("/healthz/")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_proxys_request_id_is_kept(client, db):
    response = client.get("/healthz/", headers={"X-Request-ID": "9f1c2a7e4b3d4e5f"})
    assert response["X-Request-ID"] == "9f1c2a7e4b3d4e5f"


@pytest.mark.parametrize(
    "sent", ["short", "x" * 65, "id with spaces", "line\nbreak-injected", "<script>alert(1)"]
)
def test_an_odd_request_id_is_replaced_by_a_new_one(client, db, sent):
    response = client.get("/healthz/", headers={"X-Request-ID": sent})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_pain_entry_logs_one_summary_line_with_ids_and_no_phi(client, patient, log_lines):
    log_in(client, "pat")
    response = client.post("/painlog/new/", entry_form(str(uuid.uuid4())))
    assert response.status_code == 302
    assert PainEntry.objects.get(patient=patient).note == NOTE

    lines = log_lines()
    summaries = [line for line in lines if line["logger"] == "tmrclinic.request"]
    login, entry = summaries
    assert login["path"] == "/accounts/login/" and login["status"] == 302
    # The user is the one at the end of the request: logged in by then.
    assert login["user_id"] == patient.user.pk
    assert entry["method"] == "POST" and entry["path"] == "/painlog/new/"
    assert entry["status"] == 302
    assert entry["user_id"] == patient.user.pk
    assert entry["request_id"] == response["X-Request-ID"]
    assert entry["duration_ms"] >= 0

    printed = "\n".join(json.dumps(line) for line in lines)
    for private in ("Zebra-Quokka", "throbbing", "Jordan", "Reyes", '"pat"', "pat@example"):
        assert private not in printed
    # The scores are in the success message the page shows, never in the log.
    assert "phantom" not in printed.lower()


def test_query_strings_stay_out_of_the_summary_line(client, clinician, log_lines):
    client.force_login(clinician)
    client.get("/dashboard/?q=Reyes&flag=worse")
    (summary,) = [line for line in log_lines() if line["logger"] == "tmrclinic.request"]
    assert summary["path"] == "/dashboard/"
    assert "Reyes" not in json.dumps(log_lines())


def test_ids_do_not_leak_into_the_next_request(client, patient):
    client.force_login(patient.user)
    client.get("/painlog/")
    assert request_log.current_request_id() is None
    assert request_log._user_id.get() is None


def test_a_crash_shows_the_generic_page_and_logs_no_message(patient, log_lines, monkeypatch):
    # An exception whose message quotes the row, as PostgreSQL's "Failing row contains" does.
    def failing_record_entry(*, entry, actor):
        raise ValueError(f"Failing row contains (7, 3, {entry.note}, {entry.patient})")

    monkeypatch.setattr("painlog.views.record_entry", failing_record_entry)
    client = Client(raise_request_exception=False)
    client.force_login(patient.user)
    response = client.post("/painlog/new/", entry_form(str(uuid.uuid4())))

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "Traceback" not in page and "Zebra-Quokka" not in page and "ValueError" not in page

    lines = log_lines()
    (error,) = [line for line in lines if line["logger"] == "django.request"]
    assert error["level"] == "ERROR"
    assert error["msg"] == "Internal Server Error: /painlog/new/"
    assert error["exc_type"] == "builtins.ValueError"
    assert any("failing_record_entry" in frame for frame in error["exc_frames"])
    assert error["user_id"] == patient.user.pk
    assert error["request_id"] == response["X-Request-ID"]
    printed = "\n".join(json.dumps(line) for line in lines)
    assert "Zebra-Quokka" not in printed and "Reyes" not in printed
    # Django's request object (POST data and all) rides on the record but is never printed.
    assert "csrfmiddlewaretoken" not in printed and "submission_id" not in printed


def test_the_formatter_names_chained_exceptions_by_type():
    try:
        try:
            raise KeyError("Reyes")
        except KeyError as error:
            raise RuntimeError("note: Zebra-Quokka") from error
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = json.loads(request_log.JsonFormatter().format(record))
    assert line["exc_type"] == "builtins.RuntimeError <- builtins.KeyError"
    assert "Reyes" not in json.dumps(line) and "Zebra" not in json.dumps(line)


def test_django_s_own_4xx_lines_carry_the_request_id(client, clinician, log_lines):
    client.force_login(clinician)
    response = client.get("/dashboard/patients/999999/")
    assert response.status_code == 404
    (not_found,) = [line for line in log_lines() if line["logger"] == "django.request"]
    assert not_found["msg"] == "Not Found: /dashboard/patients/999999/"
    assert not_found["request_id"] == response["X-Request-ID"]
    assert not_found["user_id"] == clinician.pk


def test_a_failed_login_logs_no_username(client, patient, log_lines):
    typed = "jordan.reyes@example.org"
    for _ in range(6):  # past the lockout too
        client.post("/accounts/login/", {"username": typed, "password": "wrong"})
        client.post("/accounts/login/", {"username": "pat", "password": "wrong"})
    printed = json.dumps(log_lines())
    assert "jordan.reyes" not in printed and '"pat"' not in printed and "pat," not in printed
    assert "tmrclinic.request" in printed  # the requests themselves are logged
