"""The record of a training run: losses and every time constant, per epoch."""

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass
class History:
    """Per-epoch losses and time constants of one training run (NumPy arrays).

    **Fields:**

    - `train_loss`, `val_loss`: shape `(E,)`, epochs `1..E` (`E = epochs_run`).
    - `time_constants`: name -> array `(E, k)` (the model's `time_constants()` after
        each epoch: `tau_s`, `tau_r`, `alpha_s`, `alpha_r` for the ARU; `k = 1` global,
        `n_hidden` local).
    - `initial_val_loss`, `initial_time_constants`: the same at epoch 0.
    - `best_epoch`, `best_val_loss`: the selected model (epoch 0 = the initial model).
    - `stop_reason`, `stop_epoch`: why and when training stopped early (`None` if it ran
        all its epochs): `"non-finite training loss (update i)"`,
        `"non-finite validation loss"`, `"early stopping"` or `"callback"`.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    time_constants: dict[str, np.ndarray]
    initial_val_loss: float = float("nan")
    initial_time_constants: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    best_epoch: int = 0
    best_val_loss: float = float("inf")
    stop_reason: str | None = None
    stop_epoch: int | None = None

    @classmethod
    def empty(cls, initial_val_loss: float, initial_time_constants: dict) -> "History":
        tcs = {k: np.asarray(v) for k, v in initial_time_constants.items()}
        return cls(
            train_loss=np.zeros((0,)),
            val_loss=np.zeros((0,)),
            time_constants={k: np.zeros((0,) + v.shape) for k, v in tcs.items()},
            initial_val_loss=float(initial_val_loss),
            initial_time_constants=tcs,
            best_val_loss=float(initial_val_loss)
            if np.isfinite(initial_val_loss)
            else float("inf"),
        )

    @property
    def epochs_run(self) -> int:
        return int(self.train_loss.shape[0])

    @property
    def epochs(self) -> np.ndarray:
        return np.arange(1, self.epochs_run + 1)

    def append(self, train_loss, val_loss, time_constants: dict) -> None:
        self.train_loss = np.append(self.train_loss, float(train_loss))
        self.val_loss = np.append(self.val_loss, float(val_loss))
        for k, v in time_constants.items():
            self.time_constants[k] = np.concatenate(
                [self.time_constants[k], np.asarray(v)[None]], axis=0
            )

    def at_best(self) -> dict[str, np.ndarray]:
        """The time constants of the selected model (epoch `best_epoch`)."""
        if self.best_epoch == 0:
            return dict(self.initial_time_constants)
        return {k: v[self.best_epoch - 1] for k, v in self.time_constants.items()}

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (non-finite floats as the strings "nan"/"inf")."""

        def enc(a):
            return [_enc_float(v) for v in np.asarray(a, dtype=np.float64).ravel()], list(
                np.shape(a)
            )

        out = {
            "train_loss": enc(self.train_loss)[0],
            "val_loss": enc(self.val_loss)[0],
            "time_constants": {
                k: {"values": enc(v)[0], "shape": enc(v)[1]} for k, v in self.time_constants.items()
            },
            "initial_val_loss": _enc_float(self.initial_val_loss),
            "initial_time_constants": {
                k: enc(v)[0] for k, v in self.initial_time_constants.items()
            },
            "best_epoch": int(self.best_epoch),
            "best_val_loss": _enc_float(self.best_val_loss),
            "stop_reason": self.stop_reason,
            "stop_epoch": self.stop_epoch,
        }
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "History":
        dec = lambda xs: np.asarray([_dec_float(x) for x in xs], dtype=np.float64)  # noqa: E731
        return cls(
            train_loss=dec(obj["train_loss"]),
            val_loss=dec(obj["val_loss"]),
            time_constants={
                k: dec(v["values"]).reshape(v["shape"]) for k, v in obj["time_constants"].items()
            },
            initial_val_loss=_dec_float(obj["initial_val_loss"]),
            initial_time_constants={k: dec(v) for k, v in obj["initial_time_constants"].items()},
            best_epoch=int(obj["best_epoch"]),
            best_val_loss=_dec_float(obj["best_val_loss"]),
            stop_reason=obj.get("stop_reason"),
            stop_epoch=obj.get("stop_epoch"),
        )


def _enc_float(v) -> float | str:
    v = float(v)
    return v if np.isfinite(v) else repr(v)


def _dec_float(v) -> float:
    return float(v)
