"""
Helpers for the deployment tests: scratch PostgreSQL databases, gunicorn and nginx started from
the repository's own config files, and a small stdlib HTTP client with a cookie jar.

These tests need PostgreSQL (DATABASE_URL=postgres://...), and some need nginx; where either is
missing they skip with a message saying what to install, so `make test` on a laptop with SQLite
still passes. CI (.ci/run) installs nginx and runs them on PostgreSQL.
"""

import contextlib
import http.client
import http.cookies
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import dj_database_url
import pytest

REPO = Path(__file__).resolve().parent.parent
SECRET_KEY = "deploy-test-" + "Zq7pL2vX9w" * 6
# Production refuses to start without its other two keys, or with one key for two purposes.
PSEUDONYM_KEY = "deploy-test-pseudonyms-" + "Hc4tW8mR2k" * 5
RECOVERY_CODE_KEY = "deploy-test-recovery-codes-" + "Vn6yB3jQ5s" * 5
OTP_KEY = "deploy-test-authenticator-seeds-" + "Pw2xR8kD4m" * 5
DEMO_PASSWORD = "tmrdemo123"
CLINIC_HOST = "clinic.example.org"
# Servers the tests start listen on loopback ports in this range.
PORTS = range(18000, 18100)


def postgres_url():
    """DATABASE_URL when it points at PostgreSQL; the test is skipped otherwise."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://... (CI does)")
    for tool in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}: apt-get install -y postgresql-client")
    return url


def nginx_binary():
    path = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(path).exists():
        pytest.skip("needs nginx: apt-get install -y nginx (CI installs it)")
    return path


# Ports this process has handed out: a server often picks its port a while before it binds it
# (two Gunicorns made, then started), and nothing else may get the same one meanwhile.
_handed_out = set()


def free_ports(count):
    """Loopback ports nobody listens on, from PORTS, none handed out before by this process
    (until PORTS runs out of those, when the record starts afresh)."""
    ports = _free_unused_ports(count)
    if len(ports) < count:
        _handed_out.clear()
        ports = _free_unused_ports(count)
    if len(ports) < count:
        raise RuntimeError(f"fewer than {count} free ports in {PORTS}")
    _handed_out.update(ports)
    return ports


def _free_unused_ports(count):
    candidates = [port for port in PORTS if port not in _handed_out]
    random.shuffle(candidates)
    ports = []
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
        if len(ports) == count:
            break
    return ports


def free_port():
    """A loopback port nobody listens on, from PORTS (see free_ports)."""
    return free_ports(1)[0]


def url_for_database(base_url, name):
    parts = urllib.parse.urlsplit(base_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def database_name(base_url):
    return dj_database_url.parse(base_url)["NAME"]


def _admin_connection(base_url):
    import psycopg2

    connection = psycopg2.connect(url_for_database(base_url, "postgres"))
    connection.autocommit = True
    return connection


def drop_database(base_url, name):
    from psycopg2 import sql

    with contextlib.closing(_admin_connection(base_url)) as admin, admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def scratch_database(base_url, suffix, create=True):
    """A database named after DATABASE_URL's plus a suffix, dropped afterwards; yields its URL."""
    from psycopg2 import sql

    name = f"{database_name(base_url)}_{suffix}"
    drop_database(base_url, name)
    if create:
        with contextlib.closing(_admin_connection(base_url)) as admin, admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_for_database(base_url, name)
    finally:
        drop_database(base_url, name)


