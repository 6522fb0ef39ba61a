r"""Connectivity: Dale's law, sparsity masks, frozen weights, multi-area structure.

Every weight matrix of every model family is a `Weight`: a raw, trainable array plus
constant (`Frozen`) leaves that `trainable_filter` excludes from training:

- `signs`: the sign of each *presynaptic* unit, shape `(1, n_pre)`, for Dale's law;
- `mask`: a 0/1 sparsity mask, shape `(n_post, n_pre)`;
- `fixed_where` / `fixed_values`: entries that are frozen at given values.

The effective matrix is computed in `resolve()` (the "unwrap" pattern):

$$W = M \odot \phi(W_{raw}) \odot D, \qquad \text{then frozen entries overwritten,}$$

with $D_{ij} = s_j$ the presynaptic sign and $\phi$ the Dale reparametrisation:
`"abs"` ($\phi = |\cdot|$, PsychRNN), `"rectify"` ($\phi = [\cdot]_+$, Song et al. 2016), or
`"project"` ($\phi$ = identity, with `project(model)` clamping the raw weights back into
the sign cone after each optimiser step, as NN4N; the trainers do this inside their
compiled update). With `dale=None` there is no sign constraint; `nonneg=True` makes all
entries non-negative (same reparametrisations).

Frozen weights are done by partitioning: their values live in `Frozen` leaves, so Adam
(or weight decay) can never move them, whatever the gradients.

`Connectivity` holds the options that every family's constructor takes (`dale`,
`e_fraction`, masks, ...); `adaptive_rnn.models._common.build_weights` turns them into the
input, recurrent and readout `Weight`s with `make_weight`.

Why one file of over 400 lines: the options (`Connectivity`), the constrained matrix
(`Weight`, `make_weight`, the projection) and the multi-area builder speak one vocabulary
(presynaptic signs from `ei_signs`, 0/1 masks from `check_mask`), and `multi_area` makes
exactly the options that `Connectivity` takes. The multi-area section (the last third) is
the seam along which the file would split if it grew.
"""

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray, PyTree, Real

from ._checks import suggest
from ._errors import InputError
from ._params import Frozen

DALE_MODES = ("abs", "rectify", "project")
INITS = ("normal", "uniform", "zero")


# --------------------------------------------------------------------------------------
# Validation at the edge
# --------------------------------------------------------------------------------------


def check_mask(name: str, mask: ArrayLike | Sequence, shape: tuple[int, ...]) -> np.ndarray:
    """Validates a 0/1 mask of a given shape.

    **Arguments:**

    - `name`: for error messages.
    - `mask`: 0/1 (or boolean) values, array-like.
    - `shape`: the expected shape.

    **Returns:** the mask as a float64 NumPy array of 0s and 1s.

    **Raises:** `InputError` naming `name`, the shape or values received and the expected.
    """
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise InputError(f"{name}: got a mask of shape {m.shape}, expected shape {tuple(shape)}")
    if m.dtype == np.bool_:
        return m.astype(np.float64)
    if not np.issubdtype(m.dtype, np.number):
        raise InputError(f"{name}: got dtype {m.dtype}, expected a 0/1 (or boolean) mask")
    bad = ~np.isin(m, (0, 1))
    if bad.any():
        vals = np.unique(m[bad])[:5]
        raise InputError(
            f"{name}: got non-binary values {vals.tolist()} in the mask, expected only 0 and 1"
        )
    return m.astype(np.float64)


def ei_signs(n: int, e_fraction: float = 0.8, *, ei: Sequence | None = None) -> np.ndarray:
    """The sign (+1 excitatory, -1 inhibitory) of each of `n` hidden units.

    **Arguments:**

    - `n`: number of units.
    - `e_fraction`: fraction of excitatory units, in (0, 1); the first
        `round(e_fraction * n)` units are excitatory (at least one of each kind).
    - `ei`: an explicit list instead: `+1`/`True`/`"E"` excitatory, `-1`/`False`/`"I"`
        inhibitory, one per unit.

    **Returns:** a NumPy array of shape `(n,)` with values +-1.

    **Raises:** `InputError` for `e_fraction` outside (0, 1) or a list of the wrong length
    or with other values.
    """
    if ei is not None:
        vals = list(ei)
        if len(vals) != n:
            raise InputError(f"ei: got {len(vals)} entries, expected one per hidden unit ({n})")
        out = []
        for v in vals:
            if isinstance(v, str) and v.upper() in ("E", "I"):
                out.append(1.0 if v.upper() == "E" else -1.0)
            elif isinstance(v, (bool, np.bool_)):
                out.append(1.0 if v else -1.0)
            elif v in (1, -1):
                out.append(float(v))
            else:
                raise InputError(f"ei: got entry {v!r}, expected +1/-1, True/False or 'E'/'I'")
        return np.asarray(out)
    if (
        isinstance(e_fraction, bool)
        or not isinstance(e_fraction, (int, float))
        or not (0 < e_fraction < 1)
    ):
        raise InputError(
            f"e_fraction: got {e_fraction!r}, expected a number in the open interval (0, 1)"
        )
    n_e = int(round(e_fraction * n))
    n_e = min(max(n_e, 1), n - 1) if n > 1 else 1
    return np.concatenate([np.ones(n_e), -np.ones(n - n_e)])


