"""Model families. Each is an equinox module implementing `AbstractRNN`."""

from ._aru import ARU as ARU, ARULayer as ARULayer
from ._base import AbstractRNN as AbstractRNN

MODEL_FAMILIES = {"aru": ARU}
