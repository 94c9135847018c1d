"""The evaluation protocols of the clinical disease study, as lists of people.

Every split is made on PEOPLE (``ClinicalRecord.subject``), never on records or
windows, and is a :class:`Split`: ``train`` (inner-train people, where models are
fitted), ``val`` (validation people, drawn from the training side, where every
choice is made: hyper-parameters, epochs, thresholds, calibration) and ``test``
(people nobody looked at). ``train``, ``val`` and ``test`` are disjoint.

Protocols
---------
- :func:`headline_folds`: subject-grouped 5-fold CV on the pooled sites,
  stratified by site x class, one repeat per seed; inside each outer fold a
  stratified share of the training people becomes the validation people.
- :func:`cross_site_splits`: train on one site, test on every person of the
  other, both directions; validation people from the training site.
- :func:`n2001_loso`: N2001 leave-one-subject-out (18 folds).

Stratified assignment is done here rather than with scikit-learn's
``StratifiedGroupKFold`` because each person has exactly one class and site: a
per-stratum shuffle dealt round-robin gives every fold both sites and all classes
(when a stratum has at least ``n_folds`` people), which is all that is needed,
and it is short enough to check by reading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Share of an outer fold's training people (per stratum) used as validation.
VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Split:
    """One train / validation / test division of people.

    Parameters
    ----------
    protocol : str
        ``"headline"``, ``"cross_site"`` or ``"n2001_loso"``.
    name : str
        Unique within the protocol and seed (``"fold3"``, ``"n2001_to_mendeley"``).
    seed : int
    train, val, test : tuple of str
        Sorted person ids; pairwise disjoint.
    """

    protocol: str
    name: str
    seed: int
    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]

    def __post_init__(self) -> None:
        a, b, c = set(self.train), set(self.val), set(self.test)
        if a & b or a & c or b & c:
            raise ValueError(
                f"{self.protocol}/{self.name}: train, val and test people overlap."
            )
        if not (a and b and c):
            raise ValueError(f"{self.protocol}/{self.name}: an empty part.")

    @property
    def unit(self) -> str:
        """File-name stem of this split's run unit: ``seed0_fold3``."""
        return f"seed{self.seed}_{self.name}"

    def part(self, records: Sequence[Any], which: str) -> list[Any]:
        """The records of the people of ``which`` (``"train"``, ``"val"``, ...)."""
        people = set(getattr(self, which))
        return [r for r in records if r.subject in people]

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "name": self.name,
            "seed": self.seed,
            "train": list(self.train),
            "val": list(self.val),
            "test": list(self.test),
        }


def people(records: Iterable[Any]) -> dict[str, tuple[str, str]]:
    """Person id -> (site, label), checking one site and class per person."""
    out: dict[str, tuple[str, str]] = {}
    for r in records:
        key = (r.site, r.label)
        if out.setdefault(r.subject, key) != key:
            raise ValueError(f"{r.subject} has records of two classes or sites.")
    return out


def _strata(persons: dict[str, tuple[str, str]], ids: Iterable[str]) -> dict:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in sorted(ids):
        groups[persons[p]].append(p)
    return groups


def _val_split(
    persons: dict[str, tuple[str, str]], ids: Iterable[str], rng: np.random.Generator
) -> tuple[list[str], list[str]]:
    """Stratified (inner-train, val): ``VAL_FRACTION`` of each stratum, >= 1."""
    train: list[str] = []
    val: list[str] = []
    for _, group in sorted(_strata(persons, ids).items()):
        order = list(rng.permutation(group))
        k = max(1, int(round(VAL_FRACTION * len(order)))) if len(order) > 1 else 0
        val += order[:k]
        train += order[k:]
    return sorted(train), sorted(val)


def headline_folds(records: Sequence[Any], seed: int, n_folds: int = 5) -> list[Split]:
    """Subject-grouped, site x class stratified ``n_folds``-fold CV (one seed).

    Parameters
    ----------
    records : sequence of ClinicalRecord
        The pooled records (both sites).
    seed : int
        Seeds the fold assignment and the validation draw.
    n_folds : int

    Returns
    -------
    list of Split
        ``n_folds`` splits; every person is in exactly one test set.
    """
    persons = people(records)
    rng = np.random.default_rng([seed, 15])
    fold_of: dict[str, int] = {}
    offset = 0
    for _, group in sorted(_strata(persons, persons).items()):
        order = rng.permutation(group)
        for i, p in enumerate(order):
            # Continue the round-robin across strata so fold sizes stay even.
            fold_of[str(p)] = (offset + i) % n_folds
        offset += len(order)
    splits = []
    for k in range(n_folds):
        test = sorted(p for p, f in fold_of.items() if f == k)
        rest = [p for p, f in fold_of.items() if f != k]
        train, val = _val_split(persons, rest, rng)
        splits.append(
            Split("headline", f"fold{k}", seed, tuple(train), tuple(val), tuple(test))
        )
    return splits


def cross_site_splits(records: Sequence[Any], seed: int = 0) -> list[Split]:
    """Train on one site, test on every person of the other (both directions)."""
    persons = people(records)
    rng = np.random.default_rng([seed, 16])
    out = []
    for src, dst in (("n2001", "mendeley"), ("mendeley", "n2001")):
        src_ids = [p for p, (site, _) in persons.items() if site == src]
        test = sorted(p for p, (site, _) in persons.items() if site == dst)
        train, val = _val_split(persons, src_ids, rng)
        out.append(
            Split(
                "cross_site",
                f"{src}_to_{dst}",
                seed,
                tuple(train),
                tuple(val),
                tuple(test),
            )
        )
    return out


def n2001_loso(records: Sequence[Any], seed: int = 0) -> list[Split]:
    """N2001 leave-one-subject-out: one split per N2001 person (18)."""
    persons = {p: v for p, v in people(records).items() if v[0] == "n2001"}
    rng = np.random.default_rng([seed, 17])
    out = []
    for p in sorted(persons):
        rest = [q for q in persons if q != p]
        train, val = _val_split(persons, rest, rng)
        name = "loso_" + p.split(":", 1)[1]
        out.append(Split("n2001_loso", name, seed, tuple(train), tuple(val), (p,)))
    return out


#: Protocol name -> function(records, seed) -> list of Split.
PROTOCOLS = {
    "headline": headline_folds,
    "cross_site": cross_site_splits,
    "n2001_loso": n2001_loso,
}
#: Seeds each protocol is run with (the headline repeats; the others are one
#: fixed division, where the seed only draws the validation people).
PROTOCOL_SEEDS: dict[str, tuple[int, ...]] = {
    "headline": (0, 1, 2),
    "cross_site": (0,),
    "n2001_loso": (0,),
}


def splits_for(protocol: str, records: Sequence[Any], seed: int) -> list[Split]:
    """The splits of ``protocol`` for one seed."""
    if protocol not in PROTOCOLS:
        raise ValueError(
            f"Unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}."
        )
    return PROTOCOLS[protocol](records, seed)
