"""CNN-TCN encoder with disease and movement heads (Tamene, 2025)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from emgcore._validation import _check_option
from emgcore.models.base import EmgModel, _check_positive_int, _check_probability

Head = Literal["disease", "movement"]
HEADS: tuple[str, ...] = ("disease", "movement")


class CnnTcn(EmgModel):
    """The EMGEncoder of the CNN-TCN transfer-learning paper, with two task heads.

    A hybrid 1-D CNN and temporal convolutional network (TCN) for windows of
    multi-channel EMG, pretrained on gesture data (movement head) and fine-tuned
    for neuromuscular disease classification (disease head) [1]_.

    Architecture, for an input of shape (batch, n_chans, n_times):

    1. Three conv blocks ``n_chans -> 64 -> 128 -> 256`` channels, kernels 7, 5, 3,
       stride 2, "same" padding (``kernel // 2``); each Conv1d -> BatchNorm1d ->
       ReLU -> Dropout(``drop_prob``). Time length ``L -> ceil(L / 2)`` per block.
    2. Three TCN layers at 256 channels with dilation ``2**i`` (1, 2, 4): each one
       dilated Conv1d (kernel 3, padding = dilation, so the length is kept) ->
       BatchNorm1d -> ReLU -> Dropout, without a residual connection.
    3. Global average and global max pooling over time, concatenated (512).
    4. Embedding: Linear(512, 512) -> ReLU -> Dropout -> Linear(512, 128) -> ReLU,
       the 128-d embedding of :meth:`embed`.
    5. Heads: disease Linear(128, 128) -> ReLU -> Dropout -> Linear(128, n_outputs);
       movement Linear(128, 256) -> ReLU -> Dropout ->
       Linear(256, n_movement_outputs).

    Why this configuration: the paper gives the block widths, kernels, strides,
    dilations, pooling, the 128-d embedding, the head sizes (52 movement classes,
    3 disease classes) and a total of 1,129,719 parameters, but not the inner
    sizes of the TCN, embedding and heads. A single dilated conv + batch norm per
    TCN layer, no residual (a 1x1 residual projection would add parameters), an
    embedding 512 -> 512 -> 128 and heads 128 -> 128 -> 3 and 128 -> 256 -> 52 is
    the simple configuration that adds up to exactly 1,129,719 with 12 input
    channels (checked in ``tests/emgcore/test_models.py``). Padding, activation
    placement and non-causal (centred) dilated convolutions are our choices; they
    do not change the parameter count. With global pooling the network accepts
    any window of at least :attr:`min_n_times` samples.

    Parameters
    ----------
    n_chans : int
        Input channels (12 in the paper; single-channel needle EMG is replicated).
    n_times : int
        Samples per window the model is trained on (1000 = 1 s at 1 kHz in the
        paper). Other lengths >= ``min_n_times`` are accepted.
    n_outputs : int
        Classes of the disease head (3: healthy, myopathy, neuropathy).
    sfreq : float
        Sampling rate in Hz of the input windows (recorded, not used).
    n_movement_outputs : int
        Classes of the movement (pretraining) head. 52 in the paper.
    drop_prob : float
        Dropout probability used after every block. 0.2 in the paper.

    References
    ----------
    .. [1] N. Tamene, "Transfer Learning for Electromyography-Based Neuromuscular
       Disease Classification: Bridging Movement Recognition to Clinical
       Diagnosis", 2025.
    """

    model_name = "cnn_tcn"
    #: Three stride-2 blocks bring 8 samples down to 1.
    min_n_times = 8

    conv_channels: tuple[int, int, int] = (64, 128, 256)
    conv_kernels: tuple[int, int, int] = (7, 5, 3)
    n_tcn_layers = 3
    embedding_dim = 128

    def __init__(
        self,
        *,
        n_chans: int = 12,
        n_times: int = 1000,
        n_outputs: int = 3,
        sfreq: float = 1000.0,
        n_movement_outputs: int = 52,
        drop_prob: float = 0.2,
    ):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_outputs=n_outputs, sfreq=sfreq
        )
        n_movement_outputs = _check_positive_int(
            "n_movement_outputs", n_movement_outputs, minimum=2
        )
        drop_prob = _check_probability("drop_prob", drop_prob)
        self.n_movement_outputs = n_movement_outputs
        self._set_hparams(n_movement_outputs=n_movement_outputs, drop_prob=drop_prob)

        blocks: list[nn.Module] = []
        in_ch = self.n_chans
        for out_ch, k in zip(self.conv_channels, self.conv_kernels, strict=True):
            blocks.append(
                nn.Sequential(
                    nn.Conv1d(in_ch, out_ch, k, stride=2, padding=k // 2),
                    nn.BatchNorm1d(out_ch),
                    nn.ReLU(),
                    nn.Dropout(drop_prob),
                )
            )
            in_ch = out_ch
        self.conv = nn.Sequential(*blocks)

        width = self.conv_channels[-1]
        self.tcn = nn.Sequential(
            *(
                nn.Sequential(
                    nn.Conv1d(width, width, 3, dilation=2**i, padding=2**i),
                    nn.BatchNorm1d(width),
                    nn.ReLU(),
                    nn.Dropout(drop_prob),
                )
                for i in range(self.n_tcn_layers)
            )
        )
        self.embedding = nn.Sequential(
            nn.Linear(2 * width, 512),
            nn.ReLU(),
            nn.Dropout(drop_prob),
            nn.Linear(512, self.embedding_dim),
            nn.ReLU(),
        )
        self.disease_head = nn.Sequential(
            nn.Linear(self.embedding_dim, 128),
            nn.ReLU(),
            nn.Dropout(drop_prob),
            nn.Linear(128, self.n_outputs),
        )
        self.movement_head = nn.Sequential(
            nn.Linear(self.embedding_dim, 256),
            nn.ReLU(),
            nn.Dropout(drop_prob),
            nn.Linear(256, self.n_movement_outputs),
        )

    def encoder_modules(self) -> list[nn.Module]:
        """The conv blocks and the TCN (frozen first during gradual unfreezing)."""
        return [self.conv, self.tcn]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Return the 128-d embedding.

        Parameters
        ----------
        x : Tensor, shape (batch, n_chans, n_times)
            EMG windows (z-scored).

        Returns
        -------
        embedding : Tensor, shape (batch, 128)
        """
        self._check_input(x)
        h = self.tcn(self.conv(x))
        pooled = torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)
        return self.embedding(pooled)

    def forward(self, x: torch.Tensor, head: Head = "disease") -> torch.Tensor:
        """Return the logits of one head.

        Parameters
        ----------
        x : Tensor, shape (batch, n_chans, n_times)
            EMG windows.
        head : {"disease", "movement"}
            ``"disease"`` (the primary head, ``n_outputs`` logits) or
            ``"movement"`` (pretraining head, ``n_movement_outputs`` logits).

        Returns
        -------
        logits : Tensor, shape (batch, n_outputs) or (batch, n_movement_outputs)
        """
        _check_option("head", head, HEADS)
        z = self.embed(x)
        if head == "movement":
            return self.movement_head(z)
        return self.disease_head(z)
