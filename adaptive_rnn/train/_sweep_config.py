"""Sweeps declared in a TOML file (`adaptive-rnn sweep CONFIG.toml`): ARU models over a
grid of time constants, hidden sizes, activations and seeds; simulate or train at each
point. The format is documented in docs/training.md (example: examples/sweep_fig2.toml)."""

import math
import tomllib
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InputError
from .._params import SIGMOID_SLOPE, FixedTau, SigmoidRate, SoftplusTau
from ._core import fit_scan, paper_optimiser
from ._sweep import sweep

MODEL_KEYS = ("n_hidden", "activation", "time_constants", "parametrisation", "readout", "dt", "alpha_s", "alpha_r")
GRID_KEYS = ("alpha_s", "alpha_r", "tau_s", "tau_r", "n_hidden", "activation", "time_constants", "seed")


def set_alpha(tc, alpha, dt: float):
    """The time constant `tc` with (traceable) rate constant `alpha = dt / tau`, in its
    own parametrisation."""
    alpha = jnp.asarray(alpha)
    if isinstance(tc, FixedTau):
        leaf, new = tc.value, dt / alpha
    elif isinstance(tc, SigmoidRate):
        a = alpha * tc.dt_ref / dt
        leaf, new = tc.w, jnp.log(a / (1 - a)) / SIGMOID_SLOPE
    elif isinstance(tc, SoftplusTau):
        x = dt / alpha - tc.tau_min
        leaf, new = tc.theta, x + jnp.log(-jnp.expm1(-x))
    else:  # pragma: no cover
        raise InputError(f"time constant {type(tc).__name__}: cannot set alpha")
    new = jnp.broadcast_to(new, leaf.shape).astype(leaf.dtype)
    return eqx.tree_at(lambda t: jax.tree_util.tree_leaves(t)[0], tc, new)


