r"""Migration from NN4N 1.x (`nn4n` on PyPI): a saved `CTRNN` -> an adaptive_rnn `CTRNN`.

NN4N's `save(path)` writes `torch.save({"model_state_dict": ..., "kwargs": ...})`. Its
CTRNN (nn4n 1.1, `nn4n/layer/recurrent_layer.py`) runs, time-first,

$$v_{t+1} = (1-\alpha) v_t + \alpha\,(W_{hid} f(r_t) + b_{hid} + W_{in} u_t + b_{in}),
  \qquad r_{t+1} = f(v_{t+1}), \qquad y_t = W_{out} r_{t+1} + b_{out},$$

$\alpha = dt/\tau$, from $v_0 = 0$ (`init_state="zero"`) or the stored `hidden_state`
(`"learn"`/`"keep"`). This is our CTRNN's Euler step with `b_hid = b_hid + b_in`, so
the import is exact. State-dict keys read:

    recurrent_layer.input_layer.weight  (n, n_in)   recurrent_layer.input_layer.bias  (n,)
    recurrent_layer.hidden_layer.weight (n, n)      recurrent_layer.hidden_layer.bias (n,)
    readout_layer.weight (n_out, n)                 readout_layer.bias (n_out,)
    recurrent_layer.hidden_state (n,)

and from `kwargs`: `dims` (or the deprecated `input_dim`/`hidden_size`/`output_dim`), `dt`
(default 10), `tau` (100), `activation` ("relu"), `init_state` ("zero"), `preact_noise`,
`postact_noise` (imported as `Noise(convention="nn4n", feedback=True)`; NN4N switches
noise off in `eval()` mode: pass `noise=False` for that). The weights are taken as
saved (NN4N's masks are already applied to them; its clamping is not re-imposed).

Files are read with `torch.load(weights_only=True)` when torch is installed, else by a
reader of the zip format that unpickles only tensors, storages and ordered dicts
(anything else, e.g. NumPy arrays in `kwargs`, is refused).
"""

import io
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._errors import CheckpointError
from .models import CTRNN

_KEYS = {
    "W_in": "recurrent_layer.input_layer.weight",
    "b_in": "recurrent_layer.input_layer.bias",
    "W_hid": "recurrent_layer.hidden_layer.weight",
    "b_hid": "recurrent_layer.hidden_layer.bias",
    "W_out": "readout_layer.weight",
    "b_out": "readout_layer.bias",
    "h0": "recurrent_layer.hidden_state",
}

# --------------------------------------------------------------------------------------
# Reading the file
# --------------------------------------------------------------------------------------

_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.dtype = _DTYPES[name]


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    itemsize = storage.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    ).copy()


