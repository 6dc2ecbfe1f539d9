"""Write the migration that installs the clinical rule triggers as patients/clinical_rules.py
has them now, with every statement written out.

    python manage.py clinical_rules_migration add_surgery_anaesthetist
    python manage.py clinical_rules_migration --dry-run add_surgery_anaesthetist  # print it

Run it when a rule changes, and to alter the patient, amputation, surgery or nerve-transfer
table: then put the schema operations (`manage.py makemigrations --dry-run -v 3` prints them) at
the marked line, between its two steps. The migration drops the triggers that the latest rule
migration installed, copied from it, and installs the current ones; backwards, the reverse.
"""

import datetime
from pathlib import Path

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db.migrations.loader import MigrationLoader

from patients import clinical_rules

WIDTH = 100
TEMPLATE = '''"""{purpose}

Printed by `python manage.py clinical_rules_migration` on {today} from
patients/clinical_rules.py; the SQL below is what this migration runs, whatever that module says
later.
"""

from django.db import migrations

# The triggers as this migration leaves them.
CLINICAL_RULES_SQL = {current}

# The triggers as {previous} left them.
PREVIOUS_SQL = {previous_sql}


def run(sql, step):
    def operation(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in sql:
            raise NotImplementedError(
                f"The clinical rule triggers exist for SQLite and PostgreSQL only, not {{vendor}}."
            )
        for statement in sql[vendor][step]:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "{dependency}"),
    ]

    operations = [
        # SQLite rebuilds a table for most schema changes and refuses while another table's
        # trigger names it; PostgreSQL will not change the type of a column a trigger lists.
        migrations.RunPython(run(PREVIOUS_SQL, "drop"), run(PREVIOUS_SQL, "create")),
        # Operations that alter the patient, amputation, surgery or nerve-transfer tables go here.
        migrations.RunPython(run(CLINICAL_RULES_SQL, "create"), run(CLINICAL_RULES_SQL, "drop")),
    ]
'''


def _python_string(statement, indent):
    """A Python literal of exactly this statement: triple-quoted when it has lines of its own,
    else wrapped at spaces into adjacent strings."""
    if '"' in statement or "\\" in statement:
        raise CommandError(f"Cannot write this statement as a plain literal: {statement}")
    if "\n" in statement:
        return f'"""{statement}"""'
    room = WIDTH - len(indent) - 6
    pieces = [""]
    for word in statement.split(" "):
        if pieces[-1] and len(pieces[-1]) + 1 + len(word) > room:
            pieces.append(" " + word)
        else:
            pieces[-1] += (" " if pieces[-1] else "") + word
    if len(pieces) == 1:
        return f'"{statement}"'
    inner = indent + "    "
    return "(\n" + "".join(f'{inner}"{piece}"\n' for piece in pieces) + indent + ")"


def render_sql(sql):
    """CLINICAL_RULES_SQL as Python source, one statement a line (or a wrapped group of lines)."""
    lines = ["{"]
    for vendor, steps in sql.items():
        lines.append(f'    "{vendor}": {{')
        for step, statements in steps.items():
            lines.append(f'        "{step}": [')
            lines += [f"            {_python_string(s, ' ' * 12)}," for s in statements]
            lines.append("        ],")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def render_migration(*, purpose, dependency, previous, previous_sql, today):
    current = clinical_rules.sql()
    return TEMPLATE.format(
        purpose=purpose,
        today=today.isoformat(),
        dependency=dependency,
        previous=previous,
        current=render_sql(current),
        previous_sql=(
            f"CLINICAL_RULES_SQL  # unchanged since {previous}"
            if previous_sql == current
            else render_sql(previous_sql)
        ),
    )


class Command(BaseCommand):
    help = (
        "Write a patients migration that reinstalls the clinical rule triggers from "
        "patients/clinical_rules.py, as literal SQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the migration does, in snake_case.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print the migration instead of writing it."
        )

    def handle(self, *args, name, dry_run, **options):
        if not name.isidentifier():
            raise CommandError(f"Name the migration in snake_case, not {name!r}.")
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
        leaves = graph.leaf_nodes("patients")
        if len(leaves) != 1:
            raise CommandError(
                f"The patients app has {len(leaves)} latest migrations: merge first."
            )
        (_, dependency) = leaves[0]
        previous, previous_sql = clinical_rules.frozen_sql()
        text = render_migration(
            purpose=f"{name.replace('_', ' ').capitalize()}: the clinical rule triggers.",
            dependency=dependency,
            previous=previous,
            previous_sql=previous_sql,
            today=datetime.date.today(),
        )
        if dry_run:
            self.stdout.write(text, ending="")
            return
        number = int(dependency.split("_", 1)[0]) + 1
        path = Path(apps.get_app_config("patients").path, "migrations", f"{number:04d}_{name}.py")
        path.write_text(text)
        self.stdout.write(f"Wrote {path}. Say in its docstring why; run the tests.")
