"""The production files: gunicorn.conf.py, deploy/nginx/tmrclinic.conf and .env.example."""

import datetime
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.deploy_support import (
    Nginx,
    clean_environment,
    free_ports,
    make_test_certificate,
    nginx_binary,
    site_config_for_test,
)

REPO = Path(__file__).resolve().parent.parent
NGINX_CONF = REPO / "deploy" / "nginx" / "tmrclinic.conf"


def gunicorn_config(**env):
    """gunicorn's fully resolved settings for this environment, as a dict of strings."""
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config"],
        cwd=REPO,
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        return result
    return dict(
        (name.strip(), value.strip())
        for name, _, value in (line.partition("=") for line in result.stdout.splitlines())
    )


def test_a_worker_freezes_its_startup_heap_for_the_garbage_collector():
    """tmrclinic/wsgi.py, as each gunicorn worker imports it: what is loaded by then is left out
    of the collector's full collections (bench/README.md, "Garbage collection")."""
    script = (
        "import gc; assert gc.get_freeze_count() == 0; "
        "import tmrclinic.wsgi; print(gc.get_freeze_count())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=clean_environment(DATABASE_URL="sqlite:///:memory:"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Django, the apps and their models: tens of thousands of objects.
    assert int(result.stdout) > 10_000


def test_gunicorn_defaults_sync_workers_sized_by_cores_and_capped():
    config = gunicorn_config()
    cores = len(os.sched_getaffinity(0))
    assert config["worker_class"] == "sync"
    assert config["workers"] == str(min(2 * cores + 1, 8))
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["wsgi_app"] == "tmrclinic.wsgi:application"
    assert (config["timeout"], config["graceful_timeout"]) == ("30", "30")
    assert (config["max_requests"], config["max_requests_jitter"]) == ("2000", "200")
    assert config["forwarded_allow_ips"] == "['127.0.0.1', '::1']"
    assert config["accesslog"] == "-"
    # Two instances on one host must not fight over one control socket.
    assert config["control_socket_disable"] == "True"


def test_gunicorn_settings_come_from_the_environment():
    config = gunicorn_config(
        GUNICORN_BIND="127.0.0.1:18050, 10.0.0.11:8000",
        GUNICORN_WORKERS="3",
        GUNICORN_TIMEOUT="60",
        GUNICORN_FORWARDED_ALLOW_IPS="10.0.0.10",
        GUNICORN_ACCESS_LOG="0",
        GUNICORN_CONTROL_SOCKET="/run/tmrclinic/a.ctl",
    )
    assert config["bind"] == "['127.0.0.1:18050', '10.0.0.11:8000']"
    assert config["workers"] == "3"
    assert config["timeout"] == "60"
    assert config["forwarded_allow_ips"] == "['10.0.0.10']"
    assert config["accesslog"] == "None"
    assert config["control_socket"] == "/run/tmrclinic/a.ctl"
    assert config["control_socket_disable"] == "False"


@pytest.mark.parametrize(
    ("name", "value"), [("GUNICORN_WORKERS", "lots"), ("GUNICORN_TIMEOUT", "0")]
)
def test_gunicorn_refuses_a_bad_number_by_name(name, value):
    result = gunicorn_config(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_gunicorn_tells_the_app_its_timeout_for_the_statement_timeout_check(monkeypatch):
    monkeypatch.setenv("GUNICORN_TIMEOUT", "20")
    assert runpy.run_path(str(REPO / "gunicorn.conf.py"))["timeout"] == 20
    assert os.environ["GUNICORN_TIMEOUT"] == "20"
    monkeypatch.delenv("GUNICORN_TIMEOUT")
    runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert os.environ["GUNICORN_TIMEOUT"] == "30"


def test_gunicorn_access_line_is_json_without_the_query_string(monkeypatch, capsys):
    from gunicorn.config import Config

    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    json_logger = runpy.run_path(str(REPO / "gunicorn.conf.py"))["JsonLogger"]
    config = Config()
    config.set("accesslog", "-")
    logger = json_logger(config)

    class FakeResponse:
        status = "302 Found"
        headers = [("Location", "/painlog/"), ("X-Request-ID", "4b3d4e5f9f1c2a7e")]
        sent = 0

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/dashboard/",
        "QUERY_STRING": "q=Reyes",
        "RAW_URI": "/dashboard/?q=Reyes",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    logger.access(FakeResponse(), [], environ, datetime.timedelta(milliseconds=12))
    (line,) = capsys.readouterr().out.splitlines()
    access = json.loads(line)
    assert access["logger"] == "gunicorn.access"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/dashboard/", 302)
    assert access["request_id"] == "4b3d4e5f9f1c2a7e"
    assert access["duration_ms"] == 12.0
    assert "Reyes" not in line


def active_lines(text):
    return [line.split("#", 1)[0] for line in text.splitlines() if line.split("#", 1)[0].strip()]


def test_nginx_never_retries_a_post_that_reached_an_app_server():
    directives = " ".join(active_lines(NGINX_CONF.read_text()))
    assert "proxy_next_upstream error timeout;" in directives
    assert "non_idempotent" not in directives
    for header in ("X-Forwarded-Proto $scheme", "X-Request-ID $request_id", "Host $host"):
        assert f"proxy_set_header {header};" in directives
    # Nothing of a request or response is spooled to disk.
    assert "proxy_max_temp_file_size 0;" in directives


def test_nginx_accepts_the_shipped_config(tmp_path):
    nginx_binary()
    directory = Path(tempfile.mkdtemp(prefix="tmrclinic-nginx-"))
    try:
        cert, key = make_test_certificate(directory)
        first, second, http_port, https_port = free_ports(4)
        site = site_config_for_test((first, second), http_port, https_port, cert, key, directory)
        output = Nginx(directory, site).check()
    finally:
        subprocess.run(["rm", "-rf", str(directory)], check=False)
    assert "test is successful" in output


# --- .env.example documents every variable, and only real ones ---

READERS = [
    REPO / "tmrclinic" / "settings.py",
    REPO / "gunicorn.conf.py",
    REPO / "deploy" / "backup.sh",
    REPO / "deploy" / "restore.sh",
]
PYTHON_READ = re.compile(
    r"""(?:\b_?env_\w+|\bdatabase_from_url|\bclinic_time_zone|os\.environ\.get|os\.getenv|"""
    r"""os\.environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]*)["']|os\.environ\[["']([A-Z][A-Z0-9_]*)["']\]"""
)
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::-|:\?|\})")