def query(url, statement, params=None):
    import psycopg2

    with contextlib.closing(psycopg2.connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def clean_environment(**changes):
    """This process's environment without the app's settings, plus the changes."""
    prefixes = ("DJANGO_", "CLINIC_", "GUNICORN_", "DATABASE_", "BACKUP_", "EMAIL_", "REDIS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(changes)
    return env


def production_environment(database_url, **changes):
    """Production settings (DEBUG off) for the given database, as an operator would set them."""
    return clean_environment(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=SECRET_KEY,
        CLINIC_PSEUDONYM_KEY=PSEUDONYM_KEY,
        CLINIC_RECOVERY_CODE_KEY=RECOVERY_CODE_KEY,
        CLINIC_OTP_KEY=OTP_KEY,
        DJANGO_ALLOWED_HOSTS=f"{CLINIC_HOST},127.0.0.1",
        DATABASE_URL=database_url,
        # Production refuses to start without SMTP (issue 21); nothing here sends mail.
        EMAIL_HOST="smtp.invalid",
        **changes,
    )


def manage(*args, env, timeout=180):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def migrate(database_url):
    manage("migrate", "--noinput", "-v0", env=clean_environment(DATABASE_URL=database_url))


def migrate_and_seed_demo(database_url):
    migrate(database_url)
    # seed_demo refuses to run with DEBUG off: the demo accounts' password is published. The
    # staff's authenticator seeds are encrypted under the key production will decrypt them with.
    env = clean_environment(DATABASE_URL=database_url, DJANGO_DEBUG="1", CLINIC_OTP_KEY=OTP_KEY)
    return manage("seed_demo", env=env)


@pytest.fixture(scope="session")
def static_root():
    """Collected static files, as production serves them (WhiteNoise needs the manifest)."""
    directory = Path(tempfile.mkdtemp(prefix="tmrclinic-static-"))
    env = production_environment("sqlite:///unused.sqlite3", DJANGO_STATIC_ROOT=str(directory))
    manage("collectstatic", "--noinput", "-v0", env=env)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


class Gunicorn:
    """One app server: gunicorn with the repository's gunicorn.conf.py, in its own process group
    so that killing it kills the master and its workers, like a crashed host."""

    def __init__(self, env, log_path, workers=2):
        self.port = free_port()
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(workers),
        }
        self.log_path = log_path
        self.process = None

    def start(self, wait=30):
        log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py")],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._log = log
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{Path(self.log_path).read_text()}")
            with contextlib.suppress(OSError):
                status = Browser(("127.0.0.1", self.port)).get("/healthz/").status
                if status == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"gunicorn did not answer in {wait} s:\n{Path(self.log_path).read_text()}"
        )

    def kill(self):
        """SIGKILL to the master and its workers at once: no graceful anything. Returns once the
        port refuses connections (the kernel still queues them while a dying worker holds the
        listening socket)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return
            time.sleep(0.01)
        raise RuntimeError(f"port {self.port} still accepts connections after the kill")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._log.close()


def make_test_certificate(directory):
    """A self-signed certificate for CLINIC_HOST, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command: apt-get install -y openssl")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={CLINIC_HOST}",
         "-addext", f"subjectAltName=DNS:{CLINIC_HOST}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def site_config_for_test(app_ports, http_port, https_port, cert, key, log_dir):
    """deploy/nginx/tmrclinic.conf itself, with loopback addresses, the test certificate and log
    paths in a temporary directory. Every replacement must happen exactly as often as expected,
    so a change to the shipped file fails here instead of testing something else."""
    text = (REPO / "deploy" / "nginx" / "tmrclinic.conf").read_text()
    replacements = [
        (r"^\s*listen \[::\]:.*\n", "", 4),  # no IPv6 needed on loopback
        (r"server 10\.0\.0\.11:8000", f"server 127.0.0.1:{app_ports[0]}", 1),
        (r"server 10\.0\.0\.12:8000", f"server 127.0.0.1:{app_ports[1]}", 1),
        (r"listen 80\b", f"listen 127.0.0.1:{http_port}", 2),
        (r"listen 443\b", f"listen 127.0.0.1:{https_port}", 2),
        (r"/etc/letsencrypt/live/clinic\.example\.org/fullchain\.pem", str(cert), 1),
        (r"/etc/letsencrypt/live/clinic\.example\.org/privkey\.pem", str(key), 1),
        (r"/var/log/nginx/", f"{log_dir}/", 3),
    ]
    for pattern, replacement, expected in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert count == expected, f"{pattern!r} matched {count} times in tmrclinic.conf"
    return text


