"""Every string a person can read is marked for translation, and the Spanish catalogue is
complete: the checks behind "a patient reads the app in their own language".

- Templates: every piece of text and every readable attribute (aria-label, title, alt,
  placeholder) outside {% translate %} / {% blocktranslate %} fails the test, named with its
  template and line.
- Python: labels, help texts, verbose names, choice labels, validation errors and messages given
  as bare strings (or f-strings, which cannot be translated) fail the test, named with file and
  line.
- The catalogue (locale/es/LC_MESSAGES/*.po): no untranslated, fuzzy or obsolete entry; the
  compiled .mo says the same as the .po; and the .po holds exactly what `makemessages` finds
  in the code today (skipped with a message where GNU gettext is not installed; CI has it).
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
LANGUAGES = ["es"]
DOMAINS = ["django"]
APPS = ["accounts", "painlog", "patients", "reports", "tmrclinic"]

# Words that are the same in every language the app offers: names, codes and units.
UNTRANSLATED_WORDS = {"TMR", "FHIR", "CSV", "JSON", "NRS", "PEG", "PGIC", "PROMIS", "MME", "mg"}
# Attributes people read (or hear, through a screen reader).
READABLE_ATTRIBUTES = ("aria-label", "aria-description", "title", "alt", "placeholder")

# --- templates ----------------------------------------------------------------------------

PLACEHOLDER = "\x00"


# Literal text handed to an include or a filter: {% include "x" with heading="Log in" %},
# {{ value|default:"None yet" }}, {{ flag|yesno:"Yes,No" }}. Marked, it reads heading=_("Log in").
LITERAL_ARGUMENT = re.compile(
    r"""(?:\bwith\b.*?|\s)\w+=("[^"]*"|'[^']*')"""
    r"""|\|(?:default|default_if_none|yesno):("[^"]*"|'[^']*')"""
)


def _literal_arguments(token):
    """Readable literals in a tag's or a variable's arguments, as text to check."""
    name = token.contents.split()[0] if token.contents.split() else ""
    if token.token_type == TokenType.BLOCK and name not in ("include", "with"):
        return ""
    found = []
    for match in LITERAL_ARGUMENT.finditer(token.contents):
        literal = (match.group(1) or match.group(2))[1:-1]
        if "|yesno:" in match.group(0) and not re.search(r"\b[A-Z]", literal):
            continue  # yesno:'yes,no' and the like: values for code, not for people
        if re.fullmatch(r"[a-z0-9_-]+", literal) and ("-" in literal or "_" in literal):
            continue  # an id or a class name: chart_id="summary-chart"
        found.append(literal)
    return " ".join(found)


def _template_text(source):
    """The template's source with everything translated, every variable and every tag
    replaced by a placeholder (but for literal text handed to an include or a filter), and
    comments dropped: what is left is text nobody marked."""
    parts, inside = [], None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.COMMENT:
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if inside is None and name in ("blocktranslate", "blocktrans", "comment", "verbatim"):
                inside = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}.get(
                    name, "end" + name
                )
            elif inside == name:
                inside = None
            parts.append((token.lineno, _literal_arguments(token) if inside is None else ""))
            parts.append((token.lineno, PLACEHOLDER))
        elif inside is not None:
            parts.append((token.lineno, PLACEHOLDER))
        elif token.token_type == TokenType.VAR:
            parts.append((token.lineno, _literal_arguments(token) + PLACEHOLDER))
        else:
            parts.append((token.lineno, token.contents))
    return parts


def _readable_words(text):
    text = re.sub(r"&#?\w+;", " ", text)  # entities: &nbsp; &middot; &#8209;
    words = re.findall(r"[^\W\d_][^\W\d_'’-]*", text.replace(PLACEHOLDER, " "))
    return [w for w in words if w not in UNTRANSLATED_WORDS and len(w) > 1]


def unmarked_in_template(source):
    """[(line, text)] for each piece of readable text left unmarked."""
    parts = _template_text(source)
    text, lines = "", []
    for lineno, piece in parts:
        lines.extend([lineno] * len(piece))
        text += piece

    def line_at(index):
        return lines[index] + text[:index].count("\n") - text[: _start_of(lines, index)].count("\n")

    found = []
    blanked = list(text)

    def blank(match):
        for i in range(match.start(), match.end()):
            if blanked[i] != "\n":
                blanked[i] = " "

    for pattern in (r"<!--.*?-->", r"<(script|style)\b.*?</\1>"):
        for match in re.finditer(pattern, text, flags=re.S | re.I):
            blank(match)
    flat = "".join(blanked)
    for tag in re.finditer(r"<[^<>]*>", flat):
        for attribute in re.finditer(
            r"""\s(""" + "|".join(READABLE_ATTRIBUTES) + r""")\s*=\s*("[^"]*"|'[^']*')""",
            tag.group(0),
        ):
            value = attribute.group(2)[1:-1]
            if _readable_words(value):
                found.append((line_at(tag.start()), f'{attribute.group(1)}="{value.strip()}"'))
        blank(tag)
    flat = "".join(blanked)
    for chunk in re.finditer(r"[^\n]*\S[^\n]*", flat):
        if _readable_words(chunk.group(0)):
            found.append((line_at(chunk.start()), chunk.group(0).strip()))
    return sorted(found, key=lambda item: item[0])