def load_config(path) -> dict:
    """Reads and checks a sweep CONFIG.toml.

    **Raises:** `InputError` naming the section and key that is wrong.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: file not found")
    try:
        cfg = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{path}: not valid TOML ({e})") from e
    cfg.setdefault("sweep", {})
    mode = cfg["sweep"].get("mode", "train")
    if mode not in ("train", "simulate"):
        raise InputError(f"[sweep] mode: got {mode!r}, expected 'train' or 'simulate'")
    grid = cfg.get("grid")
    if not isinstance(grid, dict) or not grid:
        raise InputError(f"{path}: [grid] missing or empty; expected e.g. alpha_s = [0.1, 0.5]")
    for k, v in grid.items():
        if k not in GRID_KEYS:
            raise InputError(f"[grid] {k}: unknown parameter; expected one of {GRID_KEYS}")
        if not isinstance(v, list) or not v:
            raise InputError(f"[grid] {k}: got {v!r}, expected a non-empty list")
    for k in cfg.get("model", {}):
        if k not in MODEL_KEYS:
            raise InputError(f"[model] {k}: unknown option; expected one of {MODEL_KEYS}")
    return cfg


def run_config(cfg: dict, *, progress: bool | None = None):
    """Runs a sweep described by a config dict (see `load_config`).

    **Returns:** the `xarray.Dataset` of `sweep`. Train mode: `best_val_loss`,
    `best_epoch`, `val_loss` (per epoch), `learned_alpha_s`/`learned_alpha_r` (mean over neurons)
    at the best epoch. Simulate mode: `outputs` (sequences, T, n_out) and `success`.
    """
    from ..models import ARU
    from .._solve import simulate, solve

    sw, grid, mcfg = cfg.get("sweep", {}), cfg["grid"], dict(cfg.get("model", {}))
    mode = sw.get("mode", "train")
    dt = float(mcfg.get("dt", 1.0))
    n_in, n_out = 2, 2
    data = None
    if mode == "train":
        dcfg = cfg.get("data", {})
        if "path" in dcfg:
            from .._commands._common import load_npz
            from ._data import make_train_data

            raw = load_npz(dcfg["path"], ("inputs", "targets"))
            data = make_train_data(raw["inputs"], raw["targets"], raw.get("mask"),
                                   val_fraction=dcfg.get("val_fraction", 0.2), n_steps=dcfg.get("n_steps"))
        else:
            from ..tasks import teacher_data

            td = teacher_data(
                jax.random.key(int(dcfg.get("teacher_seed", 0))),
                alpha_s=float(dcfg.get("teacher_alpha_s", 0.342)), alpha_r=float(dcfg.get("teacher_alpha_r", 0.684)),
                local_sd=dcfg.get("teacher_local_sd"), n_sequences=int(dcfg.get("n_sequences", 500)),
                n_train=int(dcfg.get("n_train", 400)), activation=dcfg.get("teacher_activation", "sigmoid"),
                readout=mcfg.get("readout", "lagged"),
            )
            mcfg.setdefault("readout", "lagged")
            data = td.train_data()
        n_in, n_out = int(data.x.shape[-1]), int(data.y.shape[-1])
        tcfg = cfg.get("train", {})
        epochs = int(tcfg.get("epochs", 100))
        opt = paper_optimiser(float(tcfg.get("learning_rate", 1e-3)),
                              tau_learning_rate=tcfg.get("tau_learning_rate"))
        batch_size = int(tcfg.get("batch_size", 1))
    else:
        scfg = cfg.get("simulate", {})
        n_seq, n_steps = int(scfg.get("n_sequences", 8)), int(scfg.get("n_steps", 40))
        solver_name = scfg.get("solver", "discrete")
        from ..tasks import smoothed_uniform_inputs

        smoothed = smoothed_uniform_inputs(jax.random.key(int(scfg.get("input_seed", 0))), n_seq, n_steps, n_in)

    def build(point, key):
        kw = {k: mcfg[k] for k in ("activation", "time_constants", "parametrisation", "readout") if k in mcfg}
        for k in ("activation", "time_constants"):
            if k in point:
                kw[k] = point[k]
        n_hidden = int(point.get("n_hidden", mcfg.get("n_hidden", 10)))
        # The constructor checks its time constants with NumPy: keep them concrete under
        # jit/vmap (the weights still come from the traced key).
        with jax.ensure_compile_time_eval():
            model = ARU(n_in, n_hidden, n_out, alpha_s=0.5, alpha_r=0.5, dt=dt, key=key, **kw)
        for name in ("s", "r"):
            a = point.get(f"alpha_{name}", mcfg.get(f"alpha_{name}"))
            if f"tau_{name}" in point:
                a = dt / point[f"tau_{name}"]
            if a is not None:
                model = eqx.tree_at(lambda m: getattr(m.layers[0], f"tau_{name}"), model,
                                    set_alpha(getattr(model.layers[0], f"tau_{name}"), a, dt))
        return model

    if mode == "train":
        def run_point(point, key):
            k_model, k_fit = jax.random.split(key)
            best, summ = fit_scan(build(point, k_model), data, k_fit, epochs=epochs, optimiser=opt,
                                  batch_size=batch_size)
            tcs = best.time_constants()
            return dict(best_val_loss=summ["best_val_loss"], best_epoch=summ["best_epoch"],
                        val_loss=summ["val_loss"], learned_alpha_s=jnp.mean(tcs["alpha_s"]),
                        learned_alpha_r=jnp.mean(tcs["alpha_r"]))
    else:
        def run_point(point, key):
            model = build(point, key)
            if solver_name == "discrete":
                tr = simulate(model, smoothed)
            else:
                import diffrax

                solver = {"tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5, "kvaerno5": diffrax.Kvaerno5,
                          "heun": diffrax.Heun}[solver_name]()
                tr = solve(model, smoothed, solver=solver, throw=False,
                           stepsize_controller=diffrax.PIDController(rtol=1e-5, atol=1e-6),
                           max_steps=int(scfg.get("max_steps", 4096)))
            return dict(outputs=tr.outputs, success=jnp.all(tr.success))

    attrs = {"sweep_mode": mode, "sweep_config": repr(cfg)}
    return sweep(grid, run_point, key=jax.random.key(int(sw.get("seed", 0))),
                 chunk_size=sw.get("chunk_size"), progress=progress, attrs=attrs)
