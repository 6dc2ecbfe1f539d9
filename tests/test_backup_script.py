"""
deploy/backup.sh: refuses to guess, writes atomically, and prunes only its own old dumps, only
after a good new one. pg_dump and pg_restore are stand-ins on PATH here, so these run anywhere
with bash; the restore drill (test_deploy_restore.py) runs the real tools on PostgreSQL.
"""

import os
import subprocess
import time

import dj_database_url
import pytest
import time_machine

from tests.deploy_support import REPO, clean_environment

URL = "postgres://clinic@db.internal:5432/tmrclinic"
DAY = 86400

FAKE_PG_DUMP = """#!/usr/bin/env bash
# Records its arguments and environment, writes a "dump" to --file=.
set -eu
printf '%s\\n' "$@" > "$FAKE_LOG"
printf 'PGPASSWORD=%s\\n' "${PGPASSWORD:-}" >> "$FAKE_LOG"
[ "${FAKE_PG_DUMP_FAILS:-0}" = 0 ] || { echo "pg_dump: connection refused" >&2; exit 1; }
for arg in "$@"; do case "$arg" in --file=*) echo fake-dump > "${arg#--file=}";; esac; done
"""
FAKE_PG_RESTORE = """#!/usr/bin/env bash
# Only --list, as backup.sh uses it: succeeds for the stand-in's dumps.
grep -q fake-dump "${@: -1}"
"""


