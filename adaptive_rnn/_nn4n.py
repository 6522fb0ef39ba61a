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
(anything else, e.g. NumPy arrays in `kwargs`, is refused) and checks every size,
stride, offset, dtype and record a tensor claims against its storage before reading it:
a malformed or crafted file is a `CheckpointError`, never a crash or stray memory.

Over 400 lines with two jobs: that safe torch-file reader (`load_torch_file`, also used by
`adaptive_rnn._ncps`) and the NN4N mapping; the reader is to move to its own module.
"""

import io
import math
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._checks import check_choice, check_nonnegative, check_positive, check_positive_int, check_type
from ._errors import CheckpointError, InputError
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
#
# A torch zip archive holds `<name>/data.pkl` (a pickle, protocol 2, of the saved
# object) and one record `<name>/data/<key>` of raw bytes per storage; a tensor is
# pickled as `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`, its
# storage as the persistent id `("storage", torch.FloatStorage, key, location, numel)`.
# Everything the file claims is checked before a byte is read through it: the storage
# type, the record's existence and length (numel x element size), and that every
# element `offset + sum(i_k * stride_k)` of each tensor lies inside its storage. The
# tensor is then gathered with bounds-checked integer indexing (no strided views).

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_MAX_ELEMENTS = 2**28  # elements of one storage or tensor (an NN4N CTRNN of 16384 units)
_MAX_TOTAL_ELEMENTS = 2**29  # elements of all tensors of one file together
_MAX_NDIM = 64  # torch's limit on tensor dimensions
_MAX_PICKLE_BYTES = 64 * 2**20  # data.pkl of a state dict is a few kB


class _StorageType:
    """The marker `find_class` returns for `torch.<Name>Storage` (immutable: no
    `__dict__`, so a pickle cannot rewrite it)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        object.__setattr__(self, "name", name)

    def __setattr__(self, key, value):
        raise AttributeError("read-only")

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage:
    """A storage read from the archive: a 1-D little- or big-endian NumPy array
    (immutable, so a pickle's BUILD cannot swap the array)."""

    __slots__ = ("array", "key")

    def __init__(self, array: np.ndarray, key: str):
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "key", key)

    def __setattr__(self, key, value):
        raise AttributeError("read-only")