def variables_read():
    names = set()
    for path in READERS:
        text = path.read_text()
        pattern = SHELL_READ if path.suffix == ".sh" else PYTHON_READ
        for match in pattern.finditer(text):
            names.add(next(group for group in match.groups() if group))
    return names


def variables_documented():
    text = (REPO / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_the_readers_are_found():
    # The regular expressions work: a few names every version of the app reads.
    assert {"DATABASE_URL", "DJANGO_SECRET_KEY", "GUNICORN_WORKERS", "BACKUP_DIR"} <= (
        variables_read()
    )


def test_env_example_documents_every_variable_the_app_reads():
    missing = variables_read() - variables_documented()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_documents_no_variable_nothing_reads():
    unknown = variables_documented() - variables_read()
    assert not unknown, f"nothing reads these .env.example variables: {sorted(unknown)}"


def test_every_env_example_variable_has_a_comment_line_above_it():
    lines = (REPO / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^(?:# )?[A-Z][A-Z0-9_]*=", line):
            above = lines[number - 1]
            assert above.startswith("# ") and "=" not in above.split()[1], line


@pytest.mark.parametrize(
    "key", ["DJANGO_SECRET_KEY", "CLINIC_PSEUDONYM_KEY", "CLINIC_RECOVERY_CODE_KEY"]
)
def test_env_example_leaves_every_key_empty(key):
    # A placeholder long enough to pass the length check would end up in production.
    assert re.search(rf"^{key}=$", (REPO / ".env.example").read_text(), re.MULTILINE)
