"""
The restore drill (SECURITY item 25): back up a database full of demo data with deploy/backup.sh,
restore it with deploy/restore.sh into a new database, and check that nothing was lost: every
table's row count, every constraint and trigger, the sequences, and what a clinician sees on the
dashboard of an app started on each database with production settings.
"""

import re
import subprocess

import pytest

from patients.demo import DEMO_TOTP_SECRET
from tests.deploy_support import (
    REPO,
    Browser,
    Gunicorn,
    migrate_and_seed_demo,
    postgres_url,
    production_environment,
    query,
    scratch_database,
    static_root,  # noqa: F401 - a fixture
)

pytestmark = pytest.mark.deploy

TABLES = """
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename
"""
CONSTRAINTS = """
    SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2
"""
TRIGGERS = """
    SELECT tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid)
    FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2
"""
INDEXES = """
    SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2
"""
FUNCTIONS = """
    SELECT proname, md5(prosrc) FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace ORDER BY 1, 2
"""
SEQUENCES = """
    SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1
"""


def constraints(url):
    """Each constraint's table, name, type and definition. PostgreSQL deparses a CHECK of an
    IN list differently once the dump has been parsed again (`ARRAY[''::varchar, ...]::text[]`
    becomes `ARRAY[(''::varchar)::text, ...]`): the same rule, so casts and brackets are left
    out of the comparison; names, columns and values are not."""
    return [
        (table, name, kind, re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", definition))
        for table, name, kind, definition in query(url, CONSTRAINTS)
    ]


def row_counts(url):
    from psycopg2 import sql

    tables = [name for (name,) in query(url, TABLES)]
    statement = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM public.{}").format(
            sql.Literal(name), sql.Identifier(name)
        )
        for name in tables
    )
    return dict(query(url, statement))


def dashboard_patients(gunicorn):
    """The (link, name) of every patient on the demo clinician's dashboard."""
    browser = Browser(("127.0.0.1", gunicorn.port))
    # Clinicians need their second factor: the demo's authenticator secret is published.
    browser.log_in("clinician", totp_secret=DEMO_TOTP_SECRET)
    page = browser.get("/dashboard/")
    assert page.status == 200, page.status
    return re.findall(r'<a href="(/dashboard/patients/\d+/)">([^<]+)</a>', page.text)


def test_a_backup_restores_into_a_new_database_with_every_row_constraint_and_trigger(
    tmp_path,
    static_root,  # noqa: F811 - the fixture
):
    base_url = postgres_url()
    backups = tmp_path / "backups"
    with (
        scratch_database(base_url, "drill_source") as source_url,
        scratch_database(base_url, "drill_restored", create=False) as restored_url,
    ):
        migrate_and_seed_demo(source_url)
        env = production_environment(source_url, BACKUP_DIR=str(backups))

        backup = subprocess.run(
            ["deploy/backup.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert backup.returncode == 0, backup.stderr
        (dump,) = backups.glob("*.dump")
        assert not list(backups.glob(".*partial"))

        restore = subprocess.run(
            ["deploy/restore.sh", str(dump)],
            cwd=REPO,
            env=production_environment(restored_url),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert restore.returncode == 0, restore.stdout + restore.stderr

        source_counts, restored_counts = row_counts(source_url), row_counts(restored_url)
        assert restored_counts == source_counts
        # A drill on an empty database proves nothing.
        assert source_counts["painlog_painentry"] > 1000
        assert source_counts["patients_patient"] > 20
        assert source_counts["django_migrations"] > 10
        assert constraints(restored_url) == constraints(source_url)
        for catalog in (TRIGGERS, INDEXES, FUNCTIONS, SEQUENCES):
            assert query(restored_url, catalog) == query(source_url, catalog)
        # The database rules survived: named CHECK constraints and the cross-table triggers.
        constraint_names = {row[1] for row in query(restored_url, CONSTRAINTS)}
        assert "pain_entry_phantom_pain_0_to_10" in constraint_names
        assert "pain_entry_submitted_once" in constraint_names
        assert query(restored_url, TRIGGERS), "the clinical rule triggers are missing"

        # A second restore into the now full database is refused, and changes nothing.
        again = subprocess.run(
            ["deploy/restore.sh", str(dump)],
            cwd=REPO,
            env=production_environment(restored_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode != 0
        assert "already has" in again.stderr
        assert row_counts(restored_url) == source_counts

        app_env = {"DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_STATIC_ROOT": str(static_root)}
        servers = [
            Gunicorn(production_environment(url, **app_env), tmp_path / f"{name}.log", workers=1)
            for name, url in (("source", source_url), ("restored", restored_url))
        ]
        try:
            for server in servers:
                server.start()
            on_source, on_restored = (dashboard_patients(server) for server in servers)
        finally:
            for server in servers:
                server.stop()
        assert len(on_source) >= 10
        assert on_restored == on_source
        print(
            f"\nrestore drill: {len(source_counts)} tables, "
            f"{sum(source_counts.values())} rows, {len(constraint_names)} constraints, "
            f"{len(on_source)} patients on the dashboard of both databases"
        )
