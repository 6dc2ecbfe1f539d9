"""The layout a newcomer relies on (README, "Where things live"): which app may import which,
and how large a module may grow before it is split."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "patients", "painlog", "reports", "tmrclinic"]
# Each app and the apps it may import. accounts knows nothing clinical; the clinical record
# knows nothing of the diary or the reports; the diary knows nothing of the reports.
MAY_IMPORT = {
    "accounts": set(),
    "patients": {"accounts"},
    "painlog": {"accounts", "patients"},
    "reports": {"accounts", "patients", "painlog"},
    "tmrclinic": {"accounts", "patients", "painlog", "reports"},
}
LONGEST_MODULE = 600


def modules(app):
    return [
        path
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def apps_imported_by(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_the_apps_below_it(app):
    wrong = {
        str(path.relative_to(ROOT)): sorted(apps_imported_by(path) - MAY_IMPORT[app] - {app})
        for path in modules(app)
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_allowed_imports_have_no_cycle():
    seen, done = set(), set()

    def visit(app):
        assert app not in seen - done, f"cycle through {app}"
        if app in done:
            return
        seen.add(app)
        for lower in MAY_IMPORT[app]:
            visit(lower)
        done.add(app)

    for app in APPS:
        visit(app)


@pytest.mark.parametrize("app", APPS)
def test_no_module_grows_past_the_size_where_it_should_be_split(app):
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules(app)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST_MODULE
    }
    assert long == {}


def test_the_project_package_holds_configuration_and_the_health_check_only():
    assert {path.name for path in modules("tmrclinic")} == {
        "__init__.py", "settings.py", "urls.py", "wsgi.py", "asgi.py",
        "views.py",  # the health check and the 500/503 handler
        "request_log.py",  # the logging configuration's formatter, filter and middleware
        "formats.py",  # how dates print (formats/en/formats.py, FORMAT_MODULE_PATH)
    }  # fmt: skip
