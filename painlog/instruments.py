"""Questionnaires as data: the instrument file format, its validation, and scoring.

An instrument is a JSON file (the format is documented in docs/instruments.md). The PEG and the
PGIC ship with the app (painlog/instrument_files/); PROMIS short forms must not ship (their text
is copyrighted), so a clinic with HealthMeasures' permission installs their files with
`manage.py install_instrument`. Everything here is plain Python: no database, so that a file is
checked the same way by the command, the migration that installs the built-in ones, and tests.
"""

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

FORMAT = 1
BUILT_IN_DIR = Path(__file__).resolve().parent / "instrument_files"
BUILT_IN_KEYS = ("peg", "pgic")

# Which events an instrument may be asked at. The PGIC asks about change since treatment, so it
# has no baseline.
EVENTS_ALL = "all"
EVENTS_FOLLOW_UP = "follow_up"
SCORING_METHODS = ("mean", "sum", "lookup")
# What a PROMIS file measures, so that the cohort page can set the clinic's medians beside the
# reference population's (painlog.outcomes.questionnaires.REFERENCE_MEDIANS).
DOMAINS = ("", "pain_intensity", "pain_interference", "pain_behavior")
LIMB_WORDS = {"phantom": "phantom limb", "residual": "residual limb"}
LIMB_PLACEHOLDER = "{limb}"
# Far above any real instrument, well below what a hostile file could make the app hold.
MAX_ITEMS = 60
MAX_OPTIONS = 21
MAX_TEXT = 500
SCORE_PLACES = Decimal("0.001")


class InstrumentError(ValueError):
    """A file that is not a valid instrument; `errors` lists every problem found, each with
    where it is ("items[2].options[0].value: ...")."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    options: tuple[Option, ...]

    def text_for(self, limb):
        """The item's wording, for one limb where the instrument is asked per limb."""
        return self.text.replace(LIMB_PLACEHOLDER, LIMB_WORDS.get(limb, "")) if limb else self.text

    def label_of(self, value):
        return next((option.label for option in self.options if option.value == value), "")


@dataclass(frozen=True)
class LookupRow:
    raw: int
    t_score: Decimal
    se: Decimal


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    short_name: str
    version: str
    licence: str
    recall_period: str
    per_limb: bool
    events: str
    allow_skip: bool
    intro: str
    items: tuple[Item, ...]
    scoring: str
    lookup: tuple[LookupRow, ...]
    score_label: str
    domain: str = ""

    def item(self, item_id):
        return next(item for item in self.items if item.id == item_id)

    @property
    def limbs(self):
        """The limbs it is asked for, one answer set each: ("",) when asked once."""
        return ("phantom", "residual") if self.per_limb else ("",)

    def score(self, answers):
        """The score of one answer set {item id: value or None when skipped}, or None when it
        cannot be scored. A lookup table holds summed scores of complete answer sets only, so
        one skipped item leaves it unscored; a mean or a sum needs every item too (the PEG's
        authors score only complete forms)."""
        values = [answers.get(item.id) for item in self.items]
        if any(value is None for value in values):
            return None
        total = sum(values)
        if self.scoring == "mean":
            return Score(Fraction(total, len(values)), None, self.version)
        if self.scoring == "sum":
            return Score(Fraction(total), None, self.version)
        row = next((row for row in self.lookup if row.raw == total), None)
        if row is None:
            return None
        return Score(Fraction(row.t_score), row.se, self.version)


@dataclass(frozen=True)
class Score:
    exact: Fraction
    se: Decimal | None
    version: str

    @property
    def value(self):
        """For storing and showing: three decimals, halves to even."""
        return (Decimal(self.exact.numerator) / Decimal(self.exact.denominator)).quantize(
            SCORE_PLACES, rounding=ROUND_HALF_EVEN
        )


def _text(errors, where, value, *, required=True, limit=MAX_TEXT):
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"{where}: must be {'a non-empty ' if required else ''}text")
        return ""
    if len(value) > limit:
        errors.append(f"{where}: longer than {limit} characters")
    if any(ord(char) < 32 and char not in "\n\t" for char in value):
        errors.append(f"{where}: contains control characters")
    return value


def _integer(errors, where, value):
    # bool is an int in Python: true/false in a file is a mistake, not 1/0.
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(f"{where}: must be a whole number")
        return None
    return value


def _number(errors, where, value):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.append(f"{where}: must be a number")
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        errors.append(f"{where}: must be a number")
        return None
    if not number.is_finite():
        errors.append(f"{where}: must be a finite number")
        return None
    return number


def _options(errors, where, spec):
    """Options as a list of {"value", "label"}, or a 0-10 style range
    {"min", "max", "min_label", "max_label"} that labels its two ends."""
    if isinstance(spec, dict):
        low = _integer(errors, f"{where}.min", spec.get("min"))
        high = _integer(errors, f"{where}.max", spec.get("max"))
        low_label = _text(errors, f"{where}.min_label", spec.get("min_label"))
        high_label = _text(errors, f"{where}.max_label", spec.get("max_label"))
        if low is None or high is None:
            return ()
        if not 2 <= high - low + 1 <= MAX_OPTIONS:
            errors.append(f"{where}: a range needs 2 to {MAX_OPTIONS} values")
            return ()
        labels = {low: f"{low} {low_label}", high: f"{high} {high_label}"}
        return tuple(Option(value, labels.get(value, str(value))) for value in range(low, high + 1))
    if not isinstance(spec, list) or not 2 <= len(spec) <= MAX_OPTIONS:
        errors.append(f"{where}: needs 2 to {MAX_OPTIONS} options, or a range")
        return ()
    options = []
    for index, option in enumerate(spec):
        here = f"{where}[{index}]"
        if not isinstance(option, dict):
            errors.append(f"{here}: must be an object with a value and a label")
            continue
        value = _integer(errors, f"{here}.value", option.get("value"))
        label = _text(errors, f"{here}.label", option.get("label"))
        if value is not None:
            options.append(Option(value, label))
    values = [option.value for option in options]
    if len(set(values)) != len(values):
        errors.append(f"{where}: two options have the same value")
    return tuple(options)


