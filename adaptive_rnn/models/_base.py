"""The model contract: what every model family provides, and the optional hooks with
their defaults, so that one integrator, one trainer and one file format serve them all.

A family is a final `equinox.Module` subclass of `AbstractRNN` (equinox's
abstract-or-final pattern: abstract classes declare, final classes implement, and a
concrete class is never subclassed). Every method the integrators, trainers and files
need is declared here, either abstract (a class that lacks one cannot be instantiated:
`TypeError`) or with a documented default. Callers use these methods directly and never
probe a model with `getattr`/`hasattr`. Register a new family with
`adaptive_rnn.register_family` (see `docs/extending.md`).

Why one file of over 400 lines: it is the contract, and a contract is read in one place;
most of its length is the docstrings of the methods a family provides.
"""

import abc
import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from .._checks import check_choice, check_memory, check_positive, check_positive_int
from .._connectivity import Weight, project_weights
from .._errors import InputError
from .._fields import FloatScalarLike
from ._noise_settings import Noise

READOUTS = ("current", "lagged")


class AbstractRNN(eqx.Module):
    r"""A continuous-time recurrent network with an input drive and a readout.

    The state $y$ is a tuple of arrays (one per state variable, named by `state_names`)
    that evolves as $dy/dt = F(t, y, (\text{resolved}, d(t)))$, with $d$ the input drive
    computed from the input $x(t)$; the output is a readout of the state. `simulate` runs
    the `SequentialEuler` step of $F$ with the model's `dt` (the discrete model), `solve`
    integrates $F$ with diffrax.

    **Required** (abstract): `n_in`, `n_hidden`, `n_out`, `resolve`, `field`,
    `initial_state`, `drive`, `output`, `min_time_constant`, `time_constants`, `config`,
    `from_config`, `example`; the fields `dt` and `readout`; the class variables
    `family` (the name the family is registered under and its files record) and
    `state_names`.

    **Optional hooks** (with defaults): `drive_weights` (`None`: the drive is not
    fused with the recurrent matmul), `discrete_step` (`None`: the discrete model is the
    `SequentialEuler` step of `field`) with the class variable `stable_discrete_step`
    (`False`), `derived_states` (`{}`), `active_noise` (`None`: no noise; families with
    noise subclass `AbstractNoisyRNN`), `weight_matrices` (`{}`), `dale_signs` (`None`),
    `projected` (project every `Weight`), `with_dt`.

    Time units: `dt` and every time constant are in the model's own time units; a rate
    constant is `alpha = dt / tau` (see `docs/model.md`, "Vocabulary").
    """

    dt: eqx.AbstractVar[float]
    readout: eqx.AbstractVar[str]

    family: ClassVar[str] = "abstract"
    state_names: ClassVar[tuple[str, ...]] = ()

    # ---- sizes ---------------------------------------------------------------------

    @property
    @abc.abstractmethod
    def n_in(self) -> int:
        """The width of the input `x`."""

    @property
    @abc.abstractmethod
    def n_hidden(self) -> int | tuple[int, ...]:
        """The number of hidden units (a tuple, one per layer, for stacked layers)."""

    @property
    @abc.abstractmethod
    def n_out(self) -> int:
        """The width of the output `y`."""

    # ---- what the integrators call -------------------------------------------------

    @abc.abstractmethod
    def resolve(self) -> PyTree:
        """The resolved parameters: positive time constants, effective weights (Dale
        signs, masks and frozen entries applied). Computed once per forward pass, outside
        the loop over time; everything below receives them as `resolved`.

        **Returns:** a pytree (usually an `equinox.Module`) of arrays.
        """

    @abc.abstractmethod
    def field(self, t: FloatScalarLike, y: tuple[Array, ...], args: tuple) -> tuple[Array, ...]:
        """The vector field `dy/dt`, pure, with diffrax's signature.

        **Arguments:**

        - `t`: time.
        - `y`: the state, a tuple of arrays (one per state variable).
        - `args`: `(resolved, drive)`: the output of `resolve()` and the input drive at
            `t`, an array of the shape of `drive(resolved, x)` or, when `drive_weights`
            returns a matrix, an `InputDrive` that the field must add with
            `recurrent_input`. The field must be affine in the drive (the noise enters
            through it).

        **Returns:** `dy/dt`, of the structure of `y`.
        """

    @abc.abstractmethod
    def initial_state(self, resolved: PyTree) -> tuple[Array, ...]:
        """The state at `t0`.

        **Arguments:**

        - `resolved`: the output of `resolve()`.

        **Returns:** a tuple of arrays (one per name of `state_names`; repeated per layer
        for stacked layers).
        """

    @abc.abstractmethod
    def drive(self, resolved: PyTree, x: Float[Array, "*batch n_in"]) -> PyTree:
        """The input current of the hidden layer, linear in `x`.

        **Arguments:**

        - `resolved`: the output of `resolve()`.
        - `x`: inputs, shape `(..., n_in)` (leading axes kept).

        **Returns:** the drive, an array `(..., n)` (or a pytree of them, e.g. the LTC's
        `LTCDrive`).
        """

    @abc.abstractmethod
    def output(self, resolved: PyTree, y: tuple[Array, ...]) -> Float[Array, " n_out"]:
        """The readout of one state.

        **Arguments:**

        - `resolved`: the output of `resolve()`.
        - `y`: one state (no time or batch axis).

        **Returns:** the output, shape `(n_out,)`.
        """

    @abc.abstractmethod
    def min_time_constant(self, resolved: PyTree) -> Float[Array, ""]:
        """The smallest time constant of the resolved model; `simulate` and `solve`
        refuse an explicit-Euler step `>= 2 *` it.

        **Arguments:**

        - `resolved`: the output of `resolve()`.

        **Returns:** a scalar.
        """

    # ---- what users and analyses read ----------------------------------------------

    @abc.abstractmethod
    def time_constants(self) -> dict[str, Array]:
        """The effective time constants (names starting with `tau`) and rate constants
        (`alpha` = dt/tau), by name, in the model's time units."""

    # ---- files ---------------------------------------------------------------------

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """The JSON-serialisable description of the structure (constructor options,
        sizes, dtype, which leaves are frozen), with `"family": self.family`.
        `save_model` writes it; `from_config` reads it back."""

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: dict[str, Any], *, key: PRNGKeyArray) -> "AbstractRNN":
        """A model with the structure `config` describes (values drawn from `key`;
        `load_model` then overwrites every leaf with the saved ones). Must also accept
        the configs that earlier versions wrote (see `docs/model.md`, "Vocabulary").

        **Raises:** any exception for a config it cannot read (`load_model` reports it
        as a `CheckpointError`).
        """

    # ---- tests and documentation ---------------------------------------------------

    @classmethod
    @abc.abstractmethod
    def example(cls, *, key: PRNGKeyArray, dtype=None) -> "AbstractRNN":
        """A small model of this family (a few units, 2 inputs, 2 outputs) with its
        typical options switched on (learnable time constants, constraints), smooth
        enough for finite differences. `tests/test_contract.py` checks every registered
        family on it.

        **Arguments:**

        - `key`: a `jax.random` key.
        - `dtype`: the parameter dtype (default: JAX's default float).
        """

    # ---- optional hooks ------------------------------------------------------------

    def drive_weights(self, resolved: PyTree) -> Float[Array, "n n_in"] | None:
        """The matrix `U` with `drive(resolved, x) = U x`, or `None` (the default) if
        the drive is not of that form.

        The integrators use it to fuse the input matmul into the recurrent one: the field
        then receives an `InputDrive` as its drive, so a model that returns `U` here must
        add its drive through `recurrent_input` (as the built-in fields do).
        """
        return None

    # A family whose `discrete_step` is stable at any `dt` sets this to `True`: `simulate`
    # then skips its explicit-Euler check `dt < 2 min_time_constant`.
    stable_discrete_step: ClassVar[bool] = False

    def discrete_step(
        self, t: FloatScalarLike, y: tuple[Array, ...], args: tuple, dt: FloatScalarLike
    ) -> tuple[Array, ...] | None:
        """The family's own step of its discrete model (`simulate`) from `t` to `t + dt`,
        or `None` (the default) for the `SequentialEuler` step of `field`, which the
        fixed-grid `solve` with `SequentialEuler` reproduces. (The LTC's semi-implicit
        update is its own step.)

        **Arguments:** `t`, `y` and `args = (resolved, drive)` as `field`; `dt`: the step.

        **Returns:** the state at `t + dt`, or `None`.
        """
        return None

    def derived_states(self, states: dict[str, Array]) -> dict[str, Array]:
        """Quantities derived from the recorded states (e.g. the shunting model's
        effective time constant `tau_eff`), added to `Trajectory.states`.

        **Arguments:**

        - `states`: state name -> array with leading time (and batch) axes.

        **Returns:** name -> array of the same leading axes; default `{}`.
        """
        return {}

    def active_noise(self) -> Noise | None:
        """The model's noise settings if it has any noise, else `None` (the default:
        the model is deterministic). A family with noise subclasses `AbstractNoisyRNN`,
        which provides this from its `noise` field."""
        return None

    def weight_matrices(self) -> dict[str, Array]:
        """The effective weight matrices by role: `"in"` (the input weights of the first
        layer), `"rec"` (the recurrent weights; of the last layer for stacked layers) and
        `"out"` (the readout), as the dynamics use them. The regularisers and the
        connectivity plots read them.

        **Returns:** role -> matrix `(n_post, n_pre)`; default `{}` (no weights).
        """
        return {}

    def dale_signs(self) -> Array | None:
        """The Dale sign of each hidden unit (+1 excitatory, -1 inhibitory), shape
        `(n,)`, or `None` (the default) for a model without Dale's law."""
        return None

    def projected(self) -> "AbstractRNN":
        """The model clamped back into its constraint set (Dale's law in `"project"`
        mode, sparsity masks).

        Every trainer applies it after each optimiser step, inside the compiled update,
        and to the initial model. It must be pure, jittable and vmappable, change only
        the values of trainable leaves (never the tree structure) and be idempotent.
        The default projects each `Weight` of the model (`project_weights`); a model
        without constrained weights is returned unchanged. A family that keeps
        constrained parameters as plain arrays overrides it.

        **Returns:** the projected model, of the same structure.
        """
        return project_weights(self)

    def with_dt(self, dt: float) -> "AbstractRNN":
        """The same model (same time constants in time units) stepped at a new `dt`.

        **Arguments:**

        - `dt`: the new step, > 0.

        **Returns:** the model with `dt` replaced.

        **Raises:** `InputError` for a step that is not positive.
        """
        new = copy.copy(self)
        object.__setattr__(new, "dt", _check_dt(dt))  # a static field: not a pytree leaf
        return new


