"""Model families. Each is an equinox module implementing `AbstractRNN`."""

from ._aru import ARU as ARU, ARULayer as ARULayer
from ._base import AbstractRNN as AbstractRNN
from ._ctrnn import CTRNN as CTRNN
from ._shunting import Shunting as Shunting

MODEL_FAMILIES = {"aru": ARU, "ctrnn": CTRNN, "shunting": Shunting}