def _rebuild_parameter(data, requires_grad=False, hooks=None, *rest):
    return data


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles only what `torch.save` of a state dict holds; nothing else."""

    def __init__(self, f, zf: zipfile.ZipFile, prefix: str, what: str):
        super().__init__(f)
        self.zf, self.prefix, self.what = zf, prefix, what

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise CheckpointError(
            f"{self.what}: refusing to unpickle {module}.{name}; expected only tensors and "
            f"plain values (install torch to read files holding other objects safely)"
        )

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise CheckpointError(f"{self.what}: unexpected persistent id {pid!r}")
        _, stype, key, _location, _numel = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(f"{self.what}: unexpected storage type {stype!r}")
        data = self.zf.read(f"{self.prefix}data/{key}")
        return np.frombuffer(data, dtype=np.dtype(stype.dtype).newbyteorder("<"))


def _read_without_torch(path: Path, what: str):
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise CheckpointError(f"{what}: not a zip-format torch file ({e}); expected a file written by torch.save") from e
    with zf:
        pkl = [n for n in zf.namelist() if n.endswith("data.pkl")]
        if not pkl:
            raise CheckpointError(f"{what}: no data.pkl inside; expected a file written by torch.save")
        prefix = pkl[0][: -len("data.pkl")]
        return _SafeUnpickler(io.BytesIO(zf.read(pkl[0])), zf, prefix, what).load()


def read_nn4n_checkpoint(path) -> tuple[dict, dict]:
    """Reads a file written by NN4N's `save()`.

    **Returns:** `(state_dict, kwargs)` with NumPy arrays.

    **Raises:** `CheckpointError` for a missing or unreadable file, or one without
    `model_state_dict` and `kwargs`.
    """
    path = Path(path)
    what = f"NN4N checkpoint {path}"
    if not path.is_file():
        raise CheckpointError(f"{what}: not found")
    try:
        import torch
    except ImportError:
        obj = _read_without_torch(path, what)
    else:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise CheckpointError(f"{what}: torch.load(weights_only=True) failed ({type(e).__name__}: {e})") from e
    if not isinstance(obj, Mapping) or "model_state_dict" not in obj:
        got = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
        raise CheckpointError(f"{what}: got {got}, expected a dict with 'model_state_dict' and 'kwargs' (NN4N's save())")
    sd = {k: (v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in obj["model_state_dict"].items()}
    return sd, dict(obj.get("kwargs", {}))


# --------------------------------------------------------------------------------------
# Converting
# --------------------------------------------------------------------------------------


def nn4n_to_ctrnn(state_dict: Mapping, kwargs: Mapping, *, noise: bool = True, dtype=None, key=None) -> CTRNN:
    """An adaptive_rnn `CTRNN` with the dynamics of an NN4N 1.x CTRNN.

    **Arguments:**

    - `state_dict`: NN4N's `model_state_dict` (arrays or tensors), keys as in the
        module docstring.
    - `kwargs`: NN4N's constructor arguments (`dims`, `dt`, `tau`, `activation`,
        `init_state`, `preact_noise`, `postact_noise`).
    - `noise`: import NN4N's noise (convention `"nn4n"`); `False` for its `eval()` mode.
    - `dtype`: parameter dtype (default JAX's default float).

    **Returns:** a `CTRNN` (static tau = NN4N's tau, dt = NN4N's dt).

    **Raises:** `CheckpointError` naming missing keys or arrays of unexpected shapes.
    """
    import jax

    sd = {k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v) for k, v in state_dict.items()}
    missing = [v for k, v in _KEYS.items() if v not in sd and k != "h0"]
    if missing:
        raise CheckpointError(
            f"NN4N state dict: missing keys {missing}; got {sorted(sd)}, expected {sorted(_KEYS.values())}"
        )
    W_in, W_hid, W_out = (sd[_KEYS[k]] for k in ("W_in", "W_hid", "W_out"))
    if W_hid.ndim != 2 or W_hid.shape[0] != W_hid.shape[1]:
        raise CheckpointError(f"NN4N state dict: {_KEYS['W_hid']} has shape {W_hid.shape}, expected (n, n)")
    n = W_hid.shape[0]
    dims = kwargs.get("dims") or [kwargs.get("input_dim", W_in.shape[-1]), kwargs.get("hidden_size", n), kwargs.get("output_dim", W_out.shape[0])]
    n_in, n_h, n_out = (int(d) for d in dims)
    expected = {
        "W_in": (n_h, n_in), "b_in": (n_h,), "W_hid": (n_h, n_h), "b_hid": (n_h,),
        "W_out": (n_out, n_h), "b_out": (n_out,), "h0": (n_h,),
    }
    for k, shape in expected.items():
        if _KEYS[k] in sd and sd[_KEYS[k]].shape != shape:
            raise CheckpointError(
                f"NN4N state dict: {_KEYS[k]} has shape {sd[_KEYS[k]].shape}, expected {shape} "
                f"(dims = {[n_in, n_h, n_out]})"
            )
    dt, tau = float(kwargs.get("dt", 10)), float(kwargs.get("tau", 100))
    init_state = kwargs.get("init_state", "zero")
    v0 = sd[_KEYS["h0"]] if init_state in ("learn", "keep") and _KEYS["h0"] in sd else np.zeros(n_h)
    pre, post = float(kwargs.get("preact_noise", 0) or 0), float(kwargs.get("postact_noise", 0) or 0)
    nz = {"sigma_pre": pre, "sigma_post": post, "convention": "nn4n", "feedback": True} if noise else None
    return CTRNN(
        n_in, n_h, n_out,
        activation=kwargs.get("activation", "relu"),
        tau=tau, dt=dt, time_constants="static",
        weights=(W_in.astype(np.float64), W_hid.astype(np.float64), W_out.astype(np.float64)),
        biases=((sd[_KEYS["b_hid"]] + sd[_KEYS["b_in"]]).astype(np.float64), sd[_KEYS["b_out"]].astype(np.float64)),
        initial_state=np.asarray(v0, dtype=np.float64),
        learn_initial_state=init_state == "learn",
        noise=nz, dtype=dtype,
        key=jax.random.key(0) if key is None else key,
    )


def import_nn4n(path, out=None, *, noise: bool = True, dtype=None) -> CTRNN:
    """Reads an NN4N 1.x checkpoint (`model.save(path)`) and returns (and, with `out`,
    saves with `save_model`) the equivalent adaptive_rnn `CTRNN`.

    Inputs: NN4N is time-first `(T, B, n_in)`; adaptive_rnn is batch-first
    `(B, T, n_in)`: `simulate(model, np.swapaxes(x, 0, 1))`.

    **Raises:** `CheckpointError` (see `read_nn4n_checkpoint`, `nn4n_to_ctrnn`).
    """
    sd, kwargs = read_nn4n_checkpoint(path)
    model = nn4n_to_ctrnn(sd, kwargs, noise=noise, dtype=dtype)
    if out is not None:
        from ._io import save_model

        save_model(out, model)
    return model
