"""The torch-free NN4N reader on malformed archives: every size, stride, offset, dtype and
record a file claims is checked before it is read through, so a crafted file gives a
`CheckpointError` (one line and exit 2 from the CLI), never a crash or heap bytes.

Archives are written by hand (a small pickle writer of the opcodes `torch.save` emits,
protocol 2, and `zipfile`), so these tests need no torch; where torch is installed,
`torch.load(weights_only=True)` reads the hand-written archive to the same arrays.
"""

import itertools
import struct
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from adaptive_rnn._errors import AdaptiveRNNError, CheckpointError
from adaptive_rnn._nn4n import (
    _DTYPES,
    _MAX_ELEMENTS,
    _checkpoint_from,
    _read_without_torch,
    nn4n_to_ctrnn,
)

# --------------------------------------------------------------------------------------
# A pickle writer for what torch.save emits (GLOBAL, REDUCE, BINPERSID, BUILD, ...)
# --------------------------------------------------------------------------------------


class Global:
    def __init__(self, module, name):
        self.module, self.name = module, name


class Reduce:
    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state


class PersId:
    def __init__(self, pid):
        self.pid = pid


class Raw:
    """Opcodes written as they are."""

    def __init__(self, data: bytes):
        self.data = data


def _ser(obj) -> bytes:
    if isinstance(obj, Raw):
        return obj.data
    if obj is None:
        return b"N"
    if obj is True:
        return b"\x88"
    if obj is False:
        return b"\x89"
    if isinstance(obj, int):
        if -(2**31) <= obj < 2**31:
            return b"J" + struct.pack("<i", obj)
        enc = obj.to_bytes((obj.bit_length() + 8) // 8, "little", signed=True)
        if len(enc) < 256:
            return b"\x8a" + bytes([len(enc)]) + enc  # LONG1
        return b"\x8b" + struct.pack("<i", len(enc)) + enc  # LONG4
    if isinstance(obj, float):
        return b"G" + struct.pack(">d", obj)
    if isinstance(obj, str):
        enc = obj.encode()
        return b"X" + struct.pack("<I", len(enc)) + enc
    if isinstance(obj, tuple):
        return b"(" + b"".join(map(_ser, obj)) + b"t"
    if isinstance(obj, list):
        return b"](" + b"".join(map(_ser, obj)) + b"e"
    if isinstance(obj, OrderedDict):
        body = b"".join(_ser(k) + _ser(v) for k, v in obj.items())
        return _ser(Global("collections", "OrderedDict")) + b")R(" + body + b"u"
    if isinstance(obj, dict):
        return b"}(" + b"".join(_ser(k) + _ser(v) for k, v in obj.items()) + b"u"
    if isinstance(obj, Global):
        return b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n"
    if isinstance(obj, Reduce):
        out = _ser(obj.func) + _ser(obj.args) + b"R"
        return out if obj.state is None else out + _ser(obj.state) + b"b"
    if isinstance(obj, PersId):
        return _ser(obj.pid) + b"Q"
    raise TypeError(type(obj))


def dumps(obj) -> bytes:
    return b"\x80\x02" + _ser(obj) + b"."


def tensor(dtype, key, numel, offset, size, stride):
    """`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`."""
    storage = PersId(("storage", Global("torch", dtype), key, "cpu", numel))
    return Reduce(
        Global("torch._utils", "_rebuild_tensor_v2"),
        (storage, offset, size, stride, False, OrderedDict()),
    )


def write_archive(path, obj, records, *, prefix="archive", byteorder=b"little", pickle_bytes=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", dumps(obj) if pickle_bytes is None else pickle_bytes)
        if byteorder is not None:
            z.writestr(f"{prefix}/byteorder", byteorder)
        for key, data in records.items():
            z.writestr(f"{prefix}/data/{key}", data)
        z.writestr(f"{prefix}/version", b"3\n")
    return Path(path)


# --------------------------------------------------------------------------------------
# A valid NN4N checkpoint, as tensor specs
# --------------------------------------------------------------------------------------

N_IN, N, N_OUT = 2, 3, 1
SHAPES = {
    "recurrent_layer.hidden_state": (N,),
    "recurrent_layer.input_layer.weight": (N, N_IN),
    "recurrent_layer.input_layer.bias": (N,),
    "recurrent_layer.hidden_layer.weight": (N, N),
    "recurrent_layer.hidden_layer.bias": (N,),
    "readout_layer.weight": (N_OUT, N),
    "readout_layer.bias": (N_OUT,),
}
KWARGS = {
    "dims": [N_IN, N, N_OUT],
    "dt": 10,
    "tau": 40,
    "activation": "relu",
    "init_state": "learn",
}


def valid_specs(rng):
    """`(specs, records)`: one float32 storage per tensor, contiguous strides."""
    specs, records = {}, {}
    for i, (name, shape) in enumerate(SHAPES.items()):
        key = str(i)
        arr = rng.standard_normal(shape).astype("<f4")
        records[key] = arr.tobytes()
        stride = tuple(int(np.prod(shape[j + 1 :])) for j in range(len(shape)))
        specs[name] = {
            "dtype": "FloatStorage",
            "key": key,
            "numel": arr.size,
            "offset": 0,
            "size": shape,
            "stride": stride,
        }
    return specs, records


def checkpoint(specs, kwargs=KWARGS):
    sd = OrderedDict((name, tensor(**s)) for name, s in specs.items())
    return {"model_state_dict": sd, "kwargs": kwargs}


def read(path):
    return _checkpoint_from(_read_without_torch(Path(path), f"NN4N checkpoint {path}"), "test")


_LARGE = 10_000


def oracle(spec, records, byteorder="<"):
    """The tensor a spec describes, or `None` when it does not fit its storage; decided
    element by element, independently of the reader (`"large"` for a valid tensor of
    more than `_LARGE` elements: a broadcast, stride 0, over up to 2**28 elements)."""
    dtype, key, numel, offset, size, stride = (
        spec[k] for k in ("dtype", "key", "numel", "offset", "size", "stride")
    )

    def is_int(v, limit=_MAX_ELEMENTS):
        return type(v) is int and 0 <= v <= limit

    if dtype not in _DTYPES or not isinstance(key, str) or key not in records or not is_int(numel):
        return None
    dt = np.dtype(_DTYPES[dtype]).newbyteorder(byteorder)
    if len(records[key]) != numel * dt.itemsize or not is_int(offset):
        return None
    if not all(isinstance(t, (tuple, list)) for t in (size, stride)) or len(size) != len(stride):
        return None
    if not all(is_int(v) for v in (*size, *stride)) or np.prod(size, dtype=object) > _MAX_ELEMENTS:
        return None
    count = int(np.prod(size, dtype=object))
    if count > _LARGE:  # too many to loop over: the largest index decides
        return "large" if offset + sum((n - 1) * s for n, s in zip(size, stride)) < numel else None
    flat = np.frombuffer(records[key], dtype=dt)
    out = np.zeros(tuple(size), dtype=dt.newbyteorder("="))
    for idx in itertools.product(*(range(n) for n in size)):
        j = offset + sum(i * s for i, s in zip(idx, stride))
        if j >= numel:
            return None
        out[idx] = flat[j]
    return out != 0 if dt.kind == "b" else out


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def test_hand_written_archive_reads_back(tmp_path):
    specs, records = valid_specs(np.random.default_rng(0))
    sd, kw = read(write_archive(tmp_path / "ok.pth", checkpoint(specs), records))
    for name, s in specs.items():
        assert np.array_equal(sd[name], np.frombuffer(records[s["key"]], "<f4").reshape(s["size"]))
    assert kw == KWARGS
    m = nn4n_to_ctrnn(sd, kw)
    assert (m.n_in, m.n_hidden, m.n_out) == (N_IN, N, N_OUT)


def test_strided_big_endian_and_shared_storages(tmp_path):
    # A transposed view (strides (1, 3)) with an offset, a broadcast (stride 0), a
    # tensor of a storage shared with another, an empty tensor, a scalar; big-endian.
    flat = np.arange(12, dtype=">f8")
    records = {"0": flat.tobytes()}
    specs = {
        "t": {
            "dtype": "DoubleStorage",
            "key": "0",
            "numel": 12,
            "offset": 1,
            "size": (3, 3),
            "stride": (1, 3),
        },
        "b": {
            "dtype": "DoubleStorage",
            "key": "0",
            "numel": 12,
            "offset": 11,
            "size": (2, 4),
            "stride": (0, 0),
        },
        "e": {
            "dtype": "DoubleStorage",
            "key": "0",
            "numel": 12,
            "offset": 12,
            "size": (0, 5),
            "stride": (5, 1),
        },
        "s": {
            "dtype": "DoubleStorage",
            "key": "0",
            "numel": 12,
            "offset": 4,
            "size": (),
            "stride": (),
        },
    }
    sd, _ = read(write_archive(tmp_path / "be.pth", checkpoint(specs), records, byteorder=b"big"))
    assert np.array_equal(sd["t"], np.arange(1, 10, dtype=float).reshape(3, 3).T)
    assert np.array_equal(sd["b"], np.full((2, 4), 11.0))
    assert sd["e"].shape == (0, 5) and sd["s"].shape == () and sd["s"] == 4.0
    for name, s in specs.items():
        assert np.array_equal(sd[name], oracle(s, records, ">"))


def test_tensor_larger_than_its_storage_is_refused(tmp_path):
    # 2 x 4 over 4 floats: the old reader returned 16 bytes of heap memory.
    specs, records = valid_specs(np.random.default_rng(1))
    specs["readout_layer.weight"].update(size=(2, 4), stride=(4, 1), numel=4, key="9")
    records["9"] = np.zeros(4, "<f4").tobytes()
    path = write_archive(tmp_path / "over.pth", checkpoint(specs), records)
    with pytest.raises(CheckpointError, match=r"reads element 7 of storage '9', which holds 4"):
        read(path)


def test_cli_refuses_the_4000x4000_archive_in_one_line(tmp_path):
    # The old reader viewed 64 MB through a 16-byte buffer (a segfault); run in a
    # subprocess so that a crash fails this test instead of ending pytest.
    specs, records = valid_specs(np.random.default_rng(2))
    specs["recurrent_layer.hidden_layer.weight"].update(
        size=(4000, 4000), stride=(4000, 1), numel=4, key="9"
    )
    records["9"] = np.ones(4, "<f4").tobytes()
    path = write_archive(tmp_path / "huge.pth", checkpoint(specs), records)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "adaptive_rnn.cli",
            "--cpu-devices",
            "1",
            "import-nn4n",
            str(path),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("adaptive-rnn import-nn4n: error:"), r.stderr
    assert "storage" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()


_INTS = [
    -(2**63),
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    9,
    12,
    4000,
    2**28,
    2**28 + 1,
    2**31,
    2**63,
    2**64,
    10**30,
]
_NOT_INTS = [1.5, "3", None, True, (1,), [], {"a": 1}]
_DTYPE_NAMES = [
    "FloatStorage",
    "DoubleStorage",
    "IntStorage",
    "HalfStorage",
    "BoolStorage",
    "ByteStorage",
    "BFloat16Storage",
    "UntypedStorage",
    "Tensor",
]


def _draw(rng, pool):
    return pool[rng.integers(len(pool))]


def _mutate(rng, spec):
    spec = dict(spec)
    for _ in range(rng.integers(1, 3)):
        field = _draw(
            rng, ["offset", "size", "stride", "numel", "dtype", "key", "ndim", "element", "element"]
        )
        value = lambda: _draw(rng, _INTS) if rng.random() < 0.85 else _draw(rng, _NOT_INTS)  # noqa: E731
        if field in ("offset", "numel"):
            spec[field] = value()
        elif field in ("size", "stride"):
            spec[field] = tuple(value() for _ in range(rng.integers(0, 4)))
        elif field == "dtype":
            spec["dtype"] = _draw(rng, _DTYPE_NAMES)
        elif field == "key":
            spec["key"] = _draw(rng, ["0", "1", "6", "missing", "../0", 0, None])
        elif field == "ndim":  # one more or one fewer dimension in one of the two
            which = _draw(rng, ["size", "stride"])
            t = tuple(spec[which])
            spec[which] = t[:-1] if t and rng.random() < 0.5 else t + (value(),)
        else:  # one element of size or stride
            which = _draw(rng, ["size", "stride"])
            t = list(spec[which])
            if t:
                t[rng.integers(len(t))] = value()
            spec[which] = tuple(t)
    return spec


def test_fuzz_tensor_metadata(tmp_path):
    """Random sizes, strides, offsets, numels, dtypes and keys: the reader refuses
    exactly the tensors the element-by-element oracle finds outside their storage (or
    otherwise malformed), and returns the oracle's values for the others."""
    rng = np.random.default_rng(20261125)
    refused = accepted = 0
    for case in range(300):
        specs, records = valid_specs(rng)
        names = list(specs)
        for name in rng.choice(names, size=rng.integers(1, 3), replace=False):
            specs[name] = _mutate(rng, specs[name])
        path = write_archive(tmp_path / f"m{case}.pth", checkpoint(specs), records)
        expected = {name: oracle(s, records) for name, s in specs.items()}
        if any(v is None for v in expected.values()):
            with pytest.raises(CheckpointError):
                read(path)
            refused += 1
        elif any(isinstance(v, str) for v in expected.values()):
            continue  # a valid broadcast of up to 2**28 elements: too large to read here
        else:
            sd, _ = read(path)
            for name, v in expected.items():
                assert sd[name].shape == v.shape and sd[name].dtype == v.dtype, (case, name)
                assert np.array_equal(sd[name], v), (case, name)
            accepted += 1
    assert refused > 200 and accepted > 5, (refused, accepted)


def _refused(path):
    with pytest.raises(CheckpointError):
        read(path)


def test_fuzz_archive_structure(tmp_path):
    """Truncated and corrupted zips, missing and resized records, garbage files: each
    a `CheckpointError` (a flipped byte the zip format does not check may also read
    back unchanged)."""
    rng = np.random.default_rng(7)
    specs, records = valid_specs(rng)
    good = write_archive(tmp_path / "good.pth", checkpoint(specs), records).read_bytes()
    ref, _ = read(tmp_path / "good.pth")
    bad = tmp_path / "bad.pth"
    for data in (b"", b"PK", rng.bytes(1000), b"PK\x03\x04" + rng.bytes(200)):
        bad.write_bytes(data)
        _refused(bad)
    for cut in sorted(set(rng.integers(1, len(good), size=60).tolist())):
        bad.write_bytes(good[:cut])
        _refused(bad)
    unchanged = 0
    for pos in rng.integers(0, len(good), size=150):
        data = bytearray(good)
        data[pos] ^= 1 << int(rng.integers(8))
        bad.write_bytes(bytes(data))
        try:
            sd, _ = read(bad)
        except CheckpointError:
            continue
        assert sd.keys() == ref.keys() and all(np.array_equal(sd[k], ref[k]) for k in ref), pos
        unchanged += 1
    assert unchanged < 150
    # Records: one dropped, one a byte short, one a float too long; data.pkl missing or twice.
    for change in ("drop", "short", "long"):
        recs = dict(records)
        if change == "drop":
            del recs["3"]
        else:
            recs["3"] = recs["3"][:-1] if change == "short" else recs["3"] + b"\0\0\0\0"
        _refused(write_archive(bad, checkpoint(specs), recs))
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("archive/data/0", records["0"])
    _refused(bad)
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("a/data.pkl", dumps(checkpoint(specs)))
        z.writestr("b/data.pkl", dumps(checkpoint(specs)))
    _refused(bad)
    for order in (b"middle", b"little" * 10):
        _refused(write_archive(bad, checkpoint(specs), records, byteorder=order))


def test_fuzz_pickle_bytes(tmp_path):
    """A data.pkl cut at any point, or with bytes flipped, inside a sound zip: a
    `CheckpointError`, or (a flip in a value) a checkpoint whose conversion raises the
    library's error or succeeds; never another exception."""
    rng = np.random.default_rng(11)
    specs, records = valid_specs(rng)
    pkl = dumps(checkpoint(specs))
    bad = tmp_path / "bad.pth"
    for cut in range(0, len(pkl), 3):
        _refused(write_archive(bad, None, records, pickle_bytes=pkl[:cut]))
    outcomes = {"refused": 0, "read": 0}
    for _ in range(250):
        data = bytearray(pkl)
        for pos in rng.integers(2, len(pkl), size=rng.integers(1, 4)):
            data[pos] = int(rng.integers(256))
        write_archive(bad, None, records, pickle_bytes=bytes(data))
        try:
            sd, kw = read(bad)
        except CheckpointError:
            outcomes["refused"] += 1
            continue
        outcomes["read"] += 1
        try:
            nn4n_to_ctrnn(sd, kw)
        except AdaptiveRNNError:
            pass
    assert outcomes["refused"] > 150, outcomes


@pytest.mark.parametrize(
    "obj, match",
    [
        (Reduce(Global("os", "system"), ("true",)), r"refusing to unpickle os.system"),
        (Reduce(Global("builtins", "eval"), ("1",)), r"refusing to unpickle builtins.eval"),
        (Reduce(Global("numpy.core.multiarray", "_reconstruct"), ()), "refusing to unpickle numpy"),
        (
            Reduce(Global("torch._utils", "_rebuild_tensor"), ()),
            "refusing to unpickle torch._utils._rebuild_tensor",
        ),
        (PersId(("storage", Global("torch", "FloatStorage"), "0", "cpu")), "persistent id"),
        (PersId(["storage", Global("torch", "FloatStorage"), "0", "cpu", 3]), "persistent id"),
        (PersId(("storage", "FloatStorage", "0", "cpu", 3)), "storage type"),
        (PersId(("storage", Global("torch", "FloatStorage"), 0, "cpu", 3)), "storage key"),
        # BUILD on the storage marker or on a storage: they cannot be rewritten.
        (
            Reduce(
                Global("torch._utils", "_rebuild_tensor_v2"),
                (
                    PersId(
                        (
                            "storage",
                            Raw(
                                _ser(Global("torch", "FloatStorage"))
                                + _ser({"name": "DoubleStorage"})
                                + b"b"
                            ),
                            "0",
                            "cpu",
                            3,
                        )
                    ),
                    0,
                    (3,),
                    (1,),
                ),
            ),
            "unreadable",
        ),
        (
            Reduce(
                Global("torch._utils", "_rebuild_tensor_v2"),
                (
                    Raw(
                        _ser(PersId(("storage", Global("torch", "FloatStorage"), "0", "cpu", 3)))
                        + _ser((None, {"array": [1.0] * 1000}))
                        + b"b"
                    ),
                    0,
                    (1000,),
                    (1,),
                ),
            ),
            "unreadable",
        ),
        (
            Reduce(Global("torch._utils", "_rebuild_tensor_v2"), ("not a storage", 0, (3,), (1,))),
            "tensor storage",
        ),
        (
            tensor("FloatStorage", "0", 3, 10**5000, (3,), (1,)),
            "tensor offset <int too large to print>",
        ),
        (
            tensor("FloatStorage", "0", 3, 0, (3,) * 65, (1,) * 65),
            "expected a tuple of at most 64 integers",
        ),
        (Reduce(Global("torch._utils", "_rebuild_tensor_v2"), ()), "unreadable"),
        (
            Reduce(Global("torch._utils", "_rebuild_parameter"), ("text", False, OrderedDict())),
            "parameter data",
        ),
        ({"model_state_dict": ["a"], "kwargs": {}}, "model_state_dict is a list"),
        ({"model_state_dict": {}, "kwargs": "dims"}, "kwargs is a str"),
        ({"model_state_dict": {"w": "text"}, "kwargs": {}}, r"model_state_dict\['w'\]"),
        (
            {"model_state_dict": {3: tensor("FloatStorage", "0", 3, 0, (3,), (1,))}, "kwargs": {}},
            "string keys",
        ),
        ({"weights": {}}, "expected a dict with 'model_state_dict'"),
        ([1, 2], "got list"),
    ],
)
def test_unsupported_pickles(tmp_path, obj, match):
    records = {"0": np.zeros(3, "<f4").tobytes()}
    with pytest.raises(CheckpointError, match=match):
        read(write_archive(tmp_path / "x.pth", obj, records))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dims": [2, "3", 1]}, r"dims\[1\]: got '3'"),
        ({"dims": [2, 3]}, r"dims: got \[2, 3\]"),
        ({"dt": "ten"}, r"dt: got 'ten'"),
        ({"tau": -1}, r"tau: got -1"),
        ({"dt": 100, "tau": 10}, r"tau: alpha = dt/tau reaches 10"),
        ({"activation": "swish"}, r"activation"),
        ({"init_state": "lern"}, r"init_state: got 'lern'.*did you mean 'learn'"),
        ({"preact_noise": -0.1}, r"preact_noise: got -0.1"),
    ],
)
def test_bad_kwargs_are_checkpoint_errors(kwargs, match):
    specs, records = valid_specs(np.random.default_rng(3))
    sd = {n: np.frombuffer(records[s["key"]], "<f4").reshape(s["size"]) for n, s in specs.items()}
    with pytest.raises(CheckpointError, match="NN4N kwargs: " + match):
        nn4n_to_ctrnn(sd, {**KWARGS, **kwargs})


def test_torch_reads_the_hand_written_archive_alike(tmp_path):
    torch = pytest.importorskip("torch")
    flat = np.arange(12, dtype="<f4")
    specs = {
        "t": {
            "dtype": "FloatStorage",
            "key": "0",
            "numel": 12,
            "offset": 1,
            "size": (3, 3),
            "stride": (1, 3),
        },
        "w": {
            "dtype": "FloatStorage",
            "key": "0",
            "numel": 12,
            "offset": 0,
            "size": (2, 6),
            "stride": (6, 1),
        },
    }
    path = write_archive(tmp_path / "x.pth", checkpoint(specs), {"0": flat.tobytes()})
    theirs = torch.load(path, weights_only=True)["model_state_dict"]
    ours, _ = read(path)
    for k in specs:
        assert np.array_equal(ours[k], theirs[k].numpy())
