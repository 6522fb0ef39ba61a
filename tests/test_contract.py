"""The model contract, checked for every registered family.

Every test marked `family` is parametrised over `adaptive_rnn.models.FAMILIES` and runs
on the family's `example()` model, so a family added with `register_family` gets all of
these checks without any edit here: the discrete model is the fixed-grid
`SequentialEuler` solve, a save/load round trip is exact, gradients match finite
differences, dtypes are kept, a batch equals the loop over its sequences, and bad inputs
raise `InputError`. `test_a_new_family_gets_the_contract_by_registering` does exactly that
with a small family defined here (the one of `docs/extending.md`).
"""

import ast
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from jaxtyping import Array

import adaptive_rnn as ar
from adaptive_rnn import CheckpointError, InputError
from adaptive_rnn._io import FORMAT, FORMAT_VERSION, MODEL_JSON, MODEL_LEAVES, seal, tree_to_bytes
from adaptive_rnn.cli import main
from adaptive_rnn.models import FAMILIES, MODEL_FAMILIES, AbstractRNN, get_family, register_family

FAMILY_NAMES = tuple(FAMILIES)
T = 12  # steps of the test sequences


def _example(name_or_cls, dtype=jnp.float64, seed=0) -> AbstractRNN:
    cls = FAMILIES[name_or_cls] if isinstance(name_or_cls, str) else name_or_cls
    return cls.example(key=jax.random.key(seed), dtype=dtype)


def _inputs(model, shape=(T,), seed=1) -> np.ndarray:
    return np.asarray(
        jax.random.uniform(jax.random.key(seed), (*shape, model.n_in), minval=-1.0, maxval=1.0)
    )


# --------------------------------------------------------------------------------------
# The checks (plain functions of a model, so that they also run on a family defined here)
# --------------------------------------------------------------------------------------


def _own_step(model) -> bool:
    """Whether the family's discrete model is its own `discrete_step`, not the
    `SequentialEuler` step of its field."""
    resolved = model.resolve()
    y0 = model.initial_state(resolved)
    d = model.drive(resolved, jnp.zeros(model.n_in, y0[0].dtype))
    return model.discrete_step(0.0, y0, (resolved, d), model.dt) is not None


def check_simulate_equals_solve(model) -> None:
    """`simulate` is the fixed-grid `SequentialEuler` solve (on the input grid, `StepTo`)
    or, for a family with its own `discrete_step`, that step applied T times."""
    xs = _inputs(model, (2, T))
    a = ar.simulate(model, xs, return_states=True)
    if _own_step(model):
        resolved = model.resolve()

        def run(x):
            y, outs, states = model.initial_state(resolved), [], []
            for k in range(T):  # the definition, step by step (not compiled as one program)
                d = model.drive(resolved, jnp.asarray(x[k]))
                y = model.discrete_step(model.dt * k, y, (resolved, d), model.dt)
                outs.append(model.output(resolved, y))
                states.append(y)
            return np.stack(outs), [np.stack(v) for v in zip(*states)]

        runs = [run(x) for x in xs]
        b_outputs = np.stack([r[0] for r in runs])
        b_states = {
            name: np.stack([r[1][j] for r in runs]) for j, name in enumerate(model.state_names)
        }
        b_ts = model.dt * np.arange(1, T + 1)
    else:
        b = ar.solve(
            model, xs, solver=ar.SequentialEuler(), return_states=True
        )  # StepTo on the input grid
        assert a.states.keys() == b.states.keys()
        b_outputs, b_states, b_ts = b.outputs, b.states, b.ts
    # Two programs computing the same float64 recurrence: equal up to a few roundings.
    scale = max(1.0, float(np.max(np.abs(a.outputs))))
    np.testing.assert_allclose(b_outputs, a.outputs, rtol=0, atol=1e-12 * scale)
    for k in b_states:
        s = max(1.0, float(np.max(np.abs(a.states[k]))))
        np.testing.assert_allclose(b_states[k], a.states[k], rtol=0, atol=1e-12 * s)
    np.testing.assert_allclose(b_ts, a.ts, rtol=1e-15)


