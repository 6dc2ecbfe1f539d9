"""`/healthz/` tells a load balancer whether the database answers."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_healthz_answers_200_with_json_when_the_database_answers(client, db):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_needs_no_login_and_shows_nothing_private(client, db, patient):
    body = client.get("/healthz/").content.decode()
    assert patient.last_name not in body and patient.mrn not in body


def test_healthz_answers_503_when_the_database_is_down():
    # A real outage, not a mock: PostgreSQL on a port where nothing listens.
    code = (
        "import django; django.setup();"
        "from django.test.utils import setup_test_environment; setup_test_environment();"
        "from django.test import Client; r = Client().get('/healthz/');"
        "print(r.status_code, r.content.decode())"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="tmrclinic.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:9/tmrclinic",
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    # The app's log lines go to stdout too; the answer is printed last.
    answer = result.stdout.splitlines()[-1]
    assert answer.startswith('503 {"status": "unavailable", "database": "down"}')


def test_healthz_refuses_writes(client, db):
    assert client.post("/healthz/").status_code == 405
