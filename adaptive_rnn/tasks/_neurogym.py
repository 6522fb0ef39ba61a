"""A seeded bridge from neurogym's tasks to `TaskBatch` arrays (optional extra
`neurogym`)."""

import numpy as np

from .._errors import InputError
from ._trials import TaskBatch


def _import_neurogym():
    try:
        import neurogym  # pyright: ignore[reportMissingImports]  # optional dependency, may be absent
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise InputError(
            "from_neurogym: neurogym is not installed; expected the optional extra "
            "(`pip install adaptive_rnn[neurogym]` or `pip install neurogym`)"
        ) from e
    return neurogym


def from_neurogym(env_or_name, n_trials, *, seed, dtype=None, **env_kwargs) -> TaskBatch:
    """Draws `n_trials` trials of a neurogym task into a `TaskBatch`, reproducibly.

    neurogym's own `Dataset` takes no seed; here the environment's random state is
    seeded with `seed` (its `seed()` method) before the first trial, so the same seed
    gives the same arrays.

    Observations become `inputs` (neurogym's order: fixation first); the ground-truth
    action of each step becomes a one-hot `targets` over the discrete actions (action 0
    is fixation, then the choices) or, for a continuous ground truth, the values as
    they are. Trials of different lengths are padded with zeros to the longest, with
    `mask` 0 on the padding. `conditions` holds every numeric scalar of neurogym's
    `trial` dict (e.g. `coh`, `ground_truth`), plus `choice` = `ground_truth` when that is
    an integer (the correct choice, counted after fixation, as in `task_accuracy`), and
    `length` (steps). `epochs` holds neurogym's periods (`start_ind`, `end_ind`).

    **Arguments:**

    - `env_or_name`: a neurogym environment, or a registered name such as
        `"PerceptualDecisionMaking-v0"`.
    - `n_trials`: number of trials (>= 1).
    - `seed`: an integer seed (required).
    - `dtype`: float dtype of the arrays (default float32, neurogym's).
    - `env_kwargs`: passed to `neurogym.make` with a name (e.g. `dt=20`, `timing=...`).

    **Returns:** a `TaskBatch` named `neurogym:<env name>`, with `dt` from the environment.

    **Raises:** `InputError` if neurogym is not installed, for a non-integer seed, a
    non-positive `n_trials`, or an environment without `new_trial`.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed: got {seed!r}, expected an integer")
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise InputError(f"n_trials: got {n_trials!r}, expected a positive integer")
    import jax.numpy as jnp

    if isinstance(env_or_name, str):
        ngym = _import_neurogym()
        env = ngym.make(env_or_name, **env_kwargs)
        name = env_or_name
    else:
        if env_kwargs:
            raise InputError(
                f"env_kwargs: got {sorted(env_kwargs)} with an environment object; pass them to neurogym.make"
            )
        env = env_or_name
        name = type(getattr(env, "unwrapped", env)).__name__
    env = getattr(env, "unwrapped", env)
    if not hasattr(env, "new_trial"):
        raise InputError(
            f"env_or_name: got {type(env).__name__}, expected a neurogym TrialEnv or its name"
        )
    if hasattr(env, "seed"):
        env.seed(int(seed))
    else:  # pragma: no cover - older/newer APIs
        env.reset(seed=int(seed))

    obs, gts, trials, epochs = [], [], [], []
    for _ in range(int(n_trials)):
        trial = env.new_trial()
        obs.append(np.asarray(env.ob, dtype=np.float64).copy())
        gts.append(np.asarray(env.gt).copy())
        trials.append(dict(trial or {}))
        epochs.append({k: (int(env.start_ind[k]), int(env.end_ind[k])) for k in env.start_ind})
    T = max(o.shape[0] for o in obs)
    n_in = obs[0].shape[1]
    discrete = hasattr(env.action_space, "n") and all(
        np.issubdtype(g.dtype, np.integer) and g.ndim == 1 for g in gts
    )
    n_out = int(env.action_space.n) if discrete else (gts[0].shape[1] if gts[0].ndim == 2 else 1)
    B = len(obs)
    inputs = np.zeros((B, T, n_in))
    targets = np.zeros((B, T, n_out))
    mask = np.zeros((B, T, n_out))
    for b, (o, g) in enumerate(zip(obs, gts)):
        L = o.shape[0]
        inputs[b, :L] = o
        if discrete:
            targets[b, np.arange(L), g] = 1.0
        else:
            targets[b, :L] = g.reshape(L, -1)
        mask[b, :L] = 1.0
    conditions: dict[str, np.ndarray] = {
        "length": np.array([o.shape[0] for o in obs], dtype=np.int32)
    }
    keys = set.intersection(*(set(t) for t in trials)) if trials else set()
    for k in sorted(keys):
        vals = [t[k] for t in trials]
        if all(
            np.ndim(v) == 0 and isinstance(np.asarray(v).item(), (int, float, bool)) for v in vals
        ):
            arr = np.asarray(vals)
            conditions[k] = (
                arr.astype(np.int32)
                if np.issubdtype(arr.dtype, np.integer)
                else arr.astype(np.float64)
            )
    if "ground_truth" in conditions and np.issubdtype(conditions["ground_truth"].dtype, np.integer):
        conditions["choice"] = conditions["ground_truth"]
    names = set.intersection(*(set(e) for e in epochs))
    ep = {
        k: (
            np.array([e[k][0] for e in epochs], dtype=np.int32),
            np.array([e[k][1] for e in epochs], dtype=np.int32),
        )
        for k in sorted(names)
    }
    dt_arr = jnp.float32 if dtype is None else dtype
    return TaskBatch(
        inputs=jnp.asarray(inputs, dtype=dt_arr),
        targets=jnp.asarray(targets, dtype=dt_arr),
        mask=jnp.asarray(mask, dtype=dt_arr),
        conditions={k: jnp.asarray(v) for k, v in conditions.items()},
        epochs={k: (jnp.asarray(a), jnp.asarray(b)) for k, (a, b) in ep.items()},
        dt=float(env.dt),
        name=f"neurogym:{name}",
    )
