"""The patients app's models, split where their seams are: the clinical record, the intake,
and history (changes and the access log)."""

from .history import (  # noqa: F401
    AccessAction,
    AccessEvent,
    ChangeAction,
    RecordChange,
    RecordChangeManager,
)
from .intake import (  # noqa: F401
    PAIN_SCALE,
    Frequency,
    Intake,
    LimbLost,
    PainOnset,
    Sensation,
    YesNoUnsure,
)
from .medicines import (  # noqa: F401
    DoseUnit,
    MedicineRegimen,
    MedicineRegimenQuerySet,
    ReportedBy,
    Route,
    StopReason,
)
from .record import (  # noqa: F401
    EARLIEST_DATE,
    LOWER_LEVELS,
    LOWER_NERVES,
    TMR_PROCEDURES,
    UPPER_LEVELS,
    UPPER_NERVES,
    Amputation,
    Clinic,
    Etiology,
    Level,
    Limb,
    Nerve,
    NerveTransfer,
    Patient,
    PatientQuerySet,
    Procedure,
    ProsthesisUse,
    Sex,
    Side,
    Surgery,
)