def _lookup(errors, spec, items):
    if not isinstance(spec, list) or not spec:
        errors.append("scoring.table: a lookup needs a table of summed scores")
        return ()
    rows = []
    for index, row in enumerate(spec):
        here = f"scoring.table[{index}]"
        if not isinstance(row, dict):
            errors.append(f"{here}: must be an object with raw, t_score and se")
            continue
        raw = _integer(errors, f"{here}.raw", row.get("raw"))
        t_score = _number(errors, f"{here}.t_score", row.get("t_score"))
        se = _number(errors, f"{here}.se", row.get("se"))
        if se is not None and se < 0:
            errors.append(f"{here}.se: must not be negative")
        if None not in (raw, t_score, se):
            rows.append(LookupRow(raw, t_score, se))
    if items and all(item.options for item in items):
        lowest = sum(min(option.value for option in item.options) for item in items)
        highest = sum(max(option.value for option in item.options) for item in items)
        wanted = set(range(lowest, highest + 1))
        raws = [row.raw for row in rows]
        if len(set(raws)) != len(raws):
            errors.append("scoring.table: a summed score appears twice")
        if rows and set(raws) != wanted:
            missing = sorted(wanted - set(raws))[:5]
            extra = sorted(set(raws) - wanted)[:5]
            errors.append(
                f"scoring.table: must give every summed score from {lowest} to {highest}"
                + (f"; missing {missing}" if missing else "")
                + (f"; impossible {extra}" if extra else "")
            )
    return tuple(rows)


def parse(definition):
    """An Instrument from a decoded file, or InstrumentError listing every problem."""
    errors = []
    if not isinstance(definition, dict):
        raise InstrumentError(["the file must hold one JSON object"])
    if definition.get("format") != FORMAT:
        errors.append(f"format: must be {FORMAT}")
    key = _text(errors, "key", definition.get("key"), limit=40)
    if key and not (key.isascii() and key.replace("_", "").replace("-", "").isalnum()):
        errors.append("key: letters, digits, - and _ only")
    name = _text(errors, "name", definition.get("name"), limit=200)
    short_name = _text(errors, "short_name", definition.get("short_name"), required=False, limit=20)
    version = _text(errors, "version", definition.get("version"), limit=40)
    licence = _text(errors, "licence", definition.get("licence"))
    recall = _text(errors, "recall_period", definition.get("recall_period"), required=False)
    intro = _text(errors, "intro", definition.get("intro"), required=False)
    per_limb = definition.get("per_limb", False)
    if not isinstance(per_limb, bool):
        errors.append("per_limb: must be true or false")
    allow_skip = definition.get("allow_skip", False)
    if not isinstance(allow_skip, bool):
        errors.append("allow_skip: must be true or false")
    domain = definition.get("domain", "")
    if domain not in DOMAINS:
        errors.append(
            f"domain: must be one of {', '.join(repr(d) for d in DOMAINS[1:])}, or left out"
        )
    events = definition.get("events", EVENTS_ALL)
    if events not in (EVENTS_ALL, EVENTS_FOLLOW_UP):
        errors.append(f"events: must be {EVENTS_ALL!r} or {EVENTS_FOLLOW_UP!r}")

    items = []
    spec = definition.get("items")
    if not isinstance(spec, list) or not 1 <= len(spec) <= MAX_ITEMS:
        errors.append(f"items: needs 1 to {MAX_ITEMS} items")
        spec = []
    for index, item in enumerate(spec):
        here = f"items[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{here}: must be an object with an id, a text and options")
            continue
        item_id = _text(errors, f"{here}.id", item.get("id"), limit=40)
        text = _text(errors, f"{here}.text", item.get("text"))
        if per_limb is True and text and LIMB_PLACEHOLDER not in text:
            errors.append(f"{here}.text: a per-limb instrument names the limb with {{limb}}")
        options = _options(errors, f"{here}.options", item.get("options"))
        items.append(Item(item_id, text, options))
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        errors.append("items: two items have the same id")

    scoring = definition.get("scoring")
    method, lookup, score_label = "", (), ""
    if not isinstance(scoring, dict) or scoring.get("method") not in SCORING_METHODS:
        errors.append(f"scoring.method: must be one of {', '.join(SCORING_METHODS)}")
    else:
        method = scoring["method"]
        score_label = _text(errors, "scoring.label", scoring.get("label"), limit=80)
        if method == "lookup":
            lookup = _lookup(errors, scoring.get("table"), items)
    if errors:
        raise InstrumentError(errors)
    return Instrument(
        key=key, name=name, short_name=short_name or name, version=version, licence=licence,
        recall_period=recall, per_limb=per_limb, events=events, allow_skip=allow_skip, intro=intro,
        items=tuple(items), scoring=method, lookup=lookup, score_label=score_label,
        domain=domain,
    )  # fmt: skip


def load(path):
    """An Instrument from a file, or InstrumentError naming what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstrumentError([f"cannot read {path}: {error}"]) from error
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as error:
        raise InstrumentError([f"not JSON: line {error.lineno}, column {error.colno}"]) from error
    return parse(definition)


def built_in_definitions():
    """The decoded files of the instruments that ship with the app."""
    return [
        json.loads((BUILT_IN_DIR / f"{key}.json").read_text(encoding="utf-8"))
        for key in BUILT_IN_KEYS
    ]
