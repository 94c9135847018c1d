"""Per-site standardisation of the window features (site harmonisation).

The same features tell the two sites apart with balanced accuracy 0.96
(docs/results/confounds.md): equipment, filters and population move every
feature's level. Standardising each feature within its site (subtract the
site's mean, divide by its spread, over windows) removes those offsets before
the classifier sees them, so it has to learn disease, not site.

Where the statistics come from decides what a figure means:

- a site that has TRAINING people (the headline protocol, N2001
  leave-one-out) takes its statistics from those people's windows only; test
  people never contribute;
- a site with no training people (cross-site) takes them from the windows of
  the recordings about to be classified, unlabelled: the site's own
  distribution, as a laboratory would collect it from a batch of its
  recordings before use. No label is read, but the test recordings are seen,
  so cross-site figures made this way are unsupervised adaptation to the new
  site, and reported as such.

Statistics depend on the site's mix of classes; a site whose patients are
mostly of one class would shift them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from studies.feature_methods import _clean
from studies.window_linear import WindowTable

Stats = dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]


def _moments(rows: list[NDArray]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # The app's site calibration computes the same statistics; one definition.
    from emgcore.site_calibration import moments

    return moments(rows)


def site_stats(table: WindowTable, records: Any) -> Stats:
    """Per-site window means and spreads of ``records`` (the training people)."""
    by_site: dict[str, list[NDArray]] = {}
    for r in records:
        rows = table.rows_for(r)
        if len(rows):
            by_site.setdefault(r.site, []).append(rows)
    return {site: _moments(rows) for site, rows in sorted(by_site.items())}


class SiteNormTable(WindowTable):
    """A :class:`WindowTable` whose rows are standardised within their site."""

    def __init__(self, base: WindowTable, stats: Stats):
        super().__init__(base.window_s, base.sub_window_s, base.X, base.records)
        self.base = base
        self.stats: Stats = dict(stats)
        #: Sites whose statistics came from the (unlabelled) records predicted.
        self.adapted: list[str] = []

    def adapt(self, records: Any) -> None:
        unseen = sorted({r.site for r in records} - set(self.stats))
        for site in unseen:
            rows = [self.base.rows_for(r) for r in records if r.site == site]
            self.stats[site] = _moments([x for x in rows if len(x)])
            self.adapted.append(site)

    def rows_for(self, record: Any) -> NDArray[np.float64]:
        mean, spread = self.stats[record.site]
        return (_clean(self.base.rows_for(record)) - mean) / spread


def row_stats(X: NDArray[np.float64], sites: NDArray[np.str_]) -> Stats:
    """Per-site means and spreads of feature rows (one row per record)."""
    return {s: _moments([X[sites == s]]) for s in sorted(set(sites.tolist()))}


def standardise_rows(
    X: NDArray[np.float64], sites: NDArray[np.str_], stats: Stats
) -> tuple[NDArray[np.float64], list[str]]:
    """Rows standardised within their site, and the sites adapted from ``X``.

    A site missing from ``stats`` (no training people) takes its statistics from
    its own rows here, unlabelled (see the module docstring).
    """
    stats = dict(stats)
    adapted = sorted(set(sites.tolist()) - set(stats))
    for s in adapted:
        stats[s] = _moments([X[sites == s]])
    out = np.array(X, dtype=np.float64)
    for s in set(sites.tolist()):
        mean, spread = stats[s]
        out[sites == s] = (_clean(X[sites == s]) - mean) / spread
    return out, adapted
