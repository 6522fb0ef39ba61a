"""Model families. Each is a final equinox module implementing `AbstractRNN`, registered
in `FAMILIES` (see `_registry.py` and `docs/extending.md`)."""

from ._aru import ARU as ARU, ARULayer as ARULayer
from ._base import (
    READOUTS as READOUTS,
    AbstractNoisyRNN as AbstractNoisyRNN,
    AbstractRNN as AbstractRNN,
    project as project,
)
from ._common import SavedLayout as SavedLayout
from ._ctrnn import CTRNN as CTRNN
from ._ltc import LTC as LTC
from ._noise_settings import CONVENTIONS as CONVENTIONS, Noise as Noise, make_noise as make_noise
from ._registry import (
    FAMILIES as FAMILIES,
    family_names as family_names,
    get_family as get_family,
    register_family as register_family,
)
from ._shunting import Shunting as Shunting

register_family("aru", ARU)
register_family("ctrnn", CTRNN)
register_family("shunting", Shunting)
register_family("ltc", LTC)

MODEL_FAMILIES = FAMILIES
"""An alias of `FAMILIES` (the name of earlier versions)."""
