"""The coded values of the clinical record (TextChoices, with their labels marked for
translation), and the groups of them that the record's rules use."""

from django.db import models
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Sex(models.TextChoices):
    # The FHIR administrative-gender codes, so exports need no mapping.
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", pgettext_lazy("sex", "Other")
    UNKNOWN = "unknown", _("Not recorded")


class Limb(models.TextChoices):
    UPPER = "upper", _("Upper limb (arm)")
    LOWER = "lower", _("Lower limb (leg)")


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")


# "left leg", "right arm": each a whole phrase, since languages put side and limb in their own
# order and agreement.
LIMB_LABELS = {
    ("left", "upper"): _("left arm"),
    ("right", "upper"): _("right arm"),
    ("left", "lower"): _("left leg"),
    ("right", "lower"): _("right leg"),
}


class Level(models.TextChoices):
    # Lower limb, from the toes up.
    TOE_RAY = "toe_ray", _("Toe / ray")
    TRANSMETATARSAL = "transmetatarsal", _("Partial foot: transmetatarsal")
    LISFRANC = "lisfranc", _("Partial foot: Lisfranc")
    CHOPART = "chopart", _("Partial foot: Chopart")
    SYME = "syme", _("Syme (ankle disarticulation)")
    TRANSTIBIAL = "transtibial", _("Transtibial (below knee)")
    KNEE_DISARTICULATION = "knee_disarticulation", _("Knee disarticulation")
    TRANSFEMORAL = "transfemoral", _("Transfemoral (above knee)")
    HIP_DISARTICULATION = "hip_disarticulation", _("Hip disarticulation")
    HEMIPELVECTOMY = "hemipelvectomy", _("Hemipelvectomy")
    ROTATIONPLASTY = "rotationplasty", _("Rotationplasty")
    # Upper limb, from the fingers up.
    DIGIT_PARTIAL_HAND = "digit_partial_hand", _("Digit / partial hand")
    WRIST_DISARTICULATION = "wrist_disarticulation", _("Wrist disarticulation")
    TRANSRADIAL = "transradial", _("Transradial (below elbow)")
    ELBOW_DISARTICULATION = "elbow_disarticulation", _("Elbow disarticulation")
    TRANSHUMERAL = "transhumeral", _("Transhumeral (above elbow)")
    SHOULDER_DISARTICULATION = "shoulder_disarticulation", _("Shoulder disarticulation")
    FOREQUARTER = "forequarter", _("Forequarter")


LOWER_LEVELS = [
    Level.TOE_RAY, Level.TRANSMETATARSAL, Level.LISFRANC, Level.CHOPART, Level.SYME,
    Level.TRANSTIBIAL, Level.KNEE_DISARTICULATION, Level.TRANSFEMORAL,
    Level.HIP_DISARTICULATION, Level.HEMIPELVECTOMY, Level.ROTATIONPLASTY,
]  # fmt: skip


UPPER_LEVELS = [
    Level.DIGIT_PARTIAL_HAND, Level.WRIST_DISARTICULATION, Level.TRANSRADIAL,
    Level.ELBOW_DISARTICULATION, Level.TRANSHUMERAL, Level.SHOULDER_DISARTICULATION,
    Level.FOREQUARTER,
]  # fmt: skip


class Etiology(models.TextChoices):
    VASCULAR = "vascular", _("Vascular disease / diabetes")
    TRAUMA = "trauma", _("Trauma")
    INFECTION = "infection", _("Infection")
    MALIGNANCY = "malignancy", _("Malignancy")
    CONGENITAL = "congenital", _("Congenital limb difference")
    OTHER = "other", pgettext_lazy("cause", "Other")


class ProsthesisUse(models.TextChoices):
    NONE = "none", _("No prosthesis")
    OCCASIONAL = "occasional", _("Occasionally")
    DAILY = "daily", _("Daily")