def _start_of(lines, index):
    """Where the token holding `index` starts (the lexer gives each token its first line)."""
    start = index
    while start > 0 and lines[start - 1] == lines[index]:
        start -= 1
    return start


def templates():
    return sorted(
        p for p in (ROOT / "templates").rglob("*") if p.suffix in (".html", ".txt") and p.is_file()
    )


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_every_readable_string_in_templates_is_marked(path):
    unmarked = unmarked_in_template(path.read_text())
    assert not unmarked, _report(path, unmarked)


def test_the_template_check_finds_what_it_should():
    source = (
        "{% load i18n %}<h1>{% translate 'Fine' %}</h1>\n"
        "<p>Not marked {{ value }}</p>\n"
        '<button aria-label="Close">{% translate "x" %}</button>\n'
        "{% blocktranslate trimmed %}Marked {{ n }} times{% endblocktranslate %}\n"
        "{# a comment #}<!-- an html comment --> &nbsp; {{ value }} TMR\n"
        '<img alt="{% translate "Chart" %}" title="{{ t }}">\n'
        "{% comment %}Why this is so.{% endcomment %}\n"
        "{% block title %}Dashboard{% endblock %}\n"
        '{% include "card.html" with heading="Log in" submit=_("Save") %}\n'
        "{{ n|default:'None yet' }} {{ on|yesno:'yes,no' }} {{ x|default:_('Fine') }}\n"
    )
    assert [line for line, _ in unmarked_in_template(source)] == [2, 3, 8, 9, 10]


# --- Python -------------------------------------------------------------------------------

TRANSLATING_FUNCTIONS = {
    "_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy",
    "npgettext", "npgettext_lazy", "format_lazy",
}  # fmt: skip
READABLE_KEYWORDS = {
    "label", "help_text", "verbose_name", "verbose_name_plural", "empty_label", "message",
    "short_description", "description",
}  # fmt: skip
MESSAGE_CALLS = {"success", "info", "warning", "error", "debug", "add_message", "add_error"}


def python_files():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if {"migrations", "management"} & set(relative.parts) or path.name.startswith("demo"):
                continue
            yield path


def _is_bare_text(node):
    if isinstance(node, ast.JoinedStr):
        return True
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(_readable_words(node.value))
    )


def _called_name(call):
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def unmarked_in_python(source):
    """[(line, text)] for readable strings that reach people without being marked."""
    found = []

    def report(node):
        text = ast.unparse(node) if isinstance(node, ast.JoinedStr) else node.value
        found.append((node.lineno, text))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = _called_name(node)
            if name in TRANSLATING_FUNCTIONS:
                continue
            for keyword in node.keywords:
                if keyword.arg in READABLE_KEYWORDS and _is_bare_text(keyword.value):
                    report(keyword.value)
                if keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                    for value in keyword.value.values:
                        if _is_bare_text(value):
                            report(value)
                if keyword.arg == "choices" and isinstance(keyword.value, (ast.List, ast.Tuple)):
                    for choice in keyword.value.elts:
                        if isinstance(choice, ast.Tuple) and _is_bare_text(choice.elts[-1]):
                            report(choice.elts[-1])
            # ValidationError("..."), messages.success(request, "..."), a model or form
            # field's verbose name or label given first: CharField("Phone", ...).
            if name == "ValidationError" and node.args and _is_bare_text(node.args[0]):
                report(node.args[0])
            elif name in MESSAGE_CALLS and len(node.args) >= 2 and _is_bare_text(node.args[-1]):
                report(node.args[-1])
            elif name.endswith("Field") and node.args and _is_bare_text(node.args[0]):
                report(node.args[0])
        # Choices: FEMALE = "female", "Female"
        bases = [getattr(b, "attr", getattr(b, "id", "")) for b in getattr(node, "bases", [])]
        if isinstance(node, ast.ClassDef) and any(base.endswith("Choices") for base in bases):
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and isinstance(statement.value, ast.Tuple)
                    and len(statement.value.elts) >= 2
                    and _is_bare_text(statement.value.elts[-1])
                ):
                    report(statement.value.elts[-1])
        # error_messages = {"required": "..."} on a form or field class
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            targets = [getattr(t, "id", getattr(t, "attr", "")) for t in node.targets]
            if "error_messages" in targets or "default_error_messages" in targets:
                for value in node.value.values:
                    if _is_bare_text(value):
                        report(value)
    return sorted(found, key=lambda item: item[0])