def _check_dale(dale) -> str | None:
    if dale is None or dale is False:
        return None
    if dale is True:
        return "abs"
    if dale not in DALE_MODES:
        raise InputError(f"dale: got {dale!r}, expected None or one of {DALE_MODES}")
    return dale


@dataclasses.dataclass(frozen=True)
class Connectivity:
    """The connectivity options of a one-layer network, the same for every model family:
    Dale's law, the E/I units, masks, frozen weights and the structure of the initial
    weights. The model constructors take them as keyword arguments (`dale="abs"`, ...)
    and `build_weights` turns them into the input, recurrent and readout `Weight`s.

    **Fields:**

    - `dale`: Dale's law on the recurrent weights: `None` (none), `"abs"`
        (W = |W_raw| D), `"rectify"` (W = [W_raw]_+ D, Song et al.) or `"project"`
        (clamped with `adaptive_rnn.project` after each optimiser step, as NN4N); the
        initial recurrent weights are |W| D.
    - `e_fraction`: the excitatory fraction, in (0, 1) (default 0.8); or `ei`, an
        explicit list (+1/-1, True/False or "E"/"I") per unit (see `ei_signs`).
    - `self_connections`: `False` zeroes (and keeps zero) the diagonal of the recurrent
        weights.
    - `readout_excitatory_only`: the readout sees excitatory units only (needs `dale`).
    - `nonneg_input`: non-negative input weights.
    - `balance`: E/I-balanced initial recurrent weights (`balance_ei`).
    - `spectral_radius`: rescale the initial recurrent weights to this spectral radius.
    - `masks`: 0/1 sparsity masks `{"in": (n, n_in), "rec": (n, n), "out": (n_out, n)}`;
        masked weights stay zero through training.
    - `fixed`: frozen weights `{"in"/"rec"/"out": True or a 0/1 array of frozen
        entries}`; frozen values are `Frozen` leaves, so no optimiser moves them.
    """

    dale: str | None = None
    e_fraction: float = 0.8
    ei: Sequence | None = None
    self_connections: bool = True
    readout_excitatory_only: bool = False
    nonneg_input: bool = False
    balance: bool = False
    spectral_radius: float | None = None
    masks: dict | None = None
    fixed: dict | None = None

    def __post_init__(self):
        object.__setattr__(self, "dale", _check_dale(self.dale))
        if self.readout_excitatory_only and self.dale is None:
            raise InputError("readout_excitatory_only: needs Dale's law (dale=...), got dale=None")

    @classmethod
    def from_options(
        cls,
        where: str,
        options: Mapping[str, Any],
        *,
        others: Iterable[str] = (),
        **defaults: Any,
    ) -> "Connectivity":
        """The options given as keyword arguments to `where` (a constructor), over the
        family's `defaults`.

        **Arguments:**

        - `where`: the constructor's name, for the error message.
        - `options`: the keyword arguments left over by the constructor's own.
        - `others`: the constructor's own keyword arguments, named with the options in the
            error for an unknown keyword.
        - `**defaults`: the family's defaults (e.g. `dale="abs"` for `Shunting`).

        **Returns:** the `Connectivity`.

        **Raises:** `InputError` for a name that is neither an option nor in `others`
        (naming it, the nearest valid one and every accepted name) or an invalid `dale`.
        """
        unknown = [k for k in options if k not in CONNECTIVITY_OPTIONS]
        if unknown:
            accepted = (*others, *CONNECTIVITY_OPTIONS)
            parts = ", ".join(f"{k!r}{suggest(k, accepted)}" for k in unknown)
            raise InputError(
                f"{where}: unknown keyword argument{'s' if len(unknown) > 1 else ''} {parts}; "
                f"expected keyword arguments among {', '.join(repr(a) for a in accepted)}"
            )
        return cls(**{**defaults, **options})

    def changed(self) -> tuple[str, ...]:
        """The names of the options that differ from their defaults.

        **Returns:** the names, in the order of the fields.
        """

        def differs(f):
            value = getattr(self, f.name)
            return value is not None if f.default is None else bool(value != f.default)

        return tuple(f.name for f in dataclasses.fields(self) if differs(f))


