"""Model registry: every architecture emgcore can train, save and load.

``MODELS`` maps a registry name to its class; checkpoints store the name and the
class's ``get_config()``, and :func:`build_model` rebuilds the network.
"""

from __future__ import annotations

from typing import Any

from emgcore._validation import _check_option
from emgcore.models.allconvnet import AllConvNet
from emgcore.models.base import EmgModel, count_parameters
from emgcore.models.cnn_tcn import CnnTcn
from emgcore.models.feature_linear import FeatureLinear

MODELS: dict[str, type[EmgModel]] = {
    "cnn_tcn": CnnTcn,
    "allconvnet": AllConvNet,
    "feature_linear": FeatureLinear,
}


def build_model(name: str, **kwargs: Any) -> EmgModel:
    """Build a registered model.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS` (``"cnn_tcn"``, ``"allconvnet"``).
    **kwargs
        Keyword arguments of the model class (``n_chans``, ``n_times``,
        ``n_outputs``, ``sfreq`` and its own hyperparameters).

    Returns
    -------
    model : EmgModel
        Freshly initialised; seed the RNG first (``emgcore.train.set_seeds``) for
        reproducible weights.

    Raises
    ------
    ValueError
        If ``name`` is not registered.
    """
    _check_option("name", name, MODELS)
    return MODELS[name](**kwargs)


def model_name_of(model: EmgModel) -> str:
    """Registry name of ``model``'s class; ValueError if it is not registered."""
    for name, cls in MODELS.items():
        if type(model) is cls:
            return name
    raise ValueError(
        f"{type(model).__name__} is not in the model registry ({', '.join(MODELS)})."
    )


__all__ = [
    "MODELS",
    "AllConvNet",
    "CnnTcn",
    "EmgModel",
    "FeatureLinear",
    "build_model",
    "count_parameters",
    "model_name_of",
]
