"""When the database goes away: a plain 503 page, /healthz/ says so, nothing half stored, and
the app recovers by itself when the database returns.

The PostgreSQL test runs the app in gunicorn with production settings, talking to PostgreSQL
through a TCP relay that the test cuts and restores: the database really disappears from the
app's point of view, connections and all."""

import contextlib
import re
import selectors
import socket
import threading
import time
import urllib.parse
import uuid

import pytest
from django.db import OperationalError
from django.urls import reverse

from painlog.models import PainEntry
from tests.deploy_support import (
    Browser,
    Gunicorn,
    clean_environment,
    manage,
    migrate,
    postgres_url,
    production_environment,
    query,
    scratch_database,
    static_root,  # noqa: F401 - a fixture
)


def test_a_database_error_answers_with_the_plain_503_page(client, patient, monkeypatch):
    def database_gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("painlog.views.record_entry", database_gone)
    client.raise_request_exception = False
    client.force_login(patient.user)
    response = client.post(
        reverse("painlog:new"),
        {"submission_id": str(uuid.uuid4()), "phantom_pain": 4, "residual_pain": 3},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "it was <strong>not</strong> saved" in body
    assert "Traceback" not in body
    assert "OperationalError" not in body
    assert "Jordan" not in body
    assert not PainEntry.objects.exists()


def test_other_errors_keep_the_500_page(client, patient, monkeypatch):
    def broken(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr("painlog.views.record_entry", broken)
    client.raise_request_exception = False
    client.force_login(patient.user)
    response = client.post(
        reverse("painlog:new"),
        {"submission_id": str(uuid.uuid4()), "phantom_pain": 4, "residual_pain": 3},
    )
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


# The real outage, on PostgreSQL


class Relay:
    """A TCP relay from a local port to PostgreSQL that can be cut (every connection dropped,
    new ones refused) and restored on the same port."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener = None
        self.sockets = []
        self.lock = threading.Lock()

    def start(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets = []

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        selector = selectors.DefaultSelector()
        selector.register(a, selectors.EVENT_READ, b)
        selector.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in selector.select():
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()


def wait_for(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def healthz(browser):
    with contextlib.suppress(OSError):
        return browser.get("/healthz/").status
    return None


def relayed(database_url, relay):
    """The same database, reached through the relay."""
    parts = urllib.parse.urlsplit(database_url)
    user = parts.netloc.rsplit("@", 1)[0]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{relay.port}"))


PATIENT_LOGIN = (
    "from django.contrib.auth.models import User; from patients.models import Clinic, Patient; "
    "import datetime; user = User.objects.create_user('outage', password='outage passphrase 1'); "
    "Patient.objects.create(clinic=Clinic.objects.create(name='Outage'), mrn='O1', "
    "first_name='Olga', last_name='Outage', user=user, date_of_birth=datetime.date(1970, 1, 1))"
)


@pytest.mark.deploy
def test_the_app_rides_out_a_real_database_outage(tmp_path, static_root):  # noqa: F811
    base_url = postgres_url()
    with scratch_database(base_url, "outage") as database_url:
        migrate(database_url)
        manage("shell", "-c", PATIENT_LOGIN, env=clean_environment(DATABASE_URL=database_url))
        parts = urllib.parse.urlsplit(database_url)
        relay = Relay((parts.hostname, parts.port or 5432))
        relay.start()
        app_env = {"DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_STATIC_ROOT": str(static_root)}
        server = Gunicorn(
            production_environment(relayed(database_url, relay), **app_env),
            tmp_path / "gunicorn.log",
            workers=1,
        )
        server.start()
        try:
            browser = Browser(("127.0.0.1", server.port))
            browser.log_in("outage", "outage passphrase 1")
            home = browser.get("/painlog/").text
            entry = {
                "csrfmiddlewaretoken": re.search(
                    r'name="csrfmiddlewaretoken" value="([^"]+)"', home
                ).group(1),
                "submission_id": re.search(r'name="submission_id" value="([^"]+)"', home).group(1),
                "phantom_pain": "6",
                "residual_pain": "2",
            }

            relay.cut()
            assert healthz(browser) == 503
            page = browser.get("/painlog/")
            assert page.status == 503
            assert "Please try again in a minute" in page.text
            assert "Traceback" not in page.text
            refused = browser.post("/painlog/quick/", entry)
            assert refused.status == 503
            assert "it was <strong>not</strong> saved" in refused.text

            relay.start()
            assert wait_for(lambda: healthz(browser) == 200), "no recovery"
            # The patient sends the same form again: stored once, however often it is sent.
            assert browser.post("/painlog/quick/", entry).status == 302
            assert browser.post("/painlog/quick/", entry).status == 302
            assert browser.get("/painlog/").status == 200
        finally:
            server.stop()
            relay.cut()
        stored = query(
            database_url,
            "SELECT submission_id::text, count(*) FROM painlog_painentry GROUP BY 1",
        )
        assert stored == [(entry["submission_id"], 1)]