def _nonnegative_int(what: str, field: str, value, limit: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
        raise CheckpointError(
            f"{what}: tensor {field} {_short(value)}; expected an integer in [0, {limit}]"
        )
    return value


def _int_tuple(what: str, field: str, value, limit: int) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or len(value) > _MAX_NDIM:
        raise CheckpointError(
            f"{what}: tensor {field} {_short(value)}; expected a tuple of at most {_MAX_NDIM} integers"
        )
    return tuple(_nonnegative_int(what, f"{field}[{i}]", v, limit) for i, v in enumerate(value))


def _short(value, limit: int = 80) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer of more than 4300 digits
        text = f"<{type(value).__name__} too large to print>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tensor(what: str, storage, offset, size, stride) -> np.ndarray:
    """The tensor `storage[offset + sum(i_k * stride_k)]`, after checking that every
    index lies inside the storage; a copy, never a view of the file's bytes."""
    if not isinstance(storage, _Storage):
        raise CheckpointError(
            f"{what}: tensor storage {_short(storage)}; expected a storage record of the archive"
        )
    data = storage.array
    numel = data.shape[0]
    offset = _nonnegative_int(what, "offset", offset, _MAX_ELEMENTS)
    size = _int_tuple(what, "size", size, _MAX_ELEMENTS)
    stride = _int_tuple(what, "stride", stride, _MAX_ELEMENTS)
    if len(size) != len(stride):
        raise CheckpointError(
            f"{what}: tensor size {size} and stride {stride} differ in length; expected one stride per dimension"
        )
    count = math.prod(size)  # Python integers: no overflow; each factor <= _MAX_ELEMENTS
    if count > _MAX_ELEMENTS:
        raise CheckpointError(
            f"{what}: tensor of size {size} has {count} elements; expected at most {_MAX_ELEMENTS}"
        )
    if count:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= numel:
            raise CheckpointError(
                f"{what}: tensor of size {size}, stride {stride}, offset {offset} reads element {last} of "
                f"storage {storage.key!r}, which holds {numel}; expected every element inside the storage"
            )
    native = data.dtype.newbyteorder("=")
    if not count:
        return np.zeros(size, dtype=native)
    index = np.asarray(offset, dtype=np.int64)
    for n, s in zip(size, stride):
        index = index[..., None] + np.arange(n, dtype=np.int64) * s
    out = data.take(index.reshape(-1), mode="raise").astype(native, copy=False).reshape(size)
    return out.view(np.uint8) != 0 if out.dtype == np.bool_ else out  # bytes other than 0/1 -> True


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles only what `torch.save` of a state dict holds; nothing else."""

    def __init__(self, f, zf: zipfile.ZipFile, prefix: str, what: str, byteorder: str):
        super().__init__(f)
        self.zf, self.prefix, self.what, self.byteorder = zf, prefix, what, byteorder
        self.records = {}  # key -> bytes, each record read once
        self.total = 0

    def _rebuild_tensor_v2(
        self, storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None
    ):
        out = _tensor(self.what, storage, offset, size, stride)
        self.total += out.size
        if self.total > _MAX_TOTAL_ELEMENTS:
            raise CheckpointError(
                f"{self.what}: tensors hold more than {_MAX_TOTAL_ELEMENTS} elements together; expected fewer"
            )
        return out

    def _rebuild_parameter(self, data, requires_grad=False, hooks=None, *rest):
        if not isinstance(data, np.ndarray):
            raise CheckpointError(f"{self.what}: parameter data {_short(data)}; expected a tensor")
        return data

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return self._rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return self._rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise CheckpointError(
            f"{self.what}: refusing to unpickle {module[:60]}.{name[:60]}; expected only "
            f"tensors and plain values (install torch to read files holding other objects safely)"
        )

    def persistent_load(self, pid):
        what = self.what
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(
                f"{what}: persistent id {_short(pid)}; expected ('storage', type, key, location, numel)"
            )
        _, stype, key, _location, numel = pid
        if not isinstance(stype, _StorageType):
            raise CheckpointError(
                f"{what}: storage type {_short(stype)}; expected one of torch.{', torch.'.join(_DTYPES)}"
            )
        if not isinstance(key, str):
            raise CheckpointError(f"{what}: storage key {_short(key)}; expected a string")
        numel = _nonnegative_int(what, "storage numel", numel, _MAX_ELEMENTS)
        dtype = np.dtype(_DTYPES[stype.name]).newbyteorder(self.byteorder)
        name = f"{self.prefix}data/{key}"
        if key not in self.records:
            try:
                info = self.zf.getinfo(name)
            except KeyError:
                raise CheckpointError(
                    f"{what}: storage record {name!r} is missing; expected it in the archive"
                ) from None
            if info.file_size != numel * dtype.itemsize:
                raise CheckpointError(
                    f"{what}: storage record {name!r} holds {info.file_size} bytes; expected {numel} x "
                    f"{dtype.itemsize} = {numel * dtype.itemsize} for a {stype!r} of {numel} elements"
                )
            self.records[key] = self.zf.read(info)
        data = self.records[key]
        if len(data) != numel * dtype.itemsize:
            raise CheckpointError(
                f"{what}: storage record {name!r} holds {len(data)} bytes; expected {numel} x "
                f"{dtype.itemsize} = {numel * dtype.itemsize} for a {stype!r} of {numel} elements"
            )
        return _Storage(np.frombuffer(data, dtype=dtype), key)


def _read_without_torch(path: Path, what: str):
    """Reads a torch zip archive holding tensors, storages, ordered dicts and plain
    values (no torch, no arbitrary unpickling).

    **Raises:** `CheckpointError` for anything else: not a zip, a missing or malformed
    record, a pickle that is truncated or names another global, a tensor that does not
    fit inside its storage.
    """
    try:
        zf = zipfile.ZipFile(path)
    except Exception as e:  # BadZipFile, OSError, ValueError, ...: whatever a damaged zip raises
        raise CheckpointError(
            f"{what}: not a zip-format torch file ({type(e).__name__}: {e}); expected a file written by torch.save"
        ) from e
    with zf:
        names = zf.namelist()
        pkl = [
            n for n in names if n == "data.pkl" or (n.endswith("/data.pkl") and n.count("/") == 1)
        ]
        if len(pkl) != 1:
            raise CheckpointError(
                f"{what}: {'no' if not pkl else len(pkl)} top-level data.pkl records inside; expected one "
                f"(a file written by torch.save)"
            )
        prefix = pkl[0][: -len("data.pkl")]
        try:
            byteorder = "little"
            if f"{prefix}byteorder" in names:
                info = zf.getinfo(f"{prefix}byteorder")
                byteorder = (
                    zf.read(info).decode("ascii", "replace")
                    if info.file_size <= 16
                    else "(too long)"
                )
            if byteorder not in ("little", "big"):
                raise CheckpointError(
                    f"{what}: byteorder record {byteorder!r}; expected 'little' or 'big'"
                )
            info = zf.getinfo(pkl[0])
            if info.file_size > _MAX_PICKLE_BYTES:
                raise CheckpointError(
                    f"{what}: {pkl[0]} holds {info.file_size} bytes; expected at most {_MAX_PICKLE_BYTES}"
                )
            unpickler = _SafeUnpickler(
                io.BytesIO(zf.read(info)), zf, prefix, what, "<" if byteorder == "little" else ">"
            )
            return unpickler.load()
        except CheckpointError:
            raise
        except (
            Exception
        ) as e:  # UnpicklingError, EOFError, a CRC error, a REDUCE with wrong arguments, ...
            raise CheckpointError(
                f"{what}: unreadable ({type(e).__name__}: {_short(str(e), 120)}); expected a file written by torch.save"
            ) from e


def read_nn4n_checkpoint(path) -> tuple[dict, dict]:
    """Reads a file written by NN4N's `save()`.

    **Returns:** `(state_dict, kwargs)` with NumPy arrays.

    **Raises:** `CheckpointError` for a missing, unreadable or malformed file (see
    `_read_without_torch`), or one without `model_state_dict` and `kwargs`.
    """
    path = Path(path)
    what = f"NN4N checkpoint {path}"
    return _checkpoint_from(load_torch_file(path, what), what)


def load_torch_file(path: Path, what: str):
    """The object in a file written by `torch.save`, read safely: with
    `torch.load(weights_only=True)` when torch is installed, else with
    `_read_without_torch` (tensors become NumPy arrays there, stay tensors with torch).

    **Raises:** `CheckpointError` (starting with `what`) for a missing, unreadable or
    malformed file.
    """
    if not path.is_file():
        raise CheckpointError(f"{what}: not found")
    try:
        import torch  # pyright: ignore[reportMissingImports]  # optional dependency, may be absent
    except ImportError:
        return _read_without_torch(path, what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(
            f"{what}: torch.load(weights_only=True) failed ({type(e).__name__}: {e})"
        ) from e


def _checkpoint_from(obj, what: str) -> tuple[dict, dict]:
    """`(state_dict, kwargs)` from an unpickled `save()` dict, checked: a dict of
    string keys and numeric arrays, and a dict of constructor arguments."""
    if not isinstance(obj, Mapping) or "model_state_dict" not in obj:
        got = f"keys {sorted(map(repr, obj))}" if isinstance(obj, Mapping) else type(obj).__name__
        raise CheckpointError(
            f"{what}: got {got}, expected a dict with 'model_state_dict' and 'kwargs' (NN4N's save())"
        )
    state, kwargs = obj["model_state_dict"], obj.get("kwargs", {})
    for name, value in (("model_state_dict", state), ("kwargs", kwargs)):
        if not isinstance(value, Mapping):
            raise CheckpointError(f"{what}: {name} is a {type(value).__name__}; expected a dict")
    sd = {}
    for k, v in state.items():
        try:
            arr = v.detach().cpu().numpy() if hasattr(v, "detach") else v
        except Exception as e:  # a torch dtype NumPy lacks (bfloat16, ...)
            raise CheckpointError(
                f"{what}: model_state_dict[{k!r}] cannot become a NumPy array ({e})"
            ) from e
        if (
            not isinstance(k, str)
            or not isinstance(arr, np.ndarray)
            or arr.dtype.kind not in "biuf"
        ):
            raise CheckpointError(
                f"{what}: model_state_dict[{_short(k)}] is {_short(arr)}; expected string keys and numeric tensors"
            )
        sd[k] = arr
    return sd, dict(kwargs)


# --------------------------------------------------------------------------------------
# Converting
# --------------------------------------------------------------------------------------


def nn4n_to_ctrnn(
    state_dict: Mapping, kwargs: Mapping, *, noise: bool = True, dtype=None, key=None
) -> CTRNN:
    """An adaptive_rnn `CTRNN` with the dynamics of an NN4N 1.x CTRNN.

    **Arguments:**

    - `state_dict`: NN4N's `model_state_dict` (arrays or tensors), keys as in the
        module docstring.
    - `kwargs`: NN4N's constructor arguments (`dims`, `dt`, `tau`, `activation`,
        `init_state`, `preact_noise`, `postact_noise`).
    - `noise`: import NN4N's noise (convention `"nn4n"`); `False` for its `eval()` mode.
    - `dtype`: parameter dtype (default JAX's default float).
    - `key`: the `CTRNN` constructor's key (default `jax.random.key(0)`); the weights,
        biases and initial state all come from `state_dict`, so nothing is drawn.

    **Returns:** a `CTRNN` (static tau = NN4N's tau, dt = NN4N's dt).

    **Raises:** `CheckpointError` naming missing keys, arrays of unexpected shapes or
    constructor arguments out of range.
    """
    import jax

    sd = {
        k: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
        for k, v in state_dict.items()
    }
    missing = [v for k, v in _KEYS.items() if v not in sd and k != "h0"]
    if missing:
        raise CheckpointError(
            f"NN4N state dict: missing keys {missing}; got {sorted(map(str, sd))}, expected {sorted(_KEYS.values())}"
        )
    for k in ("W_in", "W_hid", "W_out"):
        if sd[_KEYS[k]].ndim != 2:
            raise CheckpointError(
                f"NN4N state dict: {_KEYS[k]} has shape {sd[_KEYS[k]].shape}, expected a matrix"
            )
    W_in, W_hid, W_out = (sd[_KEYS[k]] for k in ("W_in", "W_hid", "W_out"))
    if W_hid.shape[0] != W_hid.shape[1]:
        raise CheckpointError(
            f"NN4N state dict: {_KEYS['W_hid']} has shape {W_hid.shape}, expected (n, n)"
        )
    n = W_hid.shape[0]
    try:
        dims = kwargs.get("dims") or [
            kwargs.get("input_dim", W_in.shape[1]),
            kwargs.get("hidden_size", n),
            kwargs.get("output_dim", W_out.shape[0]),
        ]
        if not isinstance(dims, (list, tuple)) or len(dims) != 3:
            raise InputError(f"dims: got {_short(dims)}, expected [n_in, n_hidden, n_out]")
        n_in, n_h, n_out = (check_positive_int(f"dims[{i}]", d) for i, d in enumerate(dims))
        dt = check_positive("dt", kwargs.get("dt", 10))
        tau = check_positive("tau", kwargs.get("tau", 100))
        init_state = check_choice(
            "init_state", kwargs.get("init_state", "zero"), ("zero", "keep", "learn")
        )
        pre = check_nonnegative("preact_noise", kwargs.get("preact_noise", 0) or 0)
        post = check_nonnegative("postact_noise", kwargs.get("postact_noise", 0) or 0)
        activation = check_type("activation", kwargs.get("activation", "relu"), str, "a string")
    except InputError as e:
        raise CheckpointError(f"NN4N kwargs: {e}") from None
    expected = {
        "W_in": (n_h, n_in),
        "b_in": (n_h,),
        "W_hid": (n_h, n_h),
        "b_hid": (n_h,),
        "W_out": (n_out, n_h),
        "b_out": (n_out,),
        "h0": (n_h,),
    }
    for k, shape in expected.items():
        if _KEYS[k] in sd and sd[_KEYS[k]].shape != shape:
            raise CheckpointError(
                f"NN4N state dict: {_KEYS[k]} has shape {sd[_KEYS[k]].shape}, expected {shape} "
                f"(dims = {[n_in, n_h, n_out]})"
            )
    v0 = sd[_KEYS["h0"]] if init_state in ("learn", "keep") and _KEYS["h0"] in sd else np.zeros(n_h)
    nz = (
        {"sigma_pre": pre, "sigma_post": post, "convention": "nn4n", "feedback": True}
        if noise
        else None
    )
    try:
        return CTRNN(
            n_in,
            n_h,
            n_out,
            activation=activation,
            tau=tau,
            dt=dt,
            time_constants="static",
            weights=(W_in.astype(np.float64), W_hid.astype(np.float64), W_out.astype(np.float64)),
            biases=(
                (sd[_KEYS["b_hid"]] + sd[_KEYS["b_in"]]).astype(np.float64),
                sd[_KEYS["b_out"]].astype(np.float64),
            ),
            initial_state=np.asarray(v0, dtype=np.float64),
            learn_initial_state=init_state == "learn",
            noise=nz,
            dtype=dtype,
            key=jax.random.key(0) if key is None else key,
        )
    except (
        ValueError
    ) as e:  # InputError and others: a value our CTRNN refuses (an activation, dt/tau >= 2)
        raise CheckpointError(f"NN4N kwargs: {e}") from None


def import_nn4n(path, out=None, *, noise: bool = True, dtype=None) -> CTRNN:
    """Reads an NN4N 1.x checkpoint (`model.save(path)`) and returns (and, with `out`,
    saves with `save_model`) the equivalent adaptive_rnn `CTRNN`.

    Inputs: NN4N is time-first `(T, B, n_in)`; adaptive_rnn is batch-first
    `(B, T, n_in)`: `simulate(model, np.swapaxes(x, 0, 1))`.

    **Arguments:**

    - `path`: the NN4N checkpoint file (read by `read_nn4n_checkpoint`).
    - `out`: a folder to save the model into (`save_model`), or `None`.
    - `noise`, `dtype`: as `nn4n_to_ctrnn`.

    **Returns:** the `CTRNN`.

    **Raises:** `CheckpointError` (see `read_nn4n_checkpoint`, `nn4n_to_ctrnn`).
    """
    sd, kwargs = read_nn4n_checkpoint(path)
    model = nn4n_to_ctrnn(sd, kwargs, noise=noise, dtype=dtype)
    if out is not None:
        from ._io import save_model

        save_model(out, model)
    return model
