"""The model a recording is fitted with: an ARU whose readout is tied to the recorded
neurons, either through a learned readout matrix or one hidden unit per neuron
(data-constrained), with the data's scale kept as fixed constants."""

from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from .._checks import check_choice, check_int
from .._errors import InputError
from .._params import Frozen
from ..models import ARU, AbstractRNN

OBSERVED = ("readout", "units")


class ObservedARU(AbstractRNN):
    r"""An ARU observed through its recorded neurons.

    The dynamics are those of the wrapped `aru` (its `U`, `W`, `c` and time constants);
    only the readout differs. With $z$ the readout in standard units,

    $$y = \text{center} + \text{scale} \odot (z + \text{offset}), \qquad
      z = \begin{cases} V r & \text{readout}\\ g \odot r_{1..n_\text{obs}} &
      \text{units (data-constrained)}\end{cases}$$

    `center` and `scale` are fixed per-neuron constants taken from the data (they only
    precondition the fit); `offset` and `V` (readout) or the gains `g` (units: recorded
    neuron i is the rate of hidden unit i, with a learned gain and offset) are learned.
    `y` is the readout before the observation model's link (Poisson: the rate in Hz is
    `softplus(y)`; Gaussian: `y` is the predicted signal).

    `to_aru()` returns the same model as a plain `ARU` (its `V` and `b` hold the readout),
    which `save_model` writes and `adaptive-rnn simulate` runs.

    **Per-trial initial states** (`n_trials` given): the model learns one vector $z_j$ per
    trial (`trial_drive`, `(n_trials, n_hidden)`, zero at first) and takes one input more
    than its ARU, the *trial channel*: on the bin where it holds $j \geq 1$ (a single
    bin, the last one before the recorded bins), the drive gets $z_j / \alpha_0$,
    $I \leftarrow (1 - \alpha_s) I + \alpha_s (U x + W r + z_j / \alpha_0)$, with
    $\alpha_0$ = `dt / tau_s` at the initial time constants (`trial_scale` =
    $1 / \alpha_0$, a constant: $z_j$ moves the current by about itself), so the current
    at trial j's first recorded bin is its own.
    Where the channel holds 0 (other bins; trials without a learned state, e.g. held-out
    ones) the model is its ARU. `to_aru()` drops the channel and the learned states.
    """

    aru: ARU
    V: Array | None
    gain: Array | None
    offset: Array
    center: Frozen
    scale: Frozen
    trial_drive: Array | None
    observed: str = eqx.field(static=True)
    trial_scale: Frozen | None

    family: ClassVar[str] = "observed_aru"
    state_names: ClassVar[tuple[str, ...]] = ARU.state_names

    def __init__(
        self,
        aru: ARU,
        n_obs: int,
        *,
        observed: str = "readout",
        center: Any = 0.0,
        scale: Any = 1.0,
        n_trials: int | None = None,
        key: Any,
    ):
        """**Arguments:**

        - `aru`: the dynamics (any single-layer `ARU`).
        - `n_obs`: the number of recorded neurons.
        - `observed`: `"readout"` (a learned `(n_obs, n_hidden)` readout) or `"units"`
            (neuron i is hidden unit i, with a learned gain and offset).
        - `center`, `scale`: fixed per-neuron constants (scalars or `(n_obs,)`).
        - `n_trials`: learn a drive per trial for this many trials (the model then takes
            the trial channel as its last input); default none.
        - `key`: a `jax.random` key for the readout's initial values.

        **Raises:** `InputError` for an unknown `observed`, a stacked ARU, or (units)
        fewer hidden units than recorded neurons.
        """
        self.observed = check_choice("observed", observed, OBSERVED)
        if not isinstance(aru, ARU) or isinstance(aru.n_hidden, tuple):
            raise InputError(f"aru: got {type(aru).__name__}, expected a single-layer ARU")
        n = int(aru.n_hidden)
        if observed == "units" and n < n_obs:
            raise InputError(
                f"hidden: got {n} hidden units for {n_obs} recorded neurons; expected at least "
                f"{n_obs} with observed='units' (one hidden unit per recorded neuron)"
            )
        tau_s = aru.tau_s
        assert not isinstance(tau_s, tuple)  # a single layer, checked above
        dtype = tau_s.dtype
        self.aru = aru
        if observed == "readout":
            self.V = jax.random.normal(key, (n_obs, n), dtype) * jnp.sqrt(1.0 / n).astype(dtype)
            self.gain = None
            self.offset = jnp.zeros((n_obs,), dtype)
        else:
            self.V = None
            self.gain = jnp.ones((n_obs,), dtype)
            self.offset = jnp.full((n_obs,), -0.5, dtype)  # sigmoid rates start near 1/2
        self.center = Frozen(jnp.broadcast_to(jnp.asarray(center, dtype), (n_obs,)))
        self.scale = Frozen(jnp.broadcast_to(jnp.asarray(scale, dtype), (n_obs,)))
        if n_trials is None:
            self.trial_drive = None
            self.trial_scale = None
        else:
            self.trial_drive = jnp.zeros((check_int("n_trials", n_trials, 1), n), dtype)
            # 1 / alpha_s at the initial time constants: z_j in units of the current. An
            # array leaf, not a static field: members of an ensemble drawn with other
            # initial time constants keep one structure (one vmap in fit_ensemble).
            self.trial_scale = Frozen(
                jnp.asarray(float(np.mean(np.asarray(tau_s))) / float(aru.dt), dtype)
            )

    # ---- sizes and settings, from the wrapped ARU ------------------------------------

    @property
    def dt(self) -> float:
        return self.aru.dt

    @property
    def readout(self) -> str:
        return "current"

    @property
    def n_in(self) -> int:
        return self.aru.n_in + (self.trial_drive is not None)

    @property
    def n_out(self) -> int:
        return int(self.offset.shape[0])

    @property
    def n_hidden(self) -> int:
        n = self.aru.n_hidden
        assert isinstance(n, int)  # a single-layer ARU, checked in __init__
        return n

    # ---- the interface used by the integrators ----------------------------------------

    def resolve(self):
        return self.aru.resolve()

    def field(self, t, y, args):
        return self.aru.field(t, y, args)

    def initial_state(self, resolved):
        return self.aru.initial_state(resolved)

    def drive(self, resolved, x):
        if self.trial_drive is None:
            return self.aru.drive(resolved, x)
        j = x[..., -1]
        i = jnp.clip(jnp.round(j).astype(jnp.int32) - 1, 0, self.trial_drive.shape[0] - 1)
        assert self.trial_scale is not None  # set with trial_drive
        kick = jnp.where((j > 0.5)[..., None], self.trial_drive[i] * self.trial_scale.value, 0.0)
        return self.aru.drive(resolved, x[..., :-1]) + kick

    def drive_weights(self, resolved):
        # the trial channel makes the drive non-linear in x: `drive` computes it
        return None if self.trial_drive is not None else self.aru.drive_weights(resolved)

    def min_time_constant(self, resolved):
        return self.aru.min_time_constant(resolved)

    def standard_readout(self, r: Array) -> Array:
        """The readout in standard units, `z + offset`, from the rates `r` `(..., n)`."""
        if self.observed == "readout":
            assert self.V is not None  # present in this mode
            z = r @ self.V.T
        else:
            assert self.gain is not None  # present in this mode
            z = self.gain * r[..., : self.n_out]
        return z + self.offset

    def output(self, resolved, y):
        return self.center.value + self.scale.value * self.standard_readout(self.aru.rate(y))

    def time_constants(self) -> dict[str, Array]:
        return self.aru.time_constants()

    def projected(self) -> "ObservedARU":
        return eqx.tree_at(lambda m: m.aru, self, self.aru.projected())

    # ---- conversion and metadata -------------------------------------------------------

    def with_scale(self, center: Any, scale: Any) -> "ObservedARU":
        """The same standard readout mapped to data units with new `center` and `scale`."""
        c = jnp.broadcast_to(jnp.asarray(center, self.offset.dtype), self.offset.shape)
        s = jnp.broadcast_to(jnp.asarray(scale, self.offset.dtype), self.offset.shape)
        return eqx.tree_at(lambda m: (m.center, m.scale), self, (Frozen(c), Frozen(s)))

    def readout_matrix(self) -> tuple[Array, Array]:
        """`(V, b)` of the equivalent plain readout `y = V r + b`, `V` of shape
        `(n_obs, n_hidden)` (units: `scale * gain` on the first `n_obs` columns)."""
        s = self.scale.value
        if self.observed == "readout":
            assert self.V is not None  # present in this mode
            V = s[:, None] * self.V
        else:
            assert self.gain is not None  # present in this mode
            n = self.aru.n_hidden
            V = (
                jnp.zeros((self.n_out, n), s.dtype)
                .at[jnp.arange(self.n_out), jnp.arange(self.n_out)]
                .set(s * self.gain)
            )
        return V, self.center.value + s * self.offset

    def to_aru(self) -> ARU:
        """The same model as a plain `ARU` with `n_out = n_obs` (its readout weights
        `W_out` and bias `b` hold the readout): equal outputs, savable with `save_model`.

        **Raises:** `InputError` if the wrapped ARU has another `n_out` or a constrained
        readout.
        """
        V, b = self.readout_matrix()
        aru = self.aru
        if aru.n_out != self.n_out:
            raise InputError(
                f"aru: has n_out = {aru.n_out}, expected n_out = n_obs = {self.n_out} to carry the readout"
            )
        out = eqx.tree_at(lambda m: (m.W_out.raw, m.b), aru, (V, b))
        if not np.array_equal(np.asarray(out.weight_matrices()["out"]), np.asarray(V)):
            raise InputError(
                "aru: has a constrained readout (a mask or signs); expected a plain readout to carry V"
            )
        return out

    def config(self) -> dict[str, Any]:
        out = {
            "family": self.family,
            "observed": self.observed,
            "n_obs": self.n_out,
            "aru": self.aru.config(),
        }
        if self.trial_drive is not None:
            out["n_trials"] = int(self.trial_drive.shape[0])
        return out

    @classmethod
    def from_config(cls, config: dict[str, Any], *, key) -> "ObservedARU":
        aru = ARU.from_config(config["aru"], key=key)
        if not isinstance(aru, ARU):  # a layout of older files: never written for this model
            raise InputError(
                f"aru: got a {type(aru).__name__} from the saved config, expected an ARU"
            )
        return cls(
            aru,
            int(config["n_obs"]),
            observed=config["observed"],
            n_trials=config.get("n_trials"),
            key=key,
        )

    @classmethod
    def example(cls, *, key, dtype=None) -> "ObservedARU":
        """A small data-constrained model: 2 inputs, 4 hidden units, 2 recorded neurons."""
        k1, k2 = jax.random.split(key)
        aru = ARU(2, 4, 2, tau_s=2.0, tau_r=3.0, dt=1.0, dtype=dtype, key=k1)
        return cls(aru, 2, observed="units", center=1.0, scale=2.0, key=k2)


def as_numpy(x) -> np.ndarray:
    return np.asarray(jax.device_get(x))
