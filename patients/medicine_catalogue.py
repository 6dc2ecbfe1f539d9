"""The pain medicines a regimen is picked from, with their RxNorm ingredient codes (RxCUI) and
classes, as ../shared/DOMAIN.md ("Medicines and opioid dose (MME)") lists them.

A plain table, not a model: the codes and the MME factors that go with them (painlog/outcomes/
medicines.py) change only with a new release of the app, reviewed like any clinical rule.
"""

from typing import NamedTuple

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

OPIOID = "opioid"
GABAPENTINOID = "gabapentinoid"
ANTIDEPRESSANT = "antidepressant"
OTHER_CLASS = "other"

CLASS_LABELS = {
    OPIOID: _("Opioid"),
    GABAPENTINOID: _("Gabapentinoid"),
    ANTIDEPRESSANT: _("Antidepressant used for pain"),
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
    Medicine("codeine", "Codeine", "2670", OPIOID),
    Medicine("fentanyl", "Fentanyl", "4337", OPIOID),
    Medicine("hydrocodone", "Hydrocodone", "5489", OPIOID),
    Medicine("hydromorphone", "Hydromorphone", "3423", OPIOID),
    Medicine("methadone", "Methadone", "6813", OPIOID),
    Medicine("morphine", "Morphine", "7052", OPIOID),
    Medicine("oxycodone", "Oxycodone", "7804", OPIOID),
    Medicine("oxymorphone", "Oxymorphone", "7814", OPIOID),
    Medicine("tramadol", "Tramadol", "10689", OPIOID),
    Medicine("tapentadol", "Tapentadol", "787390", OPIOID),
    Medicine("buprenorphine", "Buprenorphine", "1819", OPIOID),
    # Gabapentinoids and antidepressants used for pain. DOMAIN asks for these codes to be
    # checked in RxNav before they are relied on: recheck them when RxNav can be reached.
    Medicine("gabapentin", "Gabapentin", "25480", GABAPENTINOID),
    Medicine("pregabalin", "Pregabalin", "187832", GABAPENTINOID),
    Medicine("duloxetine", "Duloxetine", "72625", ANTIDEPRESSANT),
    Medicine("amitriptyline", "Amitriptyline", "704", ANTIDEPRESSANT),
    Medicine("nortriptyline", "Nortriptyline", "7531", ANTIDEPRESSANT),
    # Other pain medicines (codes not in DOMAIN: same caveat).
    Medicine("acetaminophen", "Paracetamol (acetaminophen)", "161", OTHER_CLASS),
    Medicine("ibuprofen", "Ibuprofen", "5640", OTHER_CLASS),
    Medicine("naproxen", "Naproxen", "7258", OTHER_CLASS),
    Medicine("diclofenac", "Diclofenac", "3355", OTHER_CLASS),
    Medicine("celecoxib", "Celecoxib", "140587", OTHER_CLASS),
    Medicine(OTHER, "Other (name it)", "", OTHER_CLASS),
)

BY_KEY = {medicine.key: medicine for medicine in CATALOGUE}
# The list a patient picks from, in their language. Generic drug names read the same in
# English and Spanish; `name` above stays plain text for exports and history.
SHOWN_NAMES = {
    "acetaminophen": _("Paracetamol (acetaminophen)"),
    OTHER: _("Other (name it)"),
}
CHOICES = [(medicine.key, SHOWN_NAMES.get(medicine.key, medicine.name)) for medicine in CATALOGUE]
OPIOIDS = frozenset(m.key for m in CATALOGUE if m.medicine_class == OPIOID)
GABAPENTINOIDS = frozenset(m.key for m in CATALOGUE if m.medicine_class == GABAPENTINOID)


def medicine_class(key):
    return BY_KEY[key].medicine_class if key in BY_KEY else OTHER_CLASS


def rxcui(key):
    return BY_KEY[key].rxcui if key in BY_KEY else ""