class AbstractNoisyRNN(AbstractRNN):
    r"""A model whose noise enters through its input drive (see `adaptive_rnn._noise`).

    Provides `active_noise()` from the `noise` field and requires three hooks:

    - `noise_gain(resolved)`: the amplitude $g$ of unit white noise in the drive (e.g.
        $\sqrt{2\tau}$, so that an isolated linear unit has stationary variance 1);
    - `rate_to_drive(resolved, r)`: the recurrent current $W r$ that a rate perturbation
        `r` causes (post-activation noise fed back);
    - `output_noise(resolved, xi)`: the readout of a rate perturbation, $W_{out}\xi$.
    """

    noise: eqx.AbstractVar[Noise]

    def active_noise(self) -> Noise | None:
        """The `noise` field if `sigma_pre` or `sigma_post` is positive, else `None`."""
        return self.noise if self.noise.active else None

    @abc.abstractmethod
    def noise_gain(self, resolved: PyTree) -> Float[Array, " n"]:
        """The amplitude of unit white noise in the drive.

        **Arguments:**

        - `resolved`: the output of `resolve()`.

        **Returns:** shape `(n,)` (or broadcastable to it).
        """

    @abc.abstractmethod
    def rate_to_drive(self, resolved: PyTree, r: Float[Array, " n"]) -> Float[Array, " n"]:
        """The recurrent current caused by a rate perturbation `r`.

        **Arguments:**

        - `resolved`: the output of `resolve()`.
        - `r`: the perturbation of the rates.

        **Returns:** the current, shape `(n,)`.
        """

    @abc.abstractmethod
    def output_noise(self, resolved: PyTree, xi: Float[Array, " n"]) -> Float[Array, " n_out"]:
        """The readout of a rate perturbation `xi`.

        **Arguments:**

        - `resolved`: the output of `resolve()`.
        - `xi`: the perturbation of the rates.

        **Returns:** its readout, shape `(n_out,)`.
        """


