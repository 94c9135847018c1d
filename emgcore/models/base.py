"""Shared signal arguments and configuration for every emgcore model.

Models take the shape of the signal they read as keyword-only arguments
(``n_chans``, ``n_times``, ``n_outputs``, ``sfreq``) and can return them, with
their own hyperparameters, from :meth:`EmgModel.get_config`, so a checkpoint
can rebuild the same network (as braindecode's ``EEGModuleMixin`` does).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from torch import nn

from emgcore._validation import MAX_CHANNELS, _check_sfreq
from emgcore.errors import InvalidRecordingError


def _check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value != int(value)
    ):
        raise ValueError(f"'{name}' must be an integer, got {value!r}.")
    if int(value) < minimum:
        raise ValueError(f"'{name}' must be at least {minimum}, got {value!r}.")
    return int(value)


def _check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1)."""
    value = float(value)
    if not (0.0 <= value < 1.0):
        raise ValueError(f"'{name}' must be in [0, 1), got {value!r}.")
    return value


class EmgModel(nn.Module):
    """Base class holding the signal arguments of a model.

    Parameters
    ----------
    n_chans : int
        Number of input channels (for image models: the image height).
    n_times : int
        Number of time samples per input window the model is built for (for
        image models: the image width). Models with global pooling accept
        other lengths too, down to :attr:`min_n_times`.
    n_outputs : int
        Number of classes of the primary head (logits returned by ``forward``).
    sfreq : float
        Sampling rate in Hz of the windows the model is trained on. It does not
        change the network; it is stored so that a checkpoint says what input
        rate the weights expect.

    Notes
    -----
    Subclasses call ``super().__init__(...)`` with the signal arguments and then
    :meth:`_set_hparams` with their own hyperparameters; :meth:`get_config` returns
    both, and ``cls(**model.get_config())`` rebuilds the same architecture.
    """

    #: Registry name; set by each subclass.
    model_name: ClassVar[str] = ""
    #: Shortest input (samples along the last axis) the model accepts.
    min_n_times: ClassVar[int] = 1

    def __init__(self, *, n_chans: int, n_times: int, n_outputs: int, sfreq: float):
        super().__init__()
        n_chans = _check_positive_int("n_chans", n_chans)
        if n_chans > MAX_CHANNELS:
            raise ValueError(
                f"'n_chans' is {n_chans}, more than the {MAX_CHANNELS} supported."
            )
        n_times = _check_positive_int("n_times", n_times, minimum=self.min_n_times)
        n_outputs = _check_positive_int("n_outputs", n_outputs, minimum=2)
        self.n_chans = n_chans
        self.n_times = n_times
        self.n_outputs = n_outputs
        self.sfreq = _check_sfreq(sfreq, what="model")
        self._hparams: dict[str, Any] = {}

    def _set_hparams(self, **hparams: Any) -> None:
        """Record the model's own init kwargs (JSON-like values only)."""
        self._hparams = dict(hparams)

    def get_config(self) -> dict[str, Any]:
        """Return the keyword arguments that rebuild this architecture.

        Returns
        -------
        config : dict
            ``n_chans``, ``n_times``, ``n_outputs``, ``sfreq`` and the model's own
            hyperparameters; JSON-serialisable.
        """
        return {
            "n_chans": self.n_chans,
            "n_times": self.n_times,
            "n_outputs": self.n_outputs,
            "sfreq": self.sfreq,
            **self._hparams,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> EmgModel:
        """Build a model from :meth:`get_config` output."""
        return cls(**config)

    # -- transfer learning -------------------------------------------------------
    def encoder_modules(self) -> list[nn.Module]:
        """Modules frozen during the first phase of gradual unfreezing."""
        raise NotImplementedError(f"{type(self).__name__} defines no encoder.")

    def encoder_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters of :meth:`encoder_modules` (frozen first when fine-tuning)."""
        for module in self.encoder_modules():
            yield from module.parameters()

    def head_parameters(self) -> Iterator[nn.Parameter]:
        """Every parameter that is not in :meth:`encoder_parameters`."""
        encoder_ids = {id(p) for p in self.encoder_parameters()}
        for p in self.parameters():
            if id(p) not in encoder_ids:
                yield p

    # -- input checks --------------------------------------------------------------
    def _check_input(self, x: torch.Tensor, *, n_dims: int = 3) -> None:
        """Raise InvalidRecordingError if ``x`` does not fit the model."""
        if x.ndim != n_dims:
            raise InvalidRecordingError(
                f"{type(self).__name__} expects a batch shaped "
                f"{self._input_shape_text()}, got shape {tuple(x.shape)}."
            )
        if x.shape[-2] != self.n_chans:
            raise InvalidRecordingError(
                f"{type(self).__name__} was built for {self.n_chans} channels "
                f"(rows), got {x.shape[-2]}."
            )
        if x.shape[-1] < self.min_n_times:
            raise InvalidRecordingError(
                f"Input of {x.shape[-1]} samples is shorter than the "
                f"{self.min_n_times} samples {type(self).__name__} needs."
            )

    def _input_shape_text(self) -> str:
        return "(batch, n_chans, n_times)"


def count_parameters(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters in ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        Any module.
    trainable_only : bool
        Count only parameters with ``requires_grad``.

    Returns
    -------
    n : int
    """
    return sum(
        p.numel() for p in model.parameters() if p.requires_grad or not trainable_only
    )
