"""Questionnaires as data: the instrument file format, its validation, and scoring.

An instrument is a JSON file (the format is documented in docs/instruments.md). The PEG and the
PGIC ship with the app (painlog/instrument_files/); PROMIS short forms must not ship (their text
is copyrighted), so a clinic with HealthMeasures' permission installs their files with
`manage.py install_instrument`. Everything here is plain Python: no database, so that a file is
checked the same way by the command, the migration that installs the built-in ones, and tests.
"""

import dataclasses
import json
import re
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
# A file's own language and the languages it is translated into: "en", "es", "pt-br".
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
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
    # (limb, word) pairs in the item's language; empty: LIMB_WORDS, in English.
    limb_words: tuple = ()

    def text_for(self, limb):
        """The item's wording, for one limb where the instrument is asked per limb."""
        if not limb:
            return self.text
        words = dict(self.limb_words) or LIMB_WORDS
        return self.text.replace(LIMB_PLACEHOLDER, words.get(limb, ""))

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
    # The language of the text above, and {language: Translation} of the file's translations.
    language: str = "en"
    translations: dict = dataclasses.field(default_factory=dict, compare=False)

    def in_language(self, language):
        """The instrument as shown in `language` ("es", "es-mx": the file's "es" where it has
        no "es-mx"): its translated text where the file has one, else itself. Items, options
        and values are the same, so scores are too."""
        language = (language or "").lower()
        chosen = next(
            (code for code in (language, language.split("-")[0]) if code in self.translations),
            None,
        )
        if chosen is None or chosen == self.language:
            return self
        translation = self.translations[chosen]
        items = []
        for item in self.items:
            text, labels = translation.items[item.id]
            options = tuple(
                Option(option.value, labels.get(option.value, option.label))
                for option in item.options
            )
            items.append(Item(item.id, text, options, translation.limb_words))
        return dataclasses.replace(
            self,
            name=translation.name,
            short_name=translation.short_name or self.short_name,
            recall_period=translation.recall_period,
            intro=translation.intro,
            items=tuple(items),
            language=chosen,
        )

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
class Translation:
    """One language's text of an instrument: items {id: (text, {value: option label})}."""

    name: str
    short_name: str
    recall_period: str
    intro: str
    items: dict
    limb_words: tuple = ()


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


def _translations(errors, spec, *, language, base, items, per_limb):
    """{language: Translation} from a file's "translations": every item's text and every
    option's label in each language, so that nobody sees a questionnaire half translated.

    "translations": {"es": {"name": ..., "intro": ..., "recall_period": ...,
      "limb_words": {"phantom": ..., "residual": ...} (per-limb instruments),
      "items": {"<item id>": {"text": ..., "options": {"<value>": label} or, for a range,
      {"min_label": ..., "max_label": ...}}}}}
    """
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        errors.append("translations: must be an object of languages")
        return {}
    translations = {}
    for code, text in spec.items():
        here = f"translations.{code}"
        if not isinstance(code, str) or not LANGUAGE_CODE.match(code):
            errors.append(f"{here}: a language code in lower case, as en, es or pt-br")
            continue
        if code == language:
            errors.append(f"{here}: the file's own language needs no translation")
            continue
        if not isinstance(text, dict):
            errors.append(f"{here}: must be an object")
            continue
        name = _text(errors, f"{here}.name", text.get("name"), limit=200)
        short_name = _text(
            errors, f"{here}.short_name", text.get("short_name"), required=False, limit=20
        )
        recall = _text(
            errors, f"{here}.recall_period", text.get("recall_period"), required=bool(base[0])
        )
        intro = _text(errors, f"{here}.intro", text.get("intro"), required=bool(base[1]))
        limb_words = ()
        if per_limb is True:
            words = text.get("limb_words")
            if not isinstance(words, dict):
                errors.append(f"{here}.limb_words: a per-limb instrument names both limbs")
            else:
                limb_words = tuple(
                    (limb, _text(errors, f"{here}.limb_words.{limb}", words.get(limb), limit=80))
                    for limb in LIMB_WORDS
                )
        item_specs = text.get("items")
        if not isinstance(item_specs, dict):
            errors.append(f"{here}.items: must give every item's text, by item id")
            item_specs = {}
        known = set(items)
        for item_id in item_specs:
            if item_id not in known:
                errors.append(f"{here}.items.{item_id}: no item has this id")
        translated = {}
        for item, ranged in items.values():
            where = f"{here}.items.{item.id}"
            item_spec = item_specs.get(item.id)
            if not isinstance(item_spec, dict):
                errors.append(f"{where}: missing (every item needs its text)")
                continue
            item_text = _text(errors, f"{where}.text", item_spec.get("text"))
            if per_limb is True and item_text and LIMB_PLACEHOLDER not in item_text:
                errors.append(f"{where}.text: a per-limb instrument names the limb with {{limb}}")
            labels = _translated_labels(
                errors, f"{where}.options", item_spec.get("options"), item, ranged
            )
            translated[item.id] = (item_text, labels)
        translations[code] = Translation(name, short_name, recall, intro, translated, limb_words)
    return translations


def _translated_labels(errors, where, spec, item, ranged):
    """{value: label} of one item in another language: both ends of a range, or every option."""
    if not isinstance(spec, dict):
        errors.append(f"{where}: must be an object")
        return {}
    if ranged:
        low, high = item.options[0], item.options[-1]
        wanted = {"min_label": low.value, "max_label": high.value}
        for key in spec:
            if key not in wanted:
                errors.append(f"{where}.{key}: a range has min_label and max_label only")
        return {
            value: f"{value} {_text(errors, f'{where}.{key}', spec.get(key))}"
            for key, value in wanted.items()
        }
    values = {str(option.value): option.value for option in item.options}
    for key in spec:
        if key not in values:
            errors.append(f"{where}.{key}: no option has this value")
    return {value: _text(errors, f"{where}.{key}", spec.get(key)) for key, value in values.items()}


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

    language = definition.get("language", "en")
    if not isinstance(language, str) or not LANGUAGE_CODE.match(language):
        errors.append("language: a language code in lower case, as en, es or pt-br")
        language = "en"
    items, ranged = [], {}
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
        ranged[item_id] = isinstance(item.get("options"), dict)
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        errors.append("items: two items have the same id")

    translations = _translations(
        errors,
        definition.get("translations"),
        language=language,
        base=(recall, intro),
        items={item.id: (item, ranged.get(item.id, False)) for item in items if item.options},
        per_limb=per_limb,
    )

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
        domain=domain, language=language, translations=translations,
    )  # fmt: skip


def scored_part(definition):
    """The file without its translations: what a version's answers and scores depend on.
    Translations may be added to an installed version; anything else needs a new version."""
    scored = {key: value for key, value in definition.items() if key != "translations"}
    # "language" left out is English, as parse reads it.
    return {**scored, "language": definition.get("language", "en")}


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
