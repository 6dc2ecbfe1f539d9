"""
Two gunicorn app servers on one PostgreSQL database behind nginx, with the repository's
gunicorn.conf.py and deploy/nginx/tmrclinic.conf (TLS with a throwaway certificate, loopback
addresses). A patient's session works on either server; under a steady load of pain entries one
app server is killed outright and restarted, and no acknowledged entry is lost or stored twice.
"""

import contextlib
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from tests.deploy_support import (
    CLINIC_HOST,
    Browser,
    Gunicorn,
    Nginx,
    free_ports,
    make_test_certificate,
    migrate,
    migrate_and_seed_demo,
    nginx_binary,
    postgres_url,
    production_environment,
    query,
    scratch_database,
    site_config_for_test,
    static_root,  # noqa: F401 - a fixture
    tls_context,
)

pytestmark = pytest.mark.deploy

THREADS = 4
ENTRIES_PER_THREAD = 90
KILL_AFTER = 100  # answers received before one app server is killed
PAUSE = 0.01  # between one thread's entries: a steady stream, not a flood of two cores

STORED = """
    SELECT submission_id::text, count(*) FROM painlog_painentry
    WHERE submission_id::text = ANY(%s) GROUP BY submission_id
"""


def entry_form(token, submission_id, phantom=4, residual=2):
    return {
        "csrfmiddlewaretoken": token,
        "submission_id": submission_id,
        "phantom_pain": phantom,
        "residual_pain": residual,
    }


def stored_counts(url, submission_ids):
    return dict(query(url, STORED, [list(submission_ids)]))


@contextlib.contextmanager
def _removed_afterwards(directory):
    try:
        yield
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class Outcome:
    def __init__(self, submission_id, started):
        self.submission_id = submission_id
        self.started = started
        self.ended = None
        self.status = None
        self.location = None
        self.error = None


def send_entries(browser, token, outcomes, lock, answered):
    for _ in range(ENTRIES_PER_THREAD):
        outcome = Outcome(str(uuid.uuid4()), time.monotonic())
        try:
            response = browser.post("/painlog/new/", entry_form(token, outcome.submission_id))
            outcome.status = response.status
            outcome.location = response.header("Location")
        except OSError as error:
            outcome.error = repr(error)
        outcome.ended = time.monotonic()
        with lock:
            outcomes.append(outcome)
            answered[0] += 1
        time.sleep(PAUSE)