class Nginx:
    """Debian's nginx with its own prefix, config, pid file, logs and temp paths in a directory."""

    def __init__(self, directory, site_config):
        self.binary = nginx_binary()
        self.directory = directory
        self.directory.chmod(0o755)
        (self.directory / "tmrclinic.conf").write_text(site_config)
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        temp_paths = "".join(
            f"    {kind}_temp_path {self.directory}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.directory / "nginx.conf").write_text(
            f"{user}worker_processes 1;\n"
            f"pid {self.directory}/nginx.pid;\n"
            f"error_log {self.directory}/error.log info;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"{temp_paths}"
            f"    access_log {self.directory}/access.log;\n"
            f"    include {self.directory}/tmrclinic.conf;\n"
            "}\n"
        )
        self.process = None

    def command(self, *args):
        return [self.binary, "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
                "-e", str(self.directory / "error.log"), *args]  # fmt: skip

    def check(self):
        result = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stderr

    def start(self):
        self.check()
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(0.5)
        if self.process.poll() is not None:
            raise RuntimeError((self.directory / "error.log").read_text())
        return self

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


class Browser:
    """Just enough of a browser over http.client: a cookie jar, form posts and CSRF.

    Connects to `address` (host, port) but names `host` in the Host header (and in TLS's SNI),
    so a loopback server can be reached under the clinic's name. Cookies marked Secure are sent
    over plain HTTP too: the tests that talk to gunicorn directly stand in for the proxy.
    """

    def __init__(self, address, host="127.0.0.1", tls=None, headers=None):
        self.address = address
        self.host = host
        self.tls = tls
        self.cookies = {}
        self.headers = dict(headers or {})
        scheme = "https" if tls or self.headers.get("X-Forwarded-Proto") == "https" else "http"
        self.origin = f"{scheme}://{host}"

    def copy(self):
        other = Browser(self.address, self.host, self.tls, self.headers)
        other.cookies = dict(self.cookies)
        return other

    def _connection(self, timeout):
        if self.tls is None:
            return http.client.HTTPConnection(*self.address, timeout=timeout)
        return _LoopbackHTTPS(self.address, self.host, self.tls, timeout)

    def request(self, method, path, form=None, headers=None, timeout=30):
        all_headers = {"Host": self.host, **self.headers, **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers.setdefault("Origin", self.origin)
            all_headers.setdefault("Referer", self.origin + path)
        connection = self._connection(timeout)
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            content = raw.read()
            headers_seen = {k.lower(): v for k, v in raw.getheaders()}
            for value in raw.headers.get_all("Set-Cookie") or []:
                self._remember(value)
            return Response(raw.status, headers_seen, content)
        finally:
            connection.close()

    def _remember(self, set_cookie):
        cookie = http.cookies.SimpleCookie()
        cookie.load(set_cookie)
        for name, morsel in cookie.items():
            if morsel["max-age"] == "0" or morsel.value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, form, **kwargs):
        return self.request("POST", path, form=form, **kwargs)

    def csrf_token(self, path):
        page = self.get(path)
        assert page.status == 200, (path, page.status, page.text[:500])
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def log_in(self, username, password=DEMO_PASSWORD, totp_secret=None):
        """Log in; with totp_secret (base32, as seed_demo prints it), pass the second factor that
        clinicians and admins need too."""
        token = self.csrf_token("/accounts/login/")
        response = self.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
        assert response.status == 302, (response.status, response.text[:1000])
        if totp_secret is not None:
            response = self.pass_second_factor(totp_secret)
        return response

    def pass_second_factor(self, totp_secret):
        import base64

        from django_otp.oath import totp

        token = self.csrf_token("/accounts/two-factor/verify/")
        code = f"{totp(base64.b32decode(totp_secret)):06d}"
        response = self.post(
            "/accounts/two-factor/verify/", {"csrfmiddlewaretoken": token, "otp_token": code}
        )
        assert response.status == 302, (response.status, response.text[:1000])
        return response


class _LoopbackHTTPS(http.client.HTTPSConnection):
    """HTTPS to a loopback address, verifying the certificate for the clinic's host name."""

    def __init__(self, address, server_name, context, timeout):
        super().__init__(server_name, address[1], context=context, timeout=timeout)
        self._address = address

    def connect(self):
        sock = socket.create_connection(self._address, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def tls_context(cert):
    return ssl.create_default_context(cafile=str(cert))
