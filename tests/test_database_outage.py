"""When the database goes away: a plain 503 page, /healthz/ says so, nothing half stored, and
the app recovers by itself when the database returns.

The PostgreSQL test runs the app in gunicorn with production settings, talking to PostgreSQL
through a TCP relay that the test cuts and restores: the database really disappears from the
app's point of view, connections and all."""

import contextlib
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from painlog.models import PainEntry

ROOT = Path(__file__).resolve().parents[1]


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


def on_postgresql():
    return connection.vendor == "postgresql"


class Browser:
    """Plain HTTP on loopback standing in for HTTPS at a proxy: the app is told the request
    came over TLS (X-Forwarded-Proto), so its cookies are Secure, and we send them anyway."""

    def __init__(self, base):
        self.base = base
        self.cookies = {}
        self.opener = urllib.request.build_opener(NoRedirect())

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, body)
        request.add_header("X-Forwarded-Proto", "https")
        request.add_header("Origin", self.base.replace("http://", "https://"))
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            with self.opener.open(request, timeout=20) as response:
                self._keep(response.headers)
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            self._keep(error.headers)
            return error.code, error.read().decode()

    def _keep(self, headers):
        for header in headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value

    def form_fields(self, path):
        _, html = self.request(path)
        return dict(re.findall(r'name="(csrfmiddlewaretoken|submission_id)" value="([^"]+)"', html))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wait_for(check, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


@pytest.fixture
def scratch_database():
    import psycopg2

    settings = connection.settings_dict
    name = f"tmrclinic_outage_{os.getpid()}"
    admin = psycopg2.connect(
        host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
        dbname="postgres",
    )  # fmt: skip
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name, settings
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.skipif(shutil.which("pg_isready") is None, reason="needs PostgreSQL's tools")
def test_the_app_rides_out_a_real_database_outage(db, scratch_database):
    if not on_postgresql():
        pytest.skip("runs with DATABASE_URL on PostgreSQL (CI does this)")
    import psycopg2

    name, settings = scratch_database
    direct = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"
    relay = Relay((settings["HOST"], int(settings["PORT"] or 5432)))
    relay.start()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "outage-test-" + "k" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_BEHIND_PROXY": "1",
        "DATABASE_URL": direct,
    }
    env.pop("REDIS_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [*manage, "shell", "-c",
         "from django.contrib.auth.models import User; from patients.models import Clinic, "
         "Patient; import datetime; u = User.objects.create_user('outage', password="
         "'outage passphrase 1'); Patient.objects.create(clinic=Clinic.objects.create("
         "name='Outage'), mrn='O1', first_name='Olga', last_name='Outage', user=u, "
         "date_of_birth=datetime.date(1970, 1, 1))"],
        env=env, check=True, cwd=ROOT,
    )  # fmt: skip
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"],
                   env={**env, "DJANGO_STATIC_ROOT": str(ROOT / "staticfiles")},
                   check=True, cwd=ROOT)  # fmt: skip
    port = Relay().port
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tmrclinic.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
        env={**env, "DATABASE_URL": f"{direct.rsplit('@', 1)[0]}@127.0.0.1:{relay.port}/{name}"},
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        assert wait_for(lambda: _status(browser, "/healthz/") == 200), "the app did not start"
        token = browser.form_fields("/accounts/login/")["csrfmiddlewaretoken"]
        status, _ = browser.request(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": "outage",
             "password": "outage passphrase 1"},
        )  # fmt: skip
        assert status == 302
        form = browser.form_fields("/painlog/")
        entry = {**form, "phantom_pain": "6", "residual_pain": "2"}

        relay.cut()
        assert _status(browser, "/healthz/") == 503
        status, page = browser.request("/painlog/")
        assert status == 503
        assert "Please try again in a minute" in page
        assert "Traceback" not in page
        status, page = browser.request("/painlog/new/", entry)
        assert status == 503
        assert "it was <strong>not</strong> saved" in page

        relay.start()
        assert wait_for(lambda: _status(browser, "/healthz/") == 200), "no recovery"
        # The patient sends the same form again: stored once, however often it is sent.
        assert browser.request("/painlog/new/", entry)[0] == 302
        assert browser.request("/painlog/new/", entry)[0] == 302
        assert browser.request("/painlog/")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
        relay.cut()
    with psycopg2.connect(direct) as check, check.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM painlog_painentry WHERE submission_id = %s",
            [entry["submission_id"]],
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT count(*) FROM painlog_painentry")
        assert cursor.fetchone()[0] == 1
    check.close()


def _status(browser, path):
    try:
        return browser.request(path)[0]
    except OSError:
        return None