def test_two_app_servers_share_sessions_and_lose_no_entry_when_one_is_killed(
    tmp_path,
    static_root,  # noqa: F811 - the fixture
):
    base_url = postgres_url()
    nginx_binary()
    started = time.monotonic()
    nginx_dir = Path(tempfile.mkdtemp(prefix="tmrclinic-nginx-"))
    with scratch_database(base_url, "two_servers") as url, _removed_afterwards(nginx_dir):
        migrate_and_seed_demo(url)
        env = production_environment(url, DJANGO_STATIC_ROOT=str(static_root))
        first, second = (Gunicorn(env, tmp_path / f"app{n}.log") for n in (1, 2))
        nginx = None
        try:
            first.start()
            second.start()

            # The session made on one app server works on the other: it lives in the database.
            # Talking to gunicorn directly, the test stands in for the proxy (X-Forwarded-Proto).
            proxy_headers = {"X-Forwarded-Proto": "https"}
            on_first = Browser(("127.0.0.1", first.port), CLINIC_HOST, headers=proxy_headers)
            on_first.log_in("patient")
            on_second = on_first.copy()
            on_second.address = ("127.0.0.1", second.port)
            token = on_second.csrf_token("/painlog/")
            submission_id = str(uuid.uuid4())
            saved = on_second.post("/painlog/new/", entry_form(token, submission_id))
            assert (saved.status, saved.header("Location")) == (302, "/painlog/")
            assert stored_counts(url, [submission_id]) == {submission_id: 1}

            # nginx in front of both, with the shipped config.
            http_port, https_port = free_ports(2)
            cert, key = make_test_certificate(nginx_dir)
            site = site_config_for_test(
                (first.port, second.port), http_port, https_port, cert, key, nginx_dir
            )
            nginx = Nginx(nginx_dir, site).start()
            proxied = Browser(("127.0.0.1", https_port), CLINIC_HOST, tls=tls_context(cert))
            proxied.cookies = dict(on_first.cookies)

            redirect = Browser(("127.0.0.1", http_port), CLINIC_HOST).get("/painlog/?page=2")
            assert redirect.status == 301
            assert redirect.header("Location") == f"https://{CLINIC_HOST}/painlog/?page=2"
            # The proxy chooses the request id; a client's is overwritten.
            health = proxied.get("/healthz/", headers={"X-Request-ID": "client-chosen-id-1234"})
            assert health.status == 200
            assert re.fullmatch(r"[0-9a-f]{32}", health.header("X-Request-ID"))
            # Django sees HTTPS from the proxy: HSTS and a page, not a redirect loop.
            home = proxied.get("/painlog/")
            assert home.status == 200, home.status
            assert "max-age=31536000" in home.header("Strict-Transport-Security")

            # A steady load of pain entries through nginx; one app server dies in the middle.
            token = proxied.csrf_token("/painlog/")
            outcomes, lock, answered = [], threading.Lock(), [0]
            threads = [
                threading.Thread(
                    target=send_entries, args=(proxied.copy(), token, outcomes, lock, answered)
                )
                for _ in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            while answered[0] < KILL_AFTER and any(t.is_alive() for t in threads):
                time.sleep(0.005)
            kill_started = time.monotonic()
            first.kill()
            kill_ended = time.monotonic()
            time.sleep(0.5)
            first.start()
            restarted = time.monotonic()
            for thread in threads:
                thread.join(60)
            load_ended = time.monotonic()

            # The restarted server serves the same session again.
            after_restart = str(uuid.uuid4())
            saved = on_first.post("/painlog/new/", entry_form(token, after_restart))
            assert (saved.status, saved.header("Location")) == (302, "/painlog/")
            assert stored_counts(url, [after_restart]) == {after_restart: 1}
        finally:
            if nginx:
                nginx.stop()
            first.stop()
            second.stop()

        sent = {outcome.submission_id for outcome in outcomes}
        acknowledged = {
            o.submission_id for o in outcomes if o.status == 302 and o.location == "/painlog/"
        }
        failed = [o for o in outcomes if o.submission_id not in acknowledged]
        in_flight_at_kill = [
            o for o in failed if o.started <= kill_ended and o.ended >= kill_started
        ]
        stored = stored_counts(url, sent)
        access_log = (nginx_dir / "tmrclinic.access.log").read_text()
        upstreams = [
            address
            for field in re.findall(r"upstream=(.*?) upstream_status", access_log)
            for address in field.split(", ")
        ]
    print(
        f"\ntwo servers: sent {len(sent)}, acknowledged {len(acknowledged)}, "
        f"stored {len(stored)} (each once: {set(stored.values()) <= {1}}), "
        f"failed {len(failed)} (5xx {sum(1 for o in failed if (o.status or 0) >= 500)}, "
        f"in flight at the kill {len(in_flight_at_kill)}), "
        f"stored without an answer {len(set(stored) - acknowledged)}; "
        f"kill at {kill_started - started:.1f} s, restarted in {restarted - kill_ended:.1f} s, "
        f"load over at {load_ended - started:.1f} s; "
        f"requests per upstream: { {u: upstreams.count(u) for u in sorted(set(upstreams))} }"
    )

    assert len(sent) == THREADS * ENTRIES_PER_THREAD
    assert answered[0] >= KILL_AFTER, "the load ended before the kill"
    # Every acknowledged entry is stored exactly once, and nothing else is stored twice.
    assert all(stored.get(submission_id) == 1 for submission_id in acknowledged)
    assert set(stored.values()) <= {1}
    assert set(stored) <= sent
    # The only failures are the requests the killed server was serving: at most one per client
    # thread, each a 502 from nginx, none a dropped connection. The rest went to the other server.
    assert all(o.status == 502 for o in failed), [(o.status, o.error) for o in failed]
    assert failed == in_flight_at_kill
    assert len(failed) <= THREADS
    # An entry the killed server saved before dying is stored though the patient saw an error;
    # saving again sends the same submission id, so it would not be stored twice.
    assert set(stored) - acknowledged <= {o.submission_id for o in failed}
    # Both app servers took part.
    assert {f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"} <= set(upstreams)
    assert load_ended - started < 60


def redis_url_for_test():
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
    address = urllib.parse.urlsplit(url)
    try:
        socket.create_connection((address.hostname, address.port or 6379), timeout=1).close()
    except OSError:
        pytest.skip(f"needs Redis at {url} (TEST_REDIS_URL): apt-get install -y redis-server")
    return url


@pytest.mark.parametrize("cache", ["database", "redis"])
def test_two_app_servers_count_rate_limits_together(tmp_path, static_root, cache):  # noqa: F811
    """Login attempts split over both app servers add up: the cache is shared, in the database
    by default or in Redis when REDIS_URL is set."""
    base_url = postgres_url()
    extra = {"DJANGO_STATIC_ROOT": str(static_root), "CLINIC_LOGIN_RATE": "4"}
    if cache == "redis":
        extra["REDIS_URL"] = redis_url_for_test()
    # An address of its own, so no other test's attempts count.
    address = f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    with scratch_database(base_url, f"rate_{cache}") as url:
        migrate(url)
        env = production_environment(url, **extra)
        servers = [Gunicorn(env, tmp_path / f"app{n}.log", workers=1) for n in (1, 2)]
        try:
            for server in servers:
                server.start()
            statuses = []
            for attempt in range(6):
                server = servers[attempt % 2]
                browser = Browser(
                    ("127.0.0.1", server.port),
                    CLINIC_HOST,
                    headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": address},
                )
                token = browser.csrf_token("/accounts/login/")
                response = browser.post(
                    "/accounts/login/",
                    # A different unknown user each time: the lockout (per user) stays out of it.
                    {"csrfmiddlewaretoken": token, "username": f"nobody{attempt}", "password": "x"},
                )
                statuses.append(response.status)
        finally:
            for server in servers:
                server.stop()
    assert statuses == [200, 200, 200, 200, 429, 429]
    if cache == "redis":
        import redis

        keys = redis.Redis.from_url(extra["REDIS_URL"]).keys(f"*ratelimit:login:{address}:*")
        assert keys, "the app servers did not count in Redis"
