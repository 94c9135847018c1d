"""The CNN-TCN paper's evaluation protocols of the disease model.

Three protocols, each run over seeds and methods by :func:`run_protocol`
(what to run: one :class:`ProtocolRun`):

1. ``paper``: the paper's random 80/20 window split of the three emgdb
   recordings, early stopping on the same 20 % it reports (leaky twice: the
   overlapping windows of one recording fall on both sides, and the test set
   picks the epoch);
2. ``blocked``: contiguous, gapped time blocks of each emgdb recording for
   train / validation / test (no raw sample in two sets; still one person per
   class, so it measures recording identity as much as disease);
3. ``n2001_loso``: leave-one-subject-out on EMGLAB N2001 at recording level,
   the protocol that tells disease from recording identity.

Every run writes one JSON file, so an interrupted experiment resumes where it
stopped (:func:`run_protocol` skips runs whose file exists). The model, its
pretraining and one split's fine-tuning are runtime code in
:mod:`emgcore.disease`; :mod:`studies.disease_report` summarises the runs.
"""

from __future__ import annotations

from studies.disease_paper.protocols import (
    ProtocolRun,
    load_protocol_data,
    protocol_splits,
    run_protocol,
)

__all__ = ["ProtocolRun", "load_protocol_data", "protocol_splits", "run_protocol"]