def check_save_load_round_trip(model, folder: Path) -> None:
    ar.save_model(folder, model)
    loaded = ar.load_model(folder)
    assert type(loaded) is type(model) and loaded.config() == model.config()
    assert jax.tree_util.tree_structure(loaded) == jax.tree_util.tree_structure(model)
    for x, y in zip(jax.tree_util.tree_leaves(loaded), jax.tree_util.tree_leaves(model)):
        np.testing.assert_array_equal(x, y)  # the saved values, bit for bit
    xs = _inputs(model)
    # Same program, same device, same values: the same bits.
    np.testing.assert_array_equal(ar.simulate(loaded, xs).outputs, ar.simulate(model, xs).outputs)


def check_gradients(model) -> None:
    """The gradient of a loss with respect to every trainable parameter element against
    central differences, all elements at once (one vmapped call)."""
    params, static = eqx.partition(model, ar.trainable_filter(model))
    flat, unravel = ravel_pytree(params)
    assert flat.dtype == jnp.float64 and flat.size > 0
    xs = _inputs(model, (T,))
    target = np.asarray(jax.random.normal(jax.random.key(2), (T, model.n_out)))

    @jax.jit
    def loss(theta):
        out = ar.simulate(eqx.combine(unravel(theta), static), xs).outputs
        return jnp.sum((out - target) ** 2)

    g = np.asarray(jax.grad(loss)(flat))
    eps = 1e-6
    E = eps * jnp.eye(flat.size, dtype=flat.dtype)
    fd = np.asarray((jax.vmap(loss)(flat + E) - jax.vmap(loss)(flat - E)) / (2 * eps))
    # Central differences at eps = 1e-6 in float64: truncation ~eps^2 |f'''|, rounding
    # ~1e-16 |f| / eps ~ 1e-10 |f|; the loss is O(10).
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8 * max(1.0, float(np.max(np.abs(g)))))
    # Every parameter takes part (a gradient that ignored one would check nothing); single
    # entries may not (e.g. masked weights).
    for path, leaf in jax.tree_util.tree_leaves_with_path(unravel(jnp.asarray(g))):
        assert np.any(np.asarray(leaf) != 0), jax.tree_util.keystr(path)


def check_dtype(model, dtype) -> None:
    for leaf in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array)):
        assert leaf.dtype == dtype
    xs = _inputs(model, (2, T)).astype(np.float64)  # inputs are cast to the model's dtype
    a = ar.simulate(model, xs, return_states=True)
    b = ar.solve(model, xs, return_states=True)
    for traj in (a, b):
        assert traj.outputs.dtype == dtype and traj.ts.dtype == dtype
        assert all(v.dtype == dtype for v in traj.states.values())
    params, static = eqx.partition(model, ar.trainable_filter(model))
    grads = jax.grad(lambda p: jnp.sum(ar.simulate(eqx.combine(p, static), xs).outputs ** 2))(
        params
    )
    assert all(g.dtype == dtype for g in jax.tree_util.tree_leaves(grads))


