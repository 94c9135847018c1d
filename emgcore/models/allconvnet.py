"""Lightweight All-ConvNet for sEMG images (Islam et al., 2023)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn

from emgcore.models.base import EmgModel, _check_positive_int, _check_probability


class AllConvNet(EmgModel):
    """All-convolutional network for gesture recognition from sEMG images.

    The lightweight All-ConvNet of Islam et al. [1]_, after the All-CNN of
    Springenberg et al. [2]_: only convolutions, ELU activations, stride-2
    convolutions instead of pooling, a 1x1 convolution and global average
    pooling, with no fully connected layer. Input images are HD-sEMG frames
    (e.g. 8x16 electrodes) or sparse multi-channel windows laid out as
    channels x time samples.

    Layers (``w1 = widths[0]``, ``w2 = widths[1]``), all 3x3 convs with padding 1:

    ==  ==========================================  ======
    #   layer                                       stride
    ==  ==========================================  ======
    1   conv3x3 1 -> w1, ELU                        1
    2   conv3x3 w1 -> w1, ELU                       1
    3   conv3x3 w1 -> w1, ELU, dropout (subsample)  2
    4   conv3x3 w1 -> w2, ELU                       1
    5   conv3x3 w2 -> w2, ELU                       1
    6   conv3x3 w2 -> w2, ELU, dropout (subsample)  2
    7   conv1x1 w2 -> w2, ELU                       1
    8   conv1x1 w2 -> n_outputs                     1
    ==  ==========================================  ======

    then global average pooling gives the logits. The paper states about 0.46 M
    parameters for an 8x16 image and 8 classes but not the layer widths; the
    All-CNN-C layout above without its last 3x3 conv, at widths 64/128, has
    461,064 parameters for 8 classes (the count does not depend on the image
    size), so those are the defaults. Padding keeps every layer valid for tiny
    image heights (1 or 2 rows, e.g. 2-channel recordings).

    "Freeze the first three conv layers" (the paper's transfer learning) is
    :meth:`frozen_prefix_parameters` with ``n_layers=3``, which is also what
    :meth:`encoder_parameters` returns for the generic gradual-unfreezing loop.

    Parameters
    ----------
    n_chans : int
        Image height: electrode rows, or channels of a channels x time image.
    n_times : int
        Image width: electrode columns, or samples of a channels x time image.
        Other widths are accepted (global pooling).
    n_outputs : int
        Number of gesture classes.
    sfreq : float
        Frame (sampling) rate in Hz of the data the images come from (recorded,
        not used by the network).
    widths : tuple of int
        Channels ``(w1, w2)`` of the two stages.
    drop_prob : float
        Dropout after each subsampling conv.
    n_frozen_layers : int
        Number of leading conv layers returned by :meth:`encoder_parameters`.

    References
    ----------
    .. [1] M. R. Islam, D. Massicotte, P. Y. Massicotte, W.-P. Zhu, "Surface
       EMG-Based Inter-Session/Inter-Subject Gesture Recognition by Leveraging
       Lightweight All-ConvNet and Transfer Learning", arXiv:2305.08014, 2023.
    .. [2] J. T. Springenberg et al., "Striving for Simplicity: The All
       Convolutional Net", ICLR workshop, 2015.
    """

    model_name = "allconvnet"

    def __init__(
        self,
        *,
        n_chans: int = 8,
        n_times: int = 16,
        n_outputs: int = 8,
        sfreq: float = 1000.0,
        widths: tuple[int, int] | list[int] = (64, 128),
        drop_prob: float = 0.2,
        n_frozen_layers: int = 3,
    ):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_outputs=n_outputs, sfreq=sfreq
        )
        if len(widths) != 2:
            raise ValueError(f"'widths' must hold two integers, got {widths!r}.")
        w1, w2 = (_check_positive_int("widths", w) for w in widths)
        drop_prob = _check_probability("drop_prob", drop_prob)
        n_frozen_layers = _check_positive_int(
            "n_frozen_layers", n_frozen_layers, minimum=0
        )
        if n_frozen_layers > 8:
            raise ValueError(
                f"'n_frozen_layers' must be at most 8, got {n_frozen_layers}."
            )
        self.n_frozen_layers = n_frozen_layers
        self._set_hparams(
            widths=[w1, w2], drop_prob=drop_prob, n_frozen_layers=n_frozen_layers
        )

        def conv(c_in: int, c_out: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
            return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2)

        self.convs = nn.ModuleList(
            [
                conv(1, w1),
                conv(w1, w1),
                conv(w1, w1, stride=2),
                conv(w1, w2),
                conv(w2, w2),
                conv(w2, w2, stride=2),
                conv(w2, w2, k=1),
                conv(w2, self.n_outputs, k=1),
            ]
        )
        self.act = nn.ELU()
        self.dropout = nn.Dropout(drop_prob)
        self._dropout_after = {2, 5}

    def frozen_prefix_parameters(self, n_layers: int = 3) -> Iterator[nn.Parameter]:
        """Parameters of the first ``n_layers`` conv layers (1 to 8)."""
        n_layers = _check_positive_int("n_layers", n_layers, minimum=0)
        if n_layers > len(self.convs):
            raise ValueError(
                f"'n_layers' is {n_layers} but the network has {len(self.convs)} "
                "conv layers."
            )
        for layer in self.convs[:n_layers]:
            yield from layer.parameters()

    def encoder_modules(self) -> list[nn.Module]:
        """The first ``n_frozen_layers`` conv layers."""
        return list(self.convs[: self.n_frozen_layers])

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.unsqueeze(1)
        self._check_input(x, n_dims=4)
        if x.shape[1] != 1:
            raise ValueError(
                f"AllConvNet expects one image plane, got {x.shape[1]} in shape "
                f"{tuple(x.shape)}."
            )
        return x

    def _input_shape_text(self) -> str:
        return "(batch, 1, n_chans, n_times) or (batch, n_chans, n_times)"

    def feature_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Class maps before global pooling, shape (batch, n_outputs, h, w)."""
        h = self._prepare(x)
        last = len(self.convs) - 1
        for i, layer in enumerate(self.convs):
            h = layer(h)
            if i < last:
                h = self.act(h)
            if i in self._dropout_after:
                h = self.dropout(h)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return class logits.

        Parameters
        ----------
        x : Tensor, shape (batch, 1, n_chans, n_times) or (batch, n_chans, n_times)
            sEMG images.

        Returns
        -------
        logits : Tensor, shape (batch, n_outputs)
        """
        return self.feature_maps(x).mean(dim=(-2, -1))