class Procedure(models.TextChoices):
    PRIMARY_TMR = "primary_tmr", _("Primary TMR (at the amputation)")
    SECONDARY_TMR = "secondary_tmr", _("Secondary (delayed) TMR")
    RPNI = "rpni", _("RPNI")
    TMR_RPNI = "tmr_rpni", _("TMR with RPNI")
    NEUROMA_EXCISION = "neuroma_excision", _("Neuroma excision (buried in muscle or bone)")
    REVISION = "revision", _("Revision amputation")
    OTHER = "other", pgettext_lazy("procedure", "Other")


# TMR in any form. The first of these surgeries is day 0 of every outcome.
TMR_PROCEDURES = frozenset({Procedure.PRIMARY_TMR, Procedure.SECONDARY_TMR, Procedure.TMR_RPNI})


class Nerve(models.TextChoices):
    # Upper limb
    MEDIAN = "median", _("Median")
    ULNAR = "ulnar", _("Ulnar")
    RADIAL = "radial", _("Radial")
    SUPERFICIAL_RADIAL = "superficial_radial", _("Superficial radial")
    MUSCULOCUTANEOUS = "musculocutaneous", _("Musculocutaneous / lateral antebrachial cutaneous")
    MEDIAL_ANTEBRACHIAL_CUTANEOUS = (
        "medial_antebrachial_cutaneous",
        _("Medial antebrachial cutaneous"),
    )
    MEDIAL_BRACHIAL_CUTANEOUS = "medial_brachial_cutaneous", _("Medial brachial cutaneous")
    AXILLARY = "axillary", _("Axillary")
    DIGITAL = "digital", _("Digital nerve")
    # Lower limb
    SCIATIC = "sciatic", _("Sciatic")
    TIBIAL = "tibial", _("Tibial")
    COMMON_PERONEAL = "common_peroneal", _("Common peroneal (fibular)")
    SUPERFICIAL_PERONEAL = "superficial_peroneal", _("Superficial peroneal")
    DEEP_PERONEAL = "deep_peroneal", _("Deep peroneal")
    SURAL = "sural", _("Sural")
    SAPHENOUS = "saphenous", _("Saphenous")
    FEMORAL = "femoral", _("Femoral")
    POSTERIOR_FEMORAL_CUTANEOUS = "posterior_femoral_cutaneous", _("Posterior femoral cutaneous")
    LATERAL_FEMORAL_CUTANEOUS = "lateral_femoral_cutaneous", _("Lateral femoral cutaneous")
    OBTURATOR = "obturator", _("Obturator")


UPPER_NERVES = [
    Nerve.MEDIAN, Nerve.ULNAR, Nerve.RADIAL, Nerve.SUPERFICIAL_RADIAL, Nerve.MUSCULOCUTANEOUS,
    Nerve.MEDIAL_ANTEBRACHIAL_CUTANEOUS, Nerve.MEDIAL_BRACHIAL_CUTANEOUS, Nerve.AXILLARY,
    Nerve.DIGITAL,
]  # fmt: skip


LOWER_NERVES = [
    Nerve.SCIATIC, Nerve.TIBIAL, Nerve.COMMON_PERONEAL, Nerve.SUPERFICIAL_PERONEAL,
    Nerve.DEEP_PERONEAL, Nerve.SURAL, Nerve.SAPHENOUS, Nerve.FEMORAL,
    Nerve.POSTERIOR_FEMORAL_CUTANEOUS, Nerve.LATERAL_FEMORAL_CUTANEOUS, Nerve.OBTURATOR,
]  # fmt: skip


# {field: {value: lazy label}}, built once per field: the labels translate when printed.
_LABELS = {}


class ChoiceLabels:
    """get_FOO_display() for a model's choice fields, the value's label looked up in a dict
    made once per field. Django's own makes a hashable copy of every choice and its lazy label
    on each call: a patient's page of amputations, surgeries and nerve transfers called it a
    dozen times, about a millisecond in all. Should Django stop calling this method, its own
    (slower, same answer) takes over."""

    def _get_FIELD_display(self, field):
        labels = _LABELS.get(field)
        if labels is None:
            labels = _LABELS[field] = dict(field.flatchoices)
        value = getattr(self, field.attname)
        return force_str(labels.get(value, value), strings_only=True)