@pytest.mark.parametrize("path", list(python_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_readable_string_in_python_is_marked(path):
    unmarked = unmarked_in_python(path.read_text())
    assert not unmarked, _report(path, unmarked)


def _report(path, unmarked):
    lines = [f"  line {line}: {str(text)[:100]}" for line, text in unmarked]
    return f"{path.relative_to(ROOT)}: text not marked for translation:\n" + "\n".join(lines)


def test_the_python_check_finds_what_it_should():
    source = (
        "from django.utils.translation import gettext_lazy as _\n"
        "name = models.CharField(_('name'), max_length=3)\n"
        "phone = models.CharField('Phone', max_length=3)\n"
        "raise ValidationError(f'Too many: {n}')\n"
        "messages.success(request, 'Saved.')\n"
        "class Sex(models.TextChoices):\n"
        "    FEMALE = 'female', _('Female')\n"
        "    MALE = 'male', 'Male'\n"
        "note = forms.CharField(label=_('Note'), help_text='Optional.')\n"
        "raise ValidationError(_('Fine.'), code='x')\n"
    )
    assert [line for line, _ in unmarked_in_python(source)] == [3, 4, 5, 8, 9]


# --- the catalogues -----------------------------------------------------------------------


def catalogues():
    return [
        LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
        for language in LANGUAGES
        for domain in DOMAINS
        if (LOCALE / language / "LC_MESSAGES" / f"{domain}.po").exists()
    ]


def test_the_spanish_catalogue_exists():
    assert LOCALE / "es" / "LC_MESSAGES" / "django.po" in catalogues()


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(LOCALE)))
def test_every_entry_is_translated_and_none_is_fuzzy_or_obsolete(path):
    catalogue = polib.pofile(str(path))
    problems = [f"untranslated: {e.msgid!r}" for e in catalogue.untranslated_entries()]
    problems += [f"fuzzy: {e.msgid!r}" for e in catalogue.fuzzy_entries()]
    problems += [f"obsolete: {e.msgid!r}" for e in catalogue.obsolete_entries()]
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


def _messages(catalogue):
    return {
        (entry.msgctxt, entry.msgid, entry.msgid_plural): (
            entry.msgstr_plural and tuple(sorted(entry.msgstr_plural.items())) or entry.msgstr
        )
        for entry in catalogue
        if entry.msgid and not entry.obsolete and not getattr(entry, "fuzzy", False)
    }


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(LOCALE)))
def test_the_compiled_catalogue_says_what_the_po_file_says(path):
    compiled = path.with_suffix(".mo")
    assert compiled.exists(), f"{compiled.relative_to(ROOT)} is missing: run `make messages`"
    assert _messages(polib.mofile(str(compiled))) == _messages(polib.pofile(str(path))), (
        f"{compiled.relative_to(ROOT)} is out of date: run `make messages`"
    )


def test_the_catalogue_holds_exactly_what_the_code_marks(tmp_path):
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext); CI installs it")
    copy = tmp_path / "app"
    ignore = shutil.ignore_patterns(".venv", "staticfiles", "__pycache__", "*.mo", "node_modules")
    for name in [*APPS, "templates", "static", "locale", "manage.py"]:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy(source, copy / name)
    subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=copy,
        check=True,
        capture_output=True,
        env=_settings_env(),
    )
    for path in catalogues():
        fresh = polib.pofile(str(copy / path.relative_to(ROOT)))
        kept = polib.pofile(str(path))
        ids = {(e.msgctxt, e.msgid) for e in fresh if not e.obsolete}
        assert ids == {(e.msgctxt, e.msgid) for e in kept if not e.obsolete}, (
            f"{path.relative_to(ROOT)} does not match the code: run `make messages`, then "
            "translate what it added"
        )


# What `make messages` runs (the Makefile passes the same arguments).
MAKEMESSAGES = [
    "makemessages", "--all", "--add-location=file", "--no-obsolete",
    "--ignore=.venv/*", "--ignore=staticfiles/*", "--ignore=tests/*", "--ignore=bench/*",
]  # fmt: skip


def _settings_env():
    import os

    return {**os.environ, "DJANGO_SETTINGS_MODULE": "tmrclinic.settings"}