def project(model: PyTree) -> PyTree:
    """Clamps every constrained weight of a model back into its constraint set.

    For weights under Dale's law in `"project"` mode (NN4N's convention), entries whose
    sign disagrees with their presynaptic unit are set to 0, and masked entries are
    zeroed. The `"abs"` and `"rectify"` reparametrisations need no projection (their
    effective weights hold the signs for any raw value); `project` leaves them unchanged
    apart from masking.

    The trainers (`fit`, `fit_ensemble`, `fit_scan` and everything built on them) call
    it inside their compiled update, after every optimiser step; a hand-written training
    loop does the same:

        updates, opt_state = optim.update(grads, opt_state, params)
        model = adaptive_rnn.project(eqx.apply_updates(model, updates))

    **Arguments:**

    - `model`: an adaptive_rnn model (its `AbstractRNN.projected()`), or a `Weight`.

    **Returns:** the projected model.

    **Raises:** `InputError` for an object that is neither a model nor a `Weight`.
    """
    if not isinstance(model, (AbstractRNN, Weight)):
        raise InputError(
            f"model: got {type(model).__name__}, expected an adaptive_rnn model or a Weight"
        )
    return model.projected()


def _check_dt(dt, name: str = "dt") -> float:
    return check_positive(name, dt)


def _check_size(name: str, value) -> int:
    return check_positive_int(name, value)