@pytest.fixture
def fake_tools(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("pg_dump", FAKE_PG_DUMP), ("pg_restore", FAKE_PG_RESTORE)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def run_backup(tmp_path, fake_tools, **env):
    environment = clean_environment(
        PATH=f"{fake_tools}:{os.environ['PATH']}",
        BACKUP_DIR=str(tmp_path / "backups"),
        FAKE_LOG=str(tmp_path / "pg_dump.log"),
    )
    environment.update(env)
    return subprocess.run(
        [str(REPO / "deploy" / "backup.sh")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def real_time():
    """The machine's clock, even where a test has stopped or moved this process's: backup.sh
    judges a dump's age by it, in a process of its own."""
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.time.time()
    return time.time()


def old_dump(directory, name, days_old):
    directory.mkdir(exist_ok=True)
    path = directory / name
    path.write_text("fake-dump")
    when = real_time() - days_old * DAY
    os.utime(path, (when, when))
    return path


def dumps(directory):
    return sorted(path.name for path in directory.iterdir())


def test_backup_refuses_to_run_without_a_database_url(tmp_path, fake_tools):
    result = run_backup(tmp_path, fake_tools)
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert not (tmp_path / "backups").exists()
    assert not (tmp_path / "pg_dump.log").exists()


@pytest.mark.parametrize(
    "url", ["sqlite:///db.sqlite3", "mysql://root@db/tmr", "postgres://clinic@db.internal:5432"]
)
def test_backup_refuses_a_url_that_is_not_a_postgres_database(tmp_path, fake_tools, url):
    result = run_backup(tmp_path, fake_tools, DATABASE_URL=url)
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
    assert not (tmp_path / "pg_dump.log").exists()


def test_backup_writes_one_timestamped_custom_format_dump(tmp_path, fake_tools):
    result = run_backup(tmp_path, fake_tools, DATABASE_URL=URL)
    assert result.returncode == 0, result.stderr
    (name,) = dumps(tmp_path / "backups")
    assert name.startswith("tmrclinic-") and name.endswith("Z.dump")
    arguments = (tmp_path / "pg_dump.log").read_text().splitlines()
    assert "--format=custom" in arguments
    assert f"--dbname={URL}" in arguments
    # Dumps hold PHI: only their owner may read them.
    assert (tmp_path / "backups").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "backups" / name).stat().st_mode & 0o077 == 0


def test_the_password_reaches_pg_dump_in_its_environment_not_its_arguments(tmp_path, fake_tools):
    url = "postgres://clinic:p%40ss%3Aw%25rd%5Cx@db.internal:5432/tmrclinic?sslmode=require"
    result = run_backup(tmp_path, fake_tools, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "pg_dump.log").read_text().splitlines()
    assert "--dbname=postgres://clinic@db.internal:5432/tmrclinic?sslmode=require" in log
    assert not any("p%40ss" in line or "p@ss" in line for line in log if "PGPASSWORD" not in line)
    # Decoded exactly as Django decodes it.
    assert f"PGPASSWORD={dj_database_url.parse(url)['PASSWORD']}" in log
    assert "PGPASSWORD=p@ss:w%rd\\x" in log


def test_retention_deletes_only_this_databases_dumps_older_than_the_limit(tmp_path, fake_tools):
    backups = tmp_path / "backups"
    too_old = old_dump(backups, "tmrclinic-20260101T020000Z.dump", days_old=10)
    recent = old_dump(backups, "tmrclinic-20260108T020000Z.dump", days_old=3)
    other_database = old_dump(backups, "tmrclinic_fhir-20250101T020000Z.dump", days_old=300)
    not_a_dump = old_dump(backups, "notes.txt", days_old=300)
    hand_made = old_dump(backups, "tmrclinic-before-upgrade.dump", days_old=300)

    result = run_backup(tmp_path, fake_tools, DATABASE_URL=URL, BACKUP_KEEP_DAYS="7")
    assert result.returncode == 0, result.stderr

    assert not too_old.exists()
    assert recent.exists()
    assert other_database.exists() and not_a_dump.exists() and hand_made.exists()
    assert len(list(backups.glob("tmrclinic-2*.dump"))) == 2  # the recent one and the new one
    assert f"deleted {too_old}" in result.stdout


def test_retention_by_count_keeps_the_newest_dumps(tmp_path, fake_tools):
    backups = tmp_path / "backups"
    for days in (1, 2, 3, 4):
        old_dump(backups, f"tmrclinic-2026010{days}T020000Z.dump", days_old=days)
    result = run_backup(
        tmp_path, fake_tools, DATABASE_URL=URL, BACKUP_KEEP_DAYS="0", BACKUP_KEEP_FILES="2"
    )
    assert result.returncode == 0, result.stderr
    kept = dumps(backups)
    assert len(kept) == 2
    assert "tmrclinic-20260101T020000Z.dump" in kept  # the one a day old
    assert "tmrclinic-20260104T020000Z.dump" not in kept


def test_a_failed_dump_exits_non_zero_leaves_no_partial_file_and_deletes_nothing(
    tmp_path, fake_tools
):
    backups = tmp_path / "backups"
    too_old = old_dump(backups, "tmrclinic-20260101T020000Z.dump", days_old=100)
    result = run_backup(
        tmp_path, fake_tools, DATABASE_URL=URL, BACKUP_KEEP_DAYS="7", FAKE_PG_DUMP_FAILS="1"
    )
    assert result.returncode != 0
    assert "connection refused" in result.stderr
    assert dumps(backups) == [too_old.name]  # no .partial, the old backup kept


def test_a_dump_pg_restore_cannot_read_is_not_kept(tmp_path, fake_tools):
    (fake_tools / "pg_restore").write_text("#!/usr/bin/env bash\nexit 1\n")
    result = run_backup(tmp_path, fake_tools, DATABASE_URL=URL)
    assert result.returncode != 0
    assert dumps(tmp_path / "backups") == []


@pytest.mark.parametrize("name", ["BACKUP_KEEP_DAYS", "BACKUP_KEEP_FILES"])
def test_a_bad_retention_value_is_refused_by_name(tmp_path, fake_tools, name):
    result = run_backup(tmp_path, fake_tools, DATABASE_URL=URL, **{name: "a week"})
    assert result.returncode != 0
    assert name in result.stderr
