"""Sweeps declared in a TOML file (`adaptive-rnn sweep CONFIG.toml`): ARU models over a
grid of time constants, hidden sizes, activations and seeds; simulate or train at each
point. The format is documented in docs/training.md (example: examples/sweep_fig2.toml).

One room (over 400 lines): one job, a TOML sweep from file to result. The schema, its
checks with their suggestions, the per-point problems and the two run modes share the
checked configuration dictionary; split, each part would re-read it.
"""

import tomllib
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_choice, check_int, check_keys, check_number, check_type
from .._errors import InputError
from .._params import FIXED_MODE, MODES as TC_MODES, PARAMETRISATIONS, alpha_limit
from ..models import READOUTS
from ..train import fit_scan, paper_optimiser, sweep

SOLVERS = ("discrete", "tsit5", "dopri5", "kvaerno5", "heun")
MODES = ("train", "simulate")
MIN_STEPS = 7  # the smoothing window of the random inputs


# --------------------------------------------------------------------------------------
# The schema: every section and key a CONFIG.toml may hold, each with its check
# --------------------------------------------------------------------------------------


def _int(low=None, high=None):
    return lambda name, v: check_int(name, v, low, high)


def _number(low=None, high=None, **kw):
    return lambda name, v: check_number(name, v, low, high, **kw)


def _choice(choices):
    return lambda name, v: check_choice(name, v, choices)


def _string(name, v):
    return check_type(name, v, str, "a string")


def _activation(name, v):
    from .._activations import canonical_activation

    try:
        return canonical_activation(v)
    except InputError as e:
        raise InputError(f"{name}: {str(e).removeprefix('activation: ')}") from None


def _list_of(check):
    def run(name, v):
        if not isinstance(v, list) or not v:
            raise InputError(f"{name}: got {v!r}, expected a non-empty list")
        return [check(f"{name}[{i}]", x) for i, x in enumerate(v)]

    return run


_positive = _number(0, low_open=True)
_SEED = _int(0, 2**32 - 1)

SCHEMA: dict[str, dict] = {
    "sweep": {
        "mode": _choice(MODES),
        "seed": _SEED,
        "chunk_size": _int(1),
    },
    "grid": {
        "alpha_s": _list_of(_positive),
        "alpha_r": _list_of(_positive),
        "tau_s": _list_of(_positive),
        "tau_r": _list_of(_positive),
        "n_hidden": _list_of(_int(1)),
        "activation": _list_of(_activation),
        "time_constants": _list_of(_choice(TC_MODES)),
        "seed": _list_of(_SEED),
    },
    "model": {
        "n_hidden": _int(1),
        "activation": _activation,
        "time_constants": _choice(TC_MODES),
        "parametrisation": _choice(PARAMETRISATIONS),
        "readout": _choice(READOUTS),
        "dt": _positive,
        "alpha_s": _positive,
        "alpha_r": _positive,
    },
    "data": {
        "path": _string,
        "val_fraction": _number(0, 1, high_open=True),
        "n_steps": _int(1),
        "teacher_alpha_s": _number(0, 2, low_open=True, high_open=True),
        "teacher_alpha_r": _number(0, 2, low_open=True, high_open=True),
        "teacher_seed": _SEED,
        "teacher_local_sd": _positive,
        "teacher_activation": _activation,
        "n_sequences": _int(2),
        "n_train": _int(1),
    },
    "train": {
        "epochs": _int(1),
        "learning_rate": _positive,
        "tau_learning_rate": _positive,
        "batch_size": _int(1),
    },
    "simulate": {
        "n_sequences": _int(1),
        "n_steps": _int(MIN_STEPS),
        "input_seed": _SEED,
        "solver": _choice(SOLVERS),
        "max_steps": _int(1),
    },
}
# Keys of [data] that only the file (`path`) or only the teacher uses.
_FILE_KEYS = ("path", "val_fraction", "n_steps")
# The grid keys the model section may also set (grid values override).
MODEL_KEYS = tuple(SCHEMA["model"])
GRID_KEYS = tuple(SCHEMA["grid"])


def set_alpha(tc, alpha, dt: float):
    """The time constant `tc` with the (traceable) rate constant `alpha = dt / tau`, in
    its own parametrisation: `tc.with_alpha(alpha, dt)` (`AbstractTimeConstant`), under
    the name earlier code imports."""
    return tc.with_alpha(alpha, dt)