def check_sizes(n_in: Any, n_hidden: Any, n_out: Any) -> tuple[int, int, int]:
    """`(n_in, n_hidden, n_out)` of a one-layer model, each a positive integer.

    **Arguments:**

    - `n_in`, `n_hidden`, `n_out`: the sizes a constructor was given.

    **Returns:** the three sizes as `int`s.

    **Raises:** `InputError` naming the first that is not.
    """
    return _check_size("n_in", n_in), _check_size("n_hidden", n_hidden), _check_size("n_out", n_out)


def _check_readout(readout: str) -> str:
    return check_choice("readout", readout, READOUTS)


def _check_param_memory(name: str, got, n_params: int, dtype) -> None:
    """Refuses a model whose `n_params` parameters of `dtype` would not fit in memory
    (before any array is allocated); `name`/`got` name the size that sets it."""
    check_memory(
        name, got, float(n_params) * default_dtype(dtype).itemsize, "the model's parameters"
    )


def normal_init(key, shape, std, dtype) -> Array:
    """Normal draws of standard deviation `std`.

    **Arguments:**

    - `key`: a `jax.random` key; `shape`: the shape; `std`: the standard deviation;
        `dtype`: the dtype.

    **Returns:** the array.
    """
    return std * jax.random.normal(key, shape, dtype=dtype)


def as_tuple(x: int | Sequence[int]) -> tuple[Any, ...]:
    """`x` as a tuple: a list or tuple's entries, else `(x,)`.

    **Arguments:**

    - `x`: a size or a sequence of sizes.

    **Returns:** the tuple.
    """
    # The entries are not checked here (anything but a list or tuple is one entry):
    # callers check each one (`_check_size`).
    if isinstance(x, (list, tuple)):
        return tuple(x)
    return (x,)


def default_dtype(dtype):
    """The dtype a constructor's `dtype=None` means: JAX's default float.

    **Arguments:**

    - `dtype`: a dtype, or `None`.

    **Returns:** a NumPy dtype.
    """
    return jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
