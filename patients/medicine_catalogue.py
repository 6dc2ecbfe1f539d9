"""The pain medicines a regimen is picked from, with their RxNorm ingredient codes (RxCUI) and
classes, as ../shared/DOMAIN.md ("Medicines and opioid dose (MME)") lists them.

A plain table, not a model: the codes and the MME factors that go with them (painlog/outcomes/
medicines.py) change only with a new release of the app, reviewed like any clinical rule.
"""

from typing import NamedTuple

from django.utils.translation import gettext, gettext_lazy, gettext_noop, pgettext_lazy

OPIOID = "opioid"
GABAPENTINOID = "gabapentinoid"
ANTIDEPRESSANT = "antidepressant"
OTHER_CLASS = "other"

CLASS_LABELS = {
    OPIOID: gettext_lazy("Opioid"),
    GABAPENTINOID: gettext_lazy("Gabapentinoid"),
    ANTIDEPRESSANT: gettext_lazy("Antidepressant used for pain"),
    OTHER_CLASS: pgettext_lazy("medicine class", "Other"),
}

# The catalogue's key for a medicine not listed: the regimen then carries its name.
OTHER = "other"


class Medicine(NamedTuple):
    key: str
    name: str
    rxcui: str  # RxNorm ingredient code; "" for "other"
    medicine_class: str


CATALOGUE = (
    # Opioids (DOMAIN's codes)
    Medicine("codeine", gettext_noop("Codeine"), "2670", OPIOID),
    Medicine("fentanyl", gettext_noop("Fentanyl"), "4337", OPIOID),
    Medicine("hydrocodone", gettext_noop("Hydrocodone"), "5489", OPIOID),
    Medicine("hydromorphone", gettext_noop("Hydromorphone"), "3423", OPIOID),
    Medicine("methadone", gettext_noop("Methadone"), "6813", OPIOID),
    Medicine("morphine", gettext_noop("Morphine"), "7052", OPIOID),
    Medicine("oxycodone", gettext_noop("Oxycodone"), "7804", OPIOID),
    Medicine("oxymorphone", gettext_noop("Oxymorphone"), "7814", OPIOID),
    Medicine("tramadol", gettext_noop("Tramadol"), "10689", OPIOID),
    Medicine("tapentadol", gettext_noop("Tapentadol"), "787390", OPIOID),
    Medicine("buprenorphine", gettext_noop("Buprenorphine"), "1819", OPIOID),
    # Gabapentinoids and antidepressants used for pain. DOMAIN asks for these codes to be
    # checked in RxNav before they are relied on: recheck them when RxNav can be reached.
    Medicine("gabapentin", gettext_noop("Gabapentin"), "25480", GABAPENTINOID),
    Medicine("pregabalin", gettext_noop("Pregabalin"), "187832", GABAPENTINOID),
    Medicine("duloxetine", gettext_noop("Duloxetine"), "72625", ANTIDEPRESSANT),
    Medicine("amitriptyline", gettext_noop("Amitriptyline"), "704", ANTIDEPRESSANT),
    Medicine("nortriptyline", gettext_noop("Nortriptyline"), "7531", ANTIDEPRESSANT),
    # Other pain medicines (codes not in DOMAIN: same caveat).
    Medicine("acetaminophen", gettext_noop("Paracetamol (acetaminophen)"), "161", OTHER_CLASS),
    Medicine("ibuprofen", gettext_noop("Ibuprofen"), "5640", OTHER_CLASS),
    Medicine("naproxen", gettext_noop("Naproxen"), "7258", OTHER_CLASS),
    Medicine("diclofenac", gettext_noop("Diclofenac"), "3355", OTHER_CLASS),
    Medicine("celecoxib", gettext_noop("Celecoxib"), "140587", OTHER_CLASS),
    Medicine(OTHER, gettext_noop("Other (name it)"), "", OTHER_CLASS),
)

BY_KEY = {medicine.key: medicine for medicine in CATALOGUE}
# The list a patient picks from, in their language ("Pregabalina" in Spanish); `name` above
# stays plain English for exports, FHIR and the record's history.
CHOICES = [(medicine.key, gettext_lazy(medicine.name)) for medicine in CATALOGUE]
OPIOIDS = frozenset(m.key for m in CATALOGUE if m.medicine_class == OPIOID)
GABAPENTINOIDS = frozenset(m.key for m in CATALOGUE if m.medicine_class == GABAPENTINOID)


def shown_name(key):
    """A listed medicine's name in the reader's language; "" for one not listed."""
    return gettext(BY_KEY[key].name) if key in BY_KEY and key != OTHER else ""


def medicine_class(key):
    return BY_KEY[key].medicine_class if key in BY_KEY else OTHER_CLASS


def rxcui(key):
    return BY_KEY[key].rxcui if key in BY_KEY else ""
