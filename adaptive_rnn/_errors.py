"""Errors raised by adaptive_rnn. Each names what was received and what was expected."""

from typing import Any


class AdaptiveRNNError(Exception):
    """Base class of the library's errors."""


class InputError(AdaptiveRNNError, ValueError):
    """An argument (array, option) with the wrong shape, type or value."""


class UnstableStepError(AdaptiveRNNError, ValueError):
    """An explicit-Euler step too large for the model's time constants."""


class SolverError(AdaptiveRNNError, RuntimeError):
    """A differential-equation solve that did not reach its end time."""


class CheckpointError(AdaptiveRNNError, OSError):
    """A saved model or checkpoint that is missing, truncated, tampered with or of the
    wrong kind."""


class TrainingError(AdaptiveRNNError, RuntimeError):
    """Training that had to stop (a non-finite loss, for example)."""

    # Set by `fit` (a `FitResult`; typed loosely, the training layer sits above this one).
    result: Any