def check_batch_equals_loop(model) -> None:
    xs = _inputs(model, (3, T))
    loop = np.stack([np.asarray(ar.simulate(model, x).outputs) for x in xs])
    batched = ar.simulate(model, xs).outputs
    vmapped = jax.vmap(lambda x: ar.simulate(model, x).outputs)(xs)
    solved = ar.solve(model, xs).outputs
    solved_loop = np.stack([np.asarray(ar.solve(model, x).outputs) for x in xs])
    # Different programs (batched, vmapped, looped) in float64: a few roundings apart.
    for got in (batched, vmapped):
        np.testing.assert_allclose(got, loop, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(solved, solved_loop, rtol=1e-12, atol=1e-12)


def check_bad_inputs(model) -> None:
    n_in = model.n_in
    for run in (ar.simulate, ar.solve):
        with pytest.raises(
            InputError, match=rf"inputs: got shape \(5, {n_in + 1}\), last axis {n_in + 1}"
        ):
            run(model, np.zeros((5, n_in + 1)))
        with pytest.raises(InputError, match=r"inputs: got shape \(5,\) \(rank 1\)"):
            run(model, np.zeros(5))
        with pytest.raises(
            InputError, match=r"inputs: got shape \(1, 2, 5, " + str(n_in) + r"\) \(rank 4\)"
        ):
            run(model, np.zeros((1, 2, 5, n_in)))
        bad = np.zeros((5, n_in))
        bad[2, 0] = np.nan
        with pytest.raises(
            InputError, match=r"inputs: got 1 non-finite values \(first at index \(2, 0\)\)"
        ):
            run(model, bad)


def check_hooks(model) -> None:
    """The optional hooks return what `AbstractRNN` documents."""
    n = model.n_hidden if isinstance(model.n_hidden, int) else model.n_hidden[-1]
    mats = model.weight_matrices()
    assert set(mats) <= {"in", "rec", "out"}
    shapes = {"rec": (n, n), "out": (model.n_out, n)}
    for role, W in mats.items():
        if role in shapes:
            assert W.shape == shapes[role], role
        else:
            assert W.shape[1] == model.n_in
        np.testing.assert_allclose(ar.weight_l2(model, role), jnp.sum(W**2), rtol=1e-14)
    signs = model.dale_signs()
    if signs is not None:
        assert signs.shape == (n,) and set(np.unique(np.asarray(signs))) <= {-1.0, 1.0}
    noise = model.active_noise()
    assert noise is None or isinstance(noise, ar.Noise)
    # projected(): same structure, idempotent.
    p = model.projected()
    assert jax.tree_util.tree_structure(p) == jax.tree_util.tree_structure(model)
    for x, y in zip(jax.tree_util.tree_leaves(p.projected()), jax.tree_util.tree_leaves(p)):
        np.testing.assert_array_equal(x, y)
    # with_dt keeps the time constants in time units.
    half = model.with_dt(model.dt / 2)
    assert half.dt == model.dt / 2
    for k, v in model.time_constants().items():
        if k.startswith("tau"):
            np.testing.assert_allclose(half.time_constants()[k], v, rtol=1e-14)
    # The recorded states: one per state name (the examples have one layer), plus the
    # derived ones.
    states = ar.simulate(model, _inputs(model), return_states=True).states
    raw = {k: states[k] for k in model.state_names}
    derived = model.derived_states(raw)
    assert set(states) == set(raw) | set(derived)
    for k, v in derived.items():
        np.testing.assert_array_equal(states[k], v)


# --------------------------------------------------------------------------------------
# Every registered family
# --------------------------------------------------------------------------------------

family = pytest.mark.parametrize("name", FAMILY_NAMES)


def test_the_registry_holds_the_built_in_families():
    assert {"aru", "ctrnn", "shunting"} <= set(FAMILIES) and MODEL_FAMILIES is FAMILIES
    assert ar.FAMILIES is FAMILIES and ar.family_names() == FAMILY_NAMES
    for name, cls in FAMILIES.items():
        assert cls.family == name and issubclass(cls, AbstractRNN) and get_family(name) is cls


@family
def test_simulate_equals_the_fixed_grid_solve(name):
    check_simulate_equals_solve(_example(name))


@family
def test_save_load_round_trip(name, tmp_path):
    check_save_load_round_trip(_example(name), tmp_path / name)


@family
def test_gradients_match_finite_differences(name):
    check_gradients(_example(name))


@family
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_dtype_is_kept(name, dtype):
    check_dtype(_example(name, dtype), dtype)


@family
def test_a_batch_equals_the_loop(name):
    check_batch_equals_loop(_example(name))


@family
def test_bad_inputs_raise_input_error(name):
    check_bad_inputs(_example(name))


@family
def test_optional_hooks(name):
    check_hooks(_example(name))


# --------------------------------------------------------------------------------------
# The contract itself
# --------------------------------------------------------------------------------------

REQUIRED = {
    "n_in",
    "n_hidden",
    "n_out",
    "resolve",
    "field",
    "initial_state",
    "drive",
    "output",
    "min_time_constant",
    "time_constants",
    "config",
    "from_config",
    "example",
}


def test_the_contract_is_declared_abstract():
    """What every model provides is abstract on `AbstractRNN` (a class that lacks any of
    it cannot be built), and the noise hooks on `AbstractNoisyRNN`."""
    assert set(AbstractRNN.__abstractmethods__) == REQUIRED
    assert set(ar.AbstractNoisyRNN.__abstractmethods__) == REQUIRED | {
        "noise_gain",
        "rate_to_drive",
        "output_noise",
    }

    class Incomplete(AbstractRNN):
        dt: float = 1.0
        readout: str = "current"

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()


def _calls_on_models(tree: ast.AST):
    """The lines of `getattr(x, ...)`/`hasattr(x, ...)` calls whose first argument is a
    name or attribute chain with a part naming a model (`model`, `self.model`,
    `model_or_W`, ...)."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and node.args
        ):
            arg, parts = node.args[0], []
            while isinstance(arg, (ast.Attribute, ast.Subscript)):
                if isinstance(arg, ast.Attribute):
                    parts.append(arg.attr)
                arg = arg.value
            if isinstance(arg, ast.Name):
                parts.append(arg.id)
            if any("model" in p for p in parts):
                yield node.lineno


def test_no_caller_probes_a_model_with_getattr():
    """Callers use the declared methods and hooks; none looks for an optional method or
    attribute on a model with `getattr`/`hasattr`. (The model families' own modules, in
    `adaptive_rnn/models/`, read their own fields and are not callers.)"""
    root = Path(ar.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "models":
            continue
        for line in _calls_on_models(ast.parse(path.read_text())):
            found.append(f"{path.relative_to(root.parent)}:{line}")
    assert not found, found


def test_register_family_refuses_bad_registrations():
    cls = FAMILIES["ctrnn"]
    with pytest.raises(InputError, match=r"name: got 'ctrnn', already registered for CTRNN"):
        register_family("ctrnn", cls)
    with pytest.raises(
        InputError, match=r"cls: got dict, expected a subclass of adaptive_rnn.AbstractRNN"
    ):
        register_family("mine", dict)
    with pytest.raises(InputError, match=r"cls: got str, expected a subclass"):
        register_family("mine", "CTRNN")
    with pytest.raises(InputError, match=r"cls: AbstractRNN is abstract \(it does not implement "):
        register_family("mine", AbstractRNN)
    with pytest.raises(InputError, match=r"cls: CTRNN.family is 'ctrnn', expected 'mine'"):
        register_family("mine", cls)
    with pytest.raises(InputError, match=r"name: got 'My RNN', expected a lower-case identifier"):
        register_family("My RNN", cls)
    assert "mine" not in FAMILIES
    with pytest.raises(
        InputError, match=r"model family: got 'ctrn', expected one of .*did you mean 'ctrnn'\?"
    ):
        get_family("ctrn")


def test_an_unregistered_family_in_a_file_is_refused(tmp_path):
    model = _example("ctrnn")
    folder = ar.save_model(tmp_path / "m", model)
    meta = json.loads((folder / MODEL_JSON).read_text())
    config = dict(meta["config"], family="lstm")
    leaves = (folder / MODEL_LEAVES).read_bytes()
    (folder / MODEL_JSON).write_text(
        json.dumps(
            seal(
                {"format": FORMAT, "format_version": FORMAT_VERSION, "config": config},
                {MODEL_LEAVES: leaves},
            )
        )
    )
    with pytest.raises(
        CheckpointError, match=r"model family: got 'lstm', expected one of the registered families"
    ):
        ar.load_model(folder)


# --------------------------------------------------------------------------------------
# Files written before the vocabulary was unified still load
# --------------------------------------------------------------------------------------


def test_a_ctrnn_saved_with_the_old_config_key_loads(tmp_path):
    """Before `"tau_sizes"` (a list, as the ARU's), the CTRNN wrote `"tau_size"` (an
    int). A static time constant per neuron needs it: without it the skeleton has one
    tau and the saved arrays do not fit."""
    model = ar.CTRNN(
        2, 4, 2, time_constants="static", tau=np.array([2.0, 3.0, 4.0, 5.0]), key=jax.random.key(0)
    )
    config = model.config()
    assert config["tau_sizes"] == [4] and "tau_size" not in config
    old = {k: v for k, v in config.items() if k != "tau_sizes"} | {"tau_size": 4}
    leaves = tree_to_bytes(model)
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / MODEL_LEAVES).write_bytes(leaves)
    meta = seal(
        {"format": FORMAT, "format_version": FORMAT_VERSION, "config": old}, {MODEL_LEAVES: leaves}
    )
    (folder / MODEL_JSON).write_text(json.dumps(meta))
    loaded = ar.load_model(folder)
    np.testing.assert_array_equal(loaded.tau, [2.0, 3.0, 4.0, 5.0])
    assert loaded.config() == config  # read with the old key, written with the new one
    xs = _inputs(model)
    np.testing.assert_array_equal(ar.simulate(loaded, xs).outputs, ar.simulate(model, xs).outputs)


def test_the_ctrnn_time_constant_keeps_its_old_name():
    model = _example("ctrnn")
    assert model.tau_ is model.time_constant
    np.testing.assert_array_equal(model.alpha, model.dt / model.tau)


# --------------------------------------------------------------------------------------
# A new family: defined, registered, and checked like the built-in ones
# --------------------------------------------------------------------------------------


class Leaky(AbstractRNN):
    r"""$\tau\,dh/dt = -h + W \tanh(h) + U x$, $y = V \tanh(h)$: the family of
    `docs/extending.md`."""

    U: Array
    W: Array
    V: Array
    log_tau: Array
    dt: float = eqx.field(static=True)
    readout: str = eqx.field(static=True)

    family: ClassVar[str] = "leaky"
    state_names: ClassVar[tuple[str, ...]] = ("h",)

    def __init__(
        self, n_in, n_hidden, n_out, *, tau=2.0, dt=1.0, readout="current", dtype=None, key
    ):
        dtype = jnp.result_type(float) if dtype is None else dtype
        ku, kw, kv = jax.random.split(key, 3)
        self.U = jax.random.normal(ku, (n_hidden, n_in), dtype) / math.sqrt(
            n_in
        )  # a Python float keeps the dtype
        self.W = jax.random.normal(kw, (n_hidden, n_hidden), dtype) / math.sqrt(n_hidden)
        self.V = jax.random.normal(kv, (n_out, n_hidden), dtype) / math.sqrt(n_hidden)
        self.log_tau = jnp.full((n_hidden,), np.log(tau), dtype)
        self.dt, self.readout = float(dt), readout

    @property
    def n_in(self):
        return self.U.shape[1]

    @property
    def n_hidden(self):
        return self.W.shape[0]

    @property
    def n_out(self):
        return self.V.shape[0]

    def resolve(self):
        return (self.W, self.U, self.V, jnp.exp(self.log_tau))

    def field(self, t, y, args):
        (W, _, _, tau), drive = args
        (h,) = y
        return ((-h + ar.recurrent_input(W, jnp.tanh(h), drive)) / tau,)

    def initial_state(self, resolved):
        return (jnp.zeros(self.n_hidden, resolved[0].dtype),)

    def drive(self, resolved, x):
        return x @ resolved[1].T

    def drive_weights(self, resolved):
        return resolved[1]

    def output(self, resolved, y):
        return resolved[2] @ jnp.tanh(y[0])

    def min_time_constant(self, resolved):
        return jnp.min(resolved[3])

    def time_constants(self):
        tau = jnp.exp(self.log_tau)
        return {"tau": tau, "alpha": self.dt / tau}

    def config(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "n_out": self.n_out,
            "dt": self.dt,
            "readout": self.readout,
            "dtype": str(self.U.dtype),
        }

    @classmethod
    def from_config(cls, config, *, key):
        return cls(
            config["n_in"],
            config["n_hidden"],
            config["n_out"],
            dt=config["dt"],
            readout=config["readout"],
            dtype=config["dtype"],
            key=key,
        )

    @classmethod
    def example(cls, *, key, dtype=None):
        return cls(2, 3, 2, key=key, dtype=dtype)


def test_a_new_family_gets_the_contract_by_registering(tmp_path):
    assert "leaky" not in FAMILIES
    register_family("leaky", Leaky)
    try:
        model = _example("leaky")
        check_simulate_equals_solve(model)
        check_save_load_round_trip(model, tmp_path / "leaky")  # load_model finds it by name
        check_gradients(model)
        check_dtype(_example("leaky", jnp.float32), jnp.float32)
        check_batch_equals_loop(model)
        check_bad_inputs(model)
        check_hooks(model)  # the defaults: no weight matrices, no signs, no noise
        assert (
            model.weight_matrices() == {}
            and model.dale_signs() is None
            and model.active_noise() is None
        )
        with pytest.raises(
            InputError, match=r"weight: got 'rec', but a Leaky has no such weight matrix"
        ):
            ar.weight_l1(model, "rec")
    finally:
        FAMILIES.pop("leaky")


# --------------------------------------------------------------------------------------
# The command line reads the registries
# --------------------------------------------------------------------------------------


def test_the_command_line_offers_the_registered_families_and_modes(capsys):
    from adaptive_rnn.cli import build_parser

    sim = build_parser()._subparsers._group_actions[0].choices["simulate"]
    actions = {a.dest: a for a in sim._actions}
    assert tuple(actions["random"].choices) == FAMILY_NAMES
    assert tuple(actions["time_constants"].choices) == ar.MODES


def test_ctrnn_alpha_on_the_command_line(tmp_path, capsys):
    def run(*extra):
        out = tmp_path / "y.npz"
        rc = main(
            [
                "simulate",
                "--random",
                "ctrnn",
                "--random-inputs",
                "1,8",
                "--hidden",
                "3",
                "--out",
                str(out),
                "--save-model",
                str(tmp_path / "m"),
                *extra,
            ]
        )
        return rc, capsys.readouterr().err

    rc, err = run("--alpha", "0.25")
    assert rc == 0 and "deprecated" not in err
    np.testing.assert_allclose(ar.load_model(tmp_path / "m").alpha, 0.25, rtol=1e-12)
    rc, err = run("--alpha-s", "0.3")  # its earlier spelling still works, with a note
    assert rc == 0 and "--alpha-s for a ctrnn is deprecated; use --alpha" in err
    np.testing.assert_allclose(ar.load_model(tmp_path / "m").alpha, 0.3, rtol=1e-12)
    assert run("--alpha", "0.3", "--alpha-s", "0.3")[0] == 2
    rc, err = run("--alpha-r", "0.3")
    assert rc == 2 and "--alpha-r: given for --random ctrnn, which does not take it" in err
    rc, err = run("--alpha", "1.5")
    assert (
        rc == 2
        and "--alpha (with --time-constants global): got 1.5, expected a finite number in (0, 1)"
        in err
    )


def test_an_option_a_family_does_not_take_is_refused(tmp_path, capsys):
    rc = main(
        [
            "simulate",
            "--random",
            "aru",
            "--alpha",
            "0.3",
            "--random-inputs",
            "1,8",
            "--out",
            str(tmp_path / "y.npz"),
        ]
    )
    assert (
        rc == 2
        and "--alpha: given for --random aru, which does not take it; expected it only with --random ctrnn"
        in capsys.readouterr().err
    )
    rc = main(
        [
            "simulate",
            "--random",
            "shunting",
            "--time-constants",
            "local",
            "--random-inputs",
            "1,8",
            "--out",
            str(tmp_path / "y.npz"),
        ]
    )
    assert rc == 2 and "--time-constants: given for --random shunting" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["aru", "shunting"])
def test_simulate_checks_the_trajectory_memory_from_the_model(tmp_path, capsys, monkeypatch, name):
    """The values recorded per step come from the model (outputs, states and derived
    states: the shunting model's tau_eff too), not from a table of families."""
    from adaptive_rnn import _checks

    monkeypatch.setattr(_checks, "available_memory", lambda: 1_000_000)
    rc = main(
        [
            "simulate",
            "--random",
            name,
            "--hidden",
            "10",
            "--random-inputs",
            "100,1000",
            "--out",
            str(tmp_path / "y.npz"),
        ]
    )
    per_step = 2 + 2 * 10  # n_out, and (I, r) or (V, tau_eff)
    estimate = _checks.format_bytes(
        2 * 100 * 1000 * per_step * np.dtype(jnp.result_type(float)).itemsize
    )
    assert rc == 2
    assert (
        f"--random-inputs: got '100,1000'; the trajectory of the {FAMILIES[name].__name__} (100 x 1000 steps, "
        f"{per_step} values per step) and its copy in the .npz would need about {estimate}"
    ) in capsys.readouterr().err
