"""A model's noise settings (`Noise`): what a model carries. What the noise does on each
integration path, and at which `dt`, is the integration layer's `adaptive_rnn._noise`
(its module docstring states both conventions)."""

from typing import Any

import equinox as eqx

from .._checks import check_choice, check_keys, check_nonnegative
from .._errors import InputError

CONVENTIONS = ("continuous", "nn4n")


class Noise(eqx.Module):
    """Pre- and post-activation noise of a model (see the module docstring).

    **Arguments:**

    - `sigma_pre`: pre-activation noise (inside the dynamics), >= 0.
    - `sigma_post`: post-activation noise (on the rates), >= 0.
    - `convention`: `"continuous"` (default: an SDE, same meaning at any dt) or
        `"nn4n"` (NN4N's per-step noise, discrete path only).
    - `feedback`: whether post-activation noise feeds back into the dynamics (default
        `False`).
    """

    sigma_pre: float = eqx.field(static=True, default=0.0)
    sigma_post: float = eqx.field(static=True, default=0.0)
    convention: str = eqx.field(static=True, default="continuous")
    feedback: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        for name in ("sigma_pre", "sigma_post"):
            check_nonnegative(name, getattr(self, name))
        check_choice("noise convention", self.convention, CONVENTIONS)

    @property
    def active(self) -> bool:
        """Whether any noise is on (`sigma_pre > 0` or `sigma_post > 0`)."""
        return self.sigma_pre > 0 or self.sigma_post > 0

    def config(self) -> dict[str, Any]:
        """The settings as JSON (for a model's `config()`).

        **Returns:** `{"sigma_pre", "sigma_post", "convention", "feedback"}`.
        """
        return {
            "sigma_pre": float(self.sigma_pre),
            "sigma_post": float(self.sigma_post),
            "convention": self.convention,
            "feedback": bool(self.feedback),
        }


def make_noise(noise: Any) -> Noise:
    """The noise settings a model constructor was given.

    **Arguments:**

    - `noise`: `None` (no noise), a `Noise`, or a dict of its arguments.

    **Returns:** a `Noise`.

    **Raises:** `InputError` for another type, an unknown key or a bad setting.
    """
    if noise is None:
        return Noise()
    if isinstance(noise, Noise):
        return noise
    if isinstance(noise, dict):
        check_keys("noise", noise, ("sigma_pre", "sigma_post", "convention", "feedback"))
        return Noise(**noise)
    raise InputError(f"noise: got {type(noise).__name__}, expected None, a Noise or a dict")