CONNECTIVITY_OPTIONS = tuple(f.name for f in dataclasses.fields(Connectivity))


# --------------------------------------------------------------------------------------
# A constrained weight matrix
# --------------------------------------------------------------------------------------


class Weight(eqx.Module):
    r"""A weight matrix with optional sign constraint, sparsity mask and frozen entries.

    `effective()` returns $M \odot \phi(W_{raw}) \odot D$ with the frozen entries
    overwritten (see the module docstring). `raw` is trainable unless the whole matrix
    is frozen (then it is a `Frozen`).

    **Fields:**

    - `raw`: the trainable array `(n_post, n_pre)` (a `Frozen` if the whole matrix is).
    - `signs`: the presynaptic signs `(1, n_pre)` under Dale's law, or `None`.
    - `mask`: the 0/1 sparsity mask `(n_post, n_pre)`, or `None`.
    - `fixed_where`, `fixed_values`: where entries are frozen and their values, or `None`.
    - `sign_mode`: `"abs"`, `"rectify"`, `"project"` or `None`.
    """

    raw: Array | Frozen
    signs: Frozen | None
    mask: Frozen | None
    fixed_where: Frozen | None
    fixed_values: Frozen | None
    sign_mode: str | None = eqx.field(static=True)

    def effective(self) -> Float[Array, "n_post n_pre"]:
        """The matrix the dynamics use: masked, Dale-signed, frozen entries overwritten.

        **Returns:** shape `(n_post, n_pre)`.
        """
        w = self.raw.value if isinstance(self.raw, Frozen) else self.raw
        if self.signs is not None:
            s = self.signs.value
            if self.sign_mode == "abs":
                w = jnp.abs(w) * s
            elif self.sign_mode == "rectify":
                w = jax.nn.relu(w) * s
            # "project": raw is kept in the sign cone by `project`.
        if self.mask is not None:
            w = w * self.mask.value
        if self.fixed_where is not None:
            assert self.fixed_values is not None  # set together with fixed_where
            w = jnp.where(self.fixed_where.value > 0, self.fixed_values.value, w)
        return w

    def projected(self) -> "Weight":
        """The same weight with its raw array clamped into the sign cone (`"project"`
        mode) and masked.

        **Returns:** the projected `Weight` (the same one if wholly frozen).
        """
        if isinstance(self.raw, Frozen):
            return self
        w = self.raw
        if self.signs is not None and self.sign_mode == "project":
            s = self.signs.value
            w = jnp.where(w * s >= 0, w, jnp.zeros_like(w))
        if self.mask is not None:
            w = w * self.mask.value
        return eqx.tree_at(lambda x: x.raw, self, w)

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape `(n_post, n_pre)`."""
        return (self.raw.value if isinstance(self.raw, Frozen) else self.raw).shape

    def structure(self) -> dict:
        """JSON description of the structure (for `config`).

        **Returns:** `{"frozen", "sign_mode", "signs", "mask", "fixed"}`.
        """
        return {
            "frozen": isinstance(self.raw, Frozen),
            "sign_mode": self.sign_mode,
            "signs": self.signs is not None,
            "mask": self.mask is not None,
            "fixed": self.fixed_where is not None,
        }


def _init_array(name, init, key, shape, dtype, scale_fan_in=True) -> np.ndarray | Tracer:
    fan_in = shape[-1]
    if isinstance(init, str):
        if init == "normal":
            return np.asarray(jax.random.normal(key, shape, dtype=dtype)) / np.sqrt(fan_in)
        if init == "uniform":
            k = 1 / np.sqrt(fan_in)
            return np.asarray(jax.random.uniform(key, shape, dtype=dtype, minval=-k, maxval=k))
        if init == "zero":
            return np.zeros(shape)
        raise InputError(f"{name}: initialisation {init!r}, expected one of {INITS} or an array")
    if isinstance(init, Tracer):  # traced (a model built under jit/vmap): no value to check
        if init.shape != tuple(shape):
            raise InputError(
                f"{name}: got an array of shape {init.shape}, expected shape {tuple(shape)}"
            )
        return init
    arr = np.asarray(init, dtype=np.float64)
    if arr.shape != tuple(shape):
        raise InputError(
            f"{name}: got an array of shape {arr.shape}, expected shape {tuple(shape)}"
        )
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name}: got non-finite values, expected finite weights")
    return arr


def spectral_radius(W: Real[ArrayLike, "n n"]) -> float:
    """The largest absolute eigenvalue of a square matrix.

    **Arguments:**

    - `W`: a square matrix (computed in float64 NumPy).

    **Returns:** the spectral radius.
    """
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, dtype=np.float64)))))


def balance_ei(W: Real[ArrayLike, "n_post n"], signs: Real[ArrayLike, " n"]) -> np.ndarray:
    r"""Scales the inhibitory inputs of each unit so that they cancel its excitatory ones.

    For each row i: $\sum_{j \in I} |W_{ij}| = \sum_{j \in E} W_{ij}$ (rows without
    inhibitory or excitatory inputs are left as they are). `W` must already carry the
    Dale signs.

    **Arguments:**

    - `W`: the signed weights `(n_post, n)`.
    - `signs`: +1 / -1 per presynaptic unit, shape `(n,)`.

    **Returns:** the balanced weights, a float64 NumPy array.
    """
    W = np.array(W, dtype=np.float64)
    s = np.asarray(signs)
    e = W[:, s > 0].sum(axis=1)
    i = -W[:, s < 0].sum(axis=1)
    scale = np.where((i > 0) & (e > 0), e / np.where(i > 0, i, 1.0), 1.0)
    W[:, s < 0] *= scale[:, None]
    return W


def make_weight(
    name: str,
    shape: tuple[int, int],
    *,
    init: str | ArrayLike = "normal",
    key: PRNGKeyArray,
    dtype: Any,
    dale: str | None = None,
    signs: ArrayLike | None = None,
    nonneg: bool = False,
    mask: ArrayLike | None = None,
    fixed: bool | ArrayLike = False,
    no_self: bool = False,
    radius: float | None = None,
    balance: bool = False,
) -> Weight:
    """Builds a `Weight` from an initialisation and its constraints.

    **Arguments:**

    - `name`: used in error messages (`"W_hid"`, ...).
    - `shape`: `(n_post, n_pre)`.
    - `init`: `"normal"` (std `1/sqrt(fan_in)`), `"uniform"` (`+-1/sqrt(fan_in)`),
        `"zero"`, or an array of that shape.
    - `dale`: sign reparametrisation, `None`, `"abs"`, `"rectify"` or `"project"`.
    - `signs`: presynaptic signs, shape `(n_pre,)` (with `dale`).
    - `nonneg`: all entries non-negative (uses `dale` mode, default `"abs"`).
    - `mask`: 0/1 sparsity mask of shape `shape`.
    - `fixed`: `True` to freeze the whole matrix, or a 0/1 array marking frozen entries.
    - `no_self`: zero the diagonal (square matrices), through the mask.
    - `radius`: rescale the initial effective matrix to this spectral radius.
    - `balance`: E/I-balanced initialisation (`balance_ei`).
    - `key`, `dtype`: for a random initialisation; the dtype of the arrays.

    **Returns:** the `Weight`.

    **Raises:** `InputError` for arrays or masks of the wrong shape or values.
    """
    dale = _check_dale(dale)
    raw = _init_array(name, init, key, shape, dtype)
    m = None if mask is None else check_mask(f"{name} mask", mask, shape)
    if no_self:
        if shape[0] != shape[1]:
            raise InputError(f"{name}: no self-connections needs a square matrix, got {shape}")
        m = (np.ones(shape) if m is None else m) * (1 - np.eye(shape[0]))
    s = None
    if nonneg:
        s = np.ones((1, shape[1]))
        dale = dale or "abs"
    elif dale is not None:
        if signs is None:
            raise InputError(f"{name}: Dale's law needs the presynaptic signs")
        s = np.asarray(signs, dtype=np.float64).reshape(1, -1)
        if s.shape[1] != shape[1]:
            raise InputError(
                f"{name}: got {s.shape[1]} signs, expected {shape[1]} (one per presynaptic unit)"
            )
    # Initial effective matrix, then the raw array that represents it (traceable unless
    # balanced or rescaled, which need the values).
    traced = isinstance(raw, Tracer)
    if traced and (balance or radius is not None):
        raise InputError(
            f"{name}: balance and spectral_radius need concrete initial weights, got weights "
            f"traced under jit/vmap; build the model outside them"
        )
    eff = raw if traced else raw.copy()
    if s is not None:
        eff = (jnp if traced else np).abs(eff) * s
    if m is not None:
        eff = eff * m
    if balance and s is not None:
        eff = balance_ei(eff, s[0])
    if radius is not None:
        if shape[0] != shape[1]:
            raise InputError(f"{name}: a spectral radius needs a square matrix, got {shape}")
        rho = spectral_radius(eff)
        if rho > 0:
            eff = eff * (float(radius) / rho)
    fixed_where = fixed_values = None
    frozen_all = isinstance(fixed, bool) and fixed
    if not isinstance(fixed, bool):
        fw = check_mask(f"{name} fixed", fixed, shape)
        fixed_where = Frozen(jnp.asarray(fw, dtype=dtype))
        fixed_values = Frozen(jnp.asarray(eff * fw, dtype=dtype))
    # The raw array whose effective matrix is `eff`: `eff` itself, but for `"rectify"`
    # the magnitudes |eff| = eff * s (relu of a negative raw entry would be 0).
    raw_arr = jnp.asarray(eff * s if dale == "rectify" and s is not None else eff, dtype=dtype)
    return Weight(
        raw=Frozen(raw_arr) if frozen_all else raw_arr,
        signs=None if s is None else Frozen(jnp.asarray(s, dtype=dtype)),
        mask=None if m is None else Frozen(jnp.asarray(m, dtype=dtype)),
        fixed_where=fixed_where,
        fixed_values=fixed_values,
        sign_mode=dale if s is not None else None,
    )


def weight_from_structure(
    name: str, shape: tuple[int, int], structure: dict[str, Any], dtype: Any
) -> Weight:
    """A placeholder `Weight` with the structure recorded by `Weight.structure()` (values
    are overwritten when a saved model is loaded).

    **Arguments:**

    - `name`: the weight's name (unused but for symmetry with `make_weight`).
    - `shape`: `(n_post, n_pre)`; `structure`: as `Weight.structure()` wrote it.
    - `dtype`: of the arrays.

    **Returns:** the placeholder `Weight`.
    """
    z = jnp.zeros(shape, dtype=dtype)
    one = jnp.ones(shape, dtype=dtype)
    return Weight(
        raw=Frozen(z) if structure.get("frozen") else z,
        signs=Frozen(jnp.ones((1, shape[1]), dtype=dtype)) if structure.get("signs") else None,
        mask=Frozen(one) if structure.get("mask") else None,
        fixed_where=Frozen(z) if structure.get("fixed") else None,
        fixed_values=Frozen(z) if structure.get("fixed") else None,
        sign_mode=structure.get("sign_mode"),
    )


def project_weights(tree: PyTree) -> PyTree:
    """Every `Weight` in a pytree clamped into its constraint set (`Weight.projected`).

    This is the one projection of the library: `AbstractRNN.projected` (the hook the
    trainers call after each optimiser step) applies it to every `Weight` of a model, of
    every family. Pure, jittable and vmappable; it changes only the raw arrays of the
    weights, never the tree structure.

    **Arguments:**

    - `tree`: any pytree (a model, a `Weight`, a tuple of them, ...).

    **Returns:** the same pytree with each `Weight` replaced by `Weight.projected()`.
    """
    return jax.tree_util.tree_map(
        lambda x: x.projected() if isinstance(x, Weight) else x,
        tree,
        is_leaf=lambda x: isinstance(x, Weight),
    )


# --------------------------------------------------------------------------------------
# Multi-area networks
# --------------------------------------------------------------------------------------


class MultiArea(NamedTuple):
    """The structure of a multi-area network, to pass to a model constructor.

    **Fields:**

    - `areas`: area index of each hidden unit, shape `(n,)`.
    - `signs`: +1 / -1 per hidden unit (E/I within each area), or `None`.
    - `mask_in` `(n, n_in)`, `mask_rec` `(n, n)`, `mask_out` `(n_out, n)`: 0/1 masks.
    """

    areas: np.ndarray
    signs: np.ndarray | None
    mask_in: np.ndarray
    mask_rec: np.ndarray
    mask_out: np.ndarray

    def model_kwargs(self) -> dict:
        """Keyword arguments for a model constructor (`ARU`, `CTRNN`, `Shunting`): the
        masks and, if any, the Dale signs.

        **Returns:** the connectivity options, `{"masks": ..., "ei": ..., "dale": "abs"}`.
        """
        kw: dict[str, Any] = {
            "masks": {"in": self.mask_in, "rec": self.mask_rec, "out": self.mask_out}
        }
        if self.signs is not None:
            kw["ei"] = self.signs.tolist()
            kw["dale"] = "abs"
        return kw


def multi_area(
    n_in: int,
    sizes: Sequence[int],
    n_out: int,
    *,
    connectivity: ArrayLike | tuple[float, float] = (0.1, 0.1),
    e_fraction: float | Sequence[float] | None = None,
    input_areas: Sequence[int] | None = None,
    readout_areas: Sequence[int] | None = None,
    readout_inhibitory: bool = True,
    key: PRNGKeyArray,
) -> MultiArea:
    r"""Builds masks (and E/I signs) for a network of several areas, as NN4N's MultiArea.

    **Arguments:**

    - `n_in`, `n_out`: input and output widths.
    - `sizes`: number of hidden units per area; units are numbered area by area.
    - `connectivity`: connection probabilities between areas, either a matrix `C` of
        shape `(n_areas, n_areas)` with `C[a, b]` the probability of a connection from
        area `b` to area `a`, or a pair `(forward, feedback)`: `forward` from area `b`
        to a later area `a > b`, `feedback` to an earlier one; within an area 1.
    - `e_fraction`: `None` (no E/I), or the excitatory fraction per area (a number or
        one per area), each in (0, 1).
    - `input_areas`, `readout_areas`: areas that receive the input / are read out
        (default: all).
    - `readout_inhibitory`: if `False`, only excitatory units are read out.
    - `key`: for the random connections.

    **Returns:** a `MultiArea`; `CTRNN(..., **ma.model_kwargs())` uses it.

    **Raises:** `InputError` for bad sizes, probabilities outside [0, 1], a matrix of the
    wrong shape, area indices out of range, or `e_fraction` outside (0, 1).
    """
    sizes = [int(s) for s in sizes]
    if not sizes or any(s < 1 for s in sizes):
        raise InputError(f"sizes: got {sizes}, expected a non-empty list of positive integers")
    k = len(sizes)
    n = sum(sizes)
    if (
        isinstance(connectivity, (tuple, list))
        and len(connectivity) == 2
        and np.ndim(connectivity[0]) == 0
    ):
        fwd, fb = (float(c) for c in connectivity)
        C = np.ones((k, k))
        C[np.tril_indices(k, -1)] = fwd
        C[np.triu_indices(k, 1)] = fb
    else:
        C = np.asarray(connectivity, dtype=np.float64)
        if C.shape != (k, k):
            raise InputError(
                f"connectivity: got shape {C.shape}, expected ({k}, {k}) or a (forward, feedback) pair"
            )
    if np.any(C < 0) or np.any(C > 1):
        raise InputError(f"connectivity: got probabilities {C.tolist()}, expected values in [0, 1]")
    areas = np.repeat(np.arange(k), sizes)
    for nm, sel in (("input_areas", input_areas), ("readout_areas", readout_areas)):
        if sel is not None and any(not (0 <= a < k) for a in sel):
            raise InputError(f"{nm}: got {list(sel)}, expected area indices in 0..{k - 1}")
    ins = set(range(k)) if input_areas is None else set(input_areas)
    outs = set(range(k)) if readout_areas is None else set(readout_areas)
    p = C[areas[:, None], areas[None, :]]
    mask_rec = (np.asarray(jax.random.uniform(key, (n, n))) < p).astype(np.float64)
    mask_in = np.repeat(np.isin(areas, list(ins))[:, None], n_in, axis=1).astype(np.float64)
    mask_out = np.repeat(np.isin(areas, list(outs))[None, :], n_out, axis=0).astype(np.float64)
    signs = None
    if e_fraction is not None:
        # np.ndim tells a scalar from a sequence, which the type checker cannot see.
        fr: list[float] = (
            [cast(float, e_fraction)] * k
            if np.ndim(e_fraction) == 0
            else list(cast(Sequence[float], e_fraction))
        )
        if len(fr) != k:
            raise InputError(f"e_fraction: got {len(fr)} values, expected one per area ({k})")
        signs = np.concatenate([ei_signs(s, f) for s, f in zip(sizes, fr)])
        if not readout_inhibitory:
            mask_out = mask_out * (signs > 0)[None, :]
    return MultiArea(
        areas=areas, signs=signs, mask_in=mask_in, mask_rec=mask_rec, mask_out=mask_out
    )