def load_config(path) -> dict:
    """Reads and checks a sweep CONFIG.toml against `SCHEMA`.

    Every section and key is checked: an unknown one is an error that suggests the
    nearest valid name, a value of the wrong type or range is an error naming the
    section, the key, the value and what was expected. A section the chosen mode does not
    use (`[simulate]` in a training sweep, `[train]`/`[data]` in a simulation sweep) is an
    error too, as are keys that contradict each other.

    **Arguments:**

    - `path`: the TOML file (a `str` or `pathlib.Path`).

    **Returns:** the config as a dict of sections (values checked; activations in their
    canonical names).

    **Raises:** `InputError` naming the section and key that is wrong, or for a file
    that does not exist or is not valid TOML.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: file not found")
    try:
        cfg = tomllib.loads(p.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid TOML ({e})") from e
    return check_config(cfg, where=str(path))


def check_config(cfg: dict, *, where: str = "config") -> dict:
    """Checks a sweep config dict (as read from TOML) against `SCHEMA`; see `load_config`.

    **Arguments:**

    - `cfg`: the config, `{section: {key: value}}` (`[sweep]`, `[grid]`, `[model]`,
        `[data]`, `[train]`, `[simulate]`).
    - `where`: what to call `cfg` in error messages (`load_config` passes the file's
        path).

    **Returns:** a checked copy (activations in their canonical names; an empty
    `sweep` section added if there was none).

    **Raises:** `InputError` naming the section and key that is wrong.
    """
    check_type(where, cfg, dict, "a dict of sections")
    check_keys(f"{where}: section", cfg, SCHEMA)
    out = {}
    for section, table in cfg.items():
        if not isinstance(table, dict):
            raise InputError(
                f"[{section}]: got {type(table).__name__} {table!r}, expected a section of keys"
            )
        check_keys(f"[{section}]", table, SCHEMA[section])
        out[section] = {k: SCHEMA[section][k](f"[{section}] {k}", v) for k, v in table.items()}
    if not out.get("grid"):
        raise InputError(f"{where}: [grid] missing or empty; expected e.g. alpha_s = [0.1, 0.5]")
    for name in ("s", "r"):
        if f"alpha_{name}" in out["grid"] and f"tau_{name}" in out["grid"]:
            raise InputError(
                f"[grid] tau_{name}: given together with alpha_{name}; expected one of them "
                f"(alpha = dt/tau)"
            )
    mode = out.setdefault("sweep", {}).get("mode", "train")
    unused = ("simulate",) if mode == "train" else ("train", "data")
    for section in unused:
        if section in out:
            raise InputError(
                f"[{section}]: given, but [sweep] mode is {mode!r}, which does not use it; "
                f"expected mode = {'simulate' if section == 'simulate' else 'train'!r} or no "
                f"[{section}] section"
            )
    data = out.get("data", {})
    if "teacher_local_sd" in data:
        for k in ("teacher_alpha_s", "teacher_alpha_r"):
            if k in data:  # per-neuron draws are kept inside (0, 1)
                check_number(
                    f"[data] {k} (with teacher_local_sd)",
                    data[k],
                    0,
                    1,
                    low_open=True,
                    high_open=True,
                )
    wrong = [k for k in data if (k in _FILE_KEYS) != ("path" in data)]
    if wrong:
        used = "a data file (path)" if "path" in data else "the teacher (no path)"
        raise InputError(
            f"[data] {wrong[0]}: not used with {used}; expected "
            + (
                f"only {', '.join(_FILE_KEYS)}"
                if "path" in data
                else f'teacher keys, or path = "data.npz" with {", ".join(_FILE_KEYS[1:])}'
            )
        )
    return out


# --------------------------------------------------------------------------------------
# Why a point fails
# --------------------------------------------------------------------------------------


def point_problem(point: dict, model_cfg: dict) -> str:
    """Why the time constants of a grid point cannot be built, or `""`.

    A learnable time constant (`"global"`, `"local"`) keeps `alpha = dt/tau < 1` in both
    parametrisations (sigmoid: alpha in (0, 1); softplus: tau > tau_min = dt); a fixed
    one (`"static"`) needs `alpha < 2`, where explicit Euler is stable.

    **Arguments:**

    - `point`: the grid values of one point, `{key: value}` with keys of `[grid]`
        (`alpha_s` or `tau_s`, `alpha_r` or `tau_r`, `time_constants`, ...; `tau_*` in
        the time unit of `dt`, `alpha = dt / tau`).
    - `model_cfg`: the checked `[model]` section; gives `dt` (default 1),
        `time_constants` (default `"global"`), `parametrisation` (default `"sigmoid"`)
        and the `alpha_s`/`alpha_r` of keys the point does not set.

    **Returns:** `""` when both time constants can be built, else one sentence naming
    the offending value and the bound it breaks.
    """
    dt = float(model_cfg.get("dt", 1.0))
    mode = point.get("time_constants", model_cfg.get("time_constants", "global"))
    # The bound of `adaptive_rnn._params` (the sweep's models have tau_min = dt).
    limit = alpha_limit(mode, model_cfg.get("parametrisation", "sigmoid"), dt=dt, tau_min=dt)
    for name in ("s", "r"):
        if f"tau_{name}" in point:
            a, given = (
                dt / point[f"tau_{name}"],
                f"tau_{name} = {point[f'tau_{name}']:g} (alpha_{name} = {dt / point[f'tau_{name}']:.4g})",
            )
        else:
            a = point.get(f"alpha_{name}", model_cfg.get(f"alpha_{name}"))
            if a is None:
                continue
            given = f"alpha_{name} = {a:g}"
        if a >= limit and mode == FIXED_MODE:
            return f"{given} >= {limit:g}: explicit Euler diverges (expected alpha < {limit:g})"
        if a >= limit:
            return (
                f"{given} >= {limit:g} cannot be a learnable ({mode!r}) time constant (expected "
                f'alpha < {limit:g}, or time_constants = "static")'
            )
    return ""


def run_config(
    cfg: dict,
    *,
    progress: bool | None = None,
    shard: tuple[int, int] | None = None,
    directory=None,
    resume: bool = False,
):
    """Runs a sweep described by a config dict (see `load_config`; checked again here).

    **Arguments:**

    - `cfg`: the config (sections as `load_config` returns them).
    - `progress`: progress bar over chunks (default: when stderr is a terminal).
    - `shard`, `directory`, `resume`: as for `sweep`: run shard `(i, n)` only, write
        chunks and the part into `directory`, resume from the chunks there. The
        configuration hash of the files covers the canonical config (and the SHA-256 of
        a `[data] path` file's content), so `resume` and `merge_config_sweep` refuse
        files written from another config.

    **Returns:** the `xarray.Dataset` of `sweep` (a grid, or the shard's points along
    `point` with `shard`). Train mode: `best_val_loss`,
    `best_epoch`, `val_loss` (per epoch), `learned_alpha_s`/`learned_alpha_r` (mean over neurons)
    at the best epoch. Simulate mode: `outputs` (sequences, T, n_out). Both: `success`
    and `failure_reason` (`""` where the point succeeded, else why it failed: time
    constants that cannot be built, non-finite outputs, a solve that did not finish).

    **Raises:** `InputError` for a config that breaks `SCHEMA`, bad data, or a bad
    shard or folder (see `sweep`).
    """
    from .._solve import simulate, solve
    from ..models import ARU

    cfg = check_config(cfg)
    sw, grid, mcfg = cfg.get("sweep", {}), cfg["grid"], dict(cfg.get("model", {}))
    _check_shard(shard, int(np.prod([len(v) for v in grid.values()])))
    mode = sw.get("mode", "train")
    dt = float(mcfg.get("dt", 1.0))
    n_in, n_out = 2, 2
    data = None
    if mode == "train":
        dcfg = cfg.get("data", {})
        if "path" in dcfg:
            from .._io import load_npz
            from ..train import make_train_data

            raw = load_npz(dcfg["path"], ("inputs", "targets"), "[data] path")
            data = make_train_data(
                raw["inputs"],
                raw["targets"],
                raw.get("mask"),
                val_fraction=dcfg.get("val_fraction", 0.2),
                n_steps=dcfg.get("n_steps"),
            )
        else:
            from ..tasks import teacher_data

            td = teacher_data(
                jax.random.key(int(dcfg.get("teacher_seed", 0))),
                alpha_s=float(dcfg.get("teacher_alpha_s", 0.342)),
                alpha_r=float(dcfg.get("teacher_alpha_r", 0.684)),
                local_sd=dcfg.get("teacher_local_sd"),
                n_sequences=int(dcfg.get("n_sequences", 500)),
                n_train=int(dcfg.get("n_train", 400)),
                activation=dcfg.get("teacher_activation", "sigmoid"),
                readout=mcfg.get("readout", "lagged"),
            )
            mcfg.setdefault("readout", "lagged")
            data = td.train_data()
        n_in, n_out = int(data.x.shape[-1]), int(data.y.shape[-1])
        tcfg = cfg.get("train", {})
        epochs = int(tcfg.get("epochs", 100))
        opt = paper_optimiser(
            float(tcfg.get("learning_rate", 1e-3)), tau_learning_rate=tcfg.get("tau_learning_rate")
        )
        batch_size = int(tcfg.get("batch_size", 1))
    else:
        scfg = cfg.get("simulate", {})
        n_seq, n_steps = int(scfg.get("n_sequences", 8)), int(scfg.get("n_steps", 40))
        solver_name = scfg.get("solver", "discrete")
        from ..tasks import smoothed_uniform_inputs

        smoothed = smoothed_uniform_inputs(
            jax.random.key(int(scfg.get("input_seed", 0))), n_seq, n_steps, n_in
        )

    def build(point, key):
        kw = {
            k: mcfg[k]
            for k in ("activation", "time_constants", "parametrisation", "readout")
            if k in mcfg
        }
        for k in ("activation", "time_constants"):
            if k in point:
                kw[k] = point[k]
        n_hidden = int(point.get("n_hidden", mcfg.get("n_hidden", 10)))
        # The constructor checks its time constants with NumPy: keep them concrete under
        # jit/vmap (the weights still come from the traced key).
        with jax.ensure_compile_time_eval():
            model = ARU(n_in, n_hidden, n_out, alpha_s=0.5, alpha_r=0.5, dt=dt, key=key, **kw)
        # The point's (traced) alphas, each converted once into its parametrisation.
        for name, where in (("s", lambda m: m.layers[0].tau_s), ("r", lambda m: m.layers[0].tau_r)):
            a = point.get(f"alpha_{name}", mcfg.get(f"alpha_{name}"))
            if f"tau_{name}" in point:
                a = dt / point[f"tau_{name}"]
            if a is not None:
                model = eqx.tree_at(
                    where, model, where(model).with_alpha(a, dt, name=f"tau_{name}")
                )
        return model

    if mode == "train":
        assert data is not None  # built above for mode "train"

        def run_point(point, key):
            k_model, k_fit = jax.random.split(key)
            best, summ = fit_scan(
                build(point, k_model),
                data,
                k_fit,
                epochs=epochs,
                optimiser=opt,
                batch_size=batch_size,
            )
            tcs = best.time_constants()
            return dict(
                best_val_loss=summ["best_val_loss"],
                best_epoch=summ["best_epoch"],
                val_loss=summ["val_loss"],
                learned_alpha_s=jnp.mean(tcs["alpha_s"]),
                learned_alpha_r=jnp.mean(tcs["alpha_r"]),
            )
    else:

        def run_point(point, key):
            model = build(point, key)
            if solver_name == "discrete":
                tr = simulate(model, smoothed)
            else:
                import diffrax

                solver = {
                    "tsit5": diffrax.Tsit5,
                    "dopri5": diffrax.Dopri5,
                    "kvaerno5": diffrax.Kvaerno5,
                    "heun": diffrax.Heun,
                }[solver_name]()
                tr = solve(
                    model,
                    smoothed,
                    solver=solver,
                    throw=False,
                    stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-6),
                    max_steps=int(scfg.get("max_steps", 4096)),
                )
            finished = jnp.all(tr.success)
            return dict(outputs=tr.outputs, success=finished, solve_finished=finished)

    attrs = {"sweep_mode": mode, "sweep_config": repr(cfg)}
    ds = sweep(
        grid,
        run_point,
        key=jax.random.key(int(sw.get("seed", 0))),
        chunk_size=sw.get("chunk_size"),
        progress=progress,
        attrs=attrs,
        shard=shard,
        directory=directory,
        resume=resume,
        fingerprint=config_fingerprint(cfg),
    )
    return _with_failure_reasons(ds, grid, mcfg, _solver_note(cfg))


def _check_shard(shard, n_points: int) -> None:
    """The check of `shard` that `sweep` makes, in the same words, made here before the
    data are built."""
    if shard is None:
        return
    ok = (
        isinstance(shard, (tuple, list))
        and len(shard) == 2
        and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in shard)
        and shard[1] >= 1
        and 0 <= shard[0] < shard[1]
    )
    if not ok:
        raise InputError(
            f"shard: got {shard!r}, expected a pair (i, n) of integers with n >= 1 and "
            f"0 <= i < n (shard i of n)"
        )
    if shard[1] > n_points:
        raise InputError(
            f"shard: got ({shard[0]}, {shard[1]}), but the grid has {n_points} points; "
            f"expected at most {n_points} shards"
        )


def config_fingerprint(cfg: dict) -> dict:
    """What a sweep's files record of the config that made them: the checked config
    itself, with the SHA-256 of the content of a `[data] path` file (so that a changed
    data file under the same name is another configuration)."""
    from .._io import sha256

    out: dict = {"sweep_config": cfg}
    path = cfg.get("data", {}).get("path")
    if path is not None:
        out["data_sha256"] = sha256(Path(path).read_bytes())
    return out


def _solver_note(cfg: dict) -> str | None:
    scfg = cfg.get("simulate", {})
    solver_name = scfg.get("solver", "discrete")
    if cfg.get("sweep", {}).get("mode", "train") == "train" or solver_name == "discrete":
        return None
    return (
        f"the {solver_name} solve did not reach its end within max_steps = "
        f"{int(scfg.get('max_steps', 4096))}"
    )


def merge_config_sweep(directory):
    """Merges the parts of a sharded config sweep (`adaptive-rnn sweep CONFIG --shard
    i/n`, or `run_config(cfg, shard=..., directory=...)`) into the result `run_config`
    returns for the whole grid (`failure_reason` included), by `merge_sweep`.

    **Arguments:**

    - `directory`: the folder of the parts.

    **Returns:** the labelled `xarray.Dataset`.

    **Raises:** `CheckpointError` listing missing, duplicated, foreign or corrupt parts
    (see `merge_sweep`).
    """
    import json

    from ..train import merge_sweep

    ds = merge_sweep(directory)
    fp = json.loads(ds.attrs.get("fingerprint", "null"))
    if isinstance(fp, dict) and isinstance(fp.get("sweep_config"), dict):
        cfg = fp["sweep_config"]
        grid = {k: list(ds[k].values.tolist()) for k in ds["success"].dims}
        ds = _with_failure_reasons(ds, grid, dict(cfg.get("model", {})), _solver_note(cfg))
    return ds


def _with_failure_reasons(ds, grid: dict, mcfg: dict, solver_note: str | None):
    """`ds` with a `failure_reason` per point, and `success` false where the point's
    time constants cannot be built (`point_problem`). `ds` is a grid, or the points of a
    shard along `point` (with their `point_index`)."""
    names = list(grid)
    shape = tuple(len(grid[k]) for k in names)
    dims = list(ds["success"].dims)
    success = np.asarray(ds["success"]).copy().reshape(-1)
    if "point" in ds.dims:
        idxs = list(zip(*np.unravel_index(np.asarray(ds["point_index"]), shape)))
    else:
        idxs = list(np.ndindex(*shape))
    reasons = np.full(len(idxs), "", dtype=object)
    finished = (
        np.asarray(ds["solve_finished"]).astype(bool).reshape(-1)
        if "solve_finished" in ds
        else np.ones(len(idxs), bool)
    )
    outputs = [k for k in ds.data_vars if k != "success" and np.issubdtype(ds[k].dtype, np.inexact)]
    flat = {k: np.asarray(ds[k].values).reshape(len(idxs), -1) for k in outputs}
    for j, idx in enumerate(idxs):
        point = {k: grid[k][int(i)] for k, i in zip(names, idx)}
        problem = point_problem(point, mcfg)
        if problem:
            success[j] = False
            reasons[j] = problem
        elif not finished[j]:
            reasons[j] = solver_note
        elif not success[j]:
            bad = [k for k in outputs if not np.all(np.isfinite(flat[k][j]))]
            reasons[j] = (
                f"non-finite {', '.join(bad)}" if bad else "run_point reported success = False"
            )
    ds = ds.drop_vars("solve_finished", errors="ignore")
    shape_out = np.asarray(ds["success"]).shape
    ds["success"] = (dims, success.reshape(shape_out))
    ds["failure_reason"] = (dims, reasons.astype(str).reshape(shape_out))
    return ds


def failure_summary(ds, limit: int = 3) -> str:
    """`""` when every point succeeded, else one line: how many points failed and the
    first `limit` distinct reasons with a point each.

    **Arguments:**

    - `ds`: a sweep result of `run_config` or `merge_config_sweep`: its `success` per
        point and, where present, its `failure_reason` are read.
    - `limit`: the most distinct reasons to name (default 3); the rest are counted.

    **Returns:** the line (a `str`).
    """
    ok = np.asarray(ds["success"]).astype(bool)
    if ok.all():
        return ""
    names = list(ds["success"].dims)
    reasons = np.asarray(ds["failure_reason"]) if "failure_reason" in ds else np.full(ok.shape, "")
    seen: dict[str, str] = {}
    for idx in zip(*np.nonzero(~ok)):
        r = str(reasons[idx]) or "failed"
        if r not in seen:
            seen[r] = ", ".join(f"{k}={ds[k].values[i]}" for k, i in zip(names, idx))
    first = "; ".join(f"{r} (at {at})" for r, at in list(seen.items())[:limit])
    more = f"; and {len(seen) - limit} other reasons" if len(seen) > limit else ""
    return f"{int((~ok).sum())} of {ok.size} points failed: {first}{more}"
