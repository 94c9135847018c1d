"""The two clinical needle-EMG collections as a list of records (no windows).

``emglab-n2001-wfdb/`` (EMGlab N2001 with its WFDB headers, 18 people, 23437.5 Hz)
and ``needle-emg-mendeley/`` (Mendeley 10.17632/543xpjycj9.1, 190 people,
32768 Hz) are described by their PROVENANCE.md and MANIFEST.csv; this module reads
the manifests into :class:`ClinicalRecord` rows and loads samples in microvolts.

What is handled here, once, so that no study or model meets it again:

- **Ids never collide across sites.** Subjects are ``"n2001:A01"``,
  ``"mendeley:Hea_01"``; recording ids ``"n2001:N2001A01BB01"``, ...
- **Invalid samples.** WFDB format 16 marks an invalid sample with -32768 (wfdb
  reads it as NaN). Such samples, and the clipped value +32767, are never handed
  out: the stretch around them is cut and only valid stretches remain
  (:meth:`ClinicalRecord.load_segments`). Only N2001M02BB61 (a 5643-sample
  blank) and the A08 tails have any.
- **A08's identical clipped tail** (a person marker, PROVENANCE.md): the last
  1.0 s of every A08 record is trimmed. PROVENANCE suggests ~0.5 s, but
  BB05 and BB07 share their last 14,099 samples (0.60 s) and BB01/BB03 their
  last 11,412; after a 1.0 s trim no two A08 records share a run of more than
  5 equal samples at the same position (checked by a test).
- **A06BB08 is nearly flat** (one value in 261,062 of 262,124 samples): it is
  listed with its exclusion reason and left out unless asked for.
- **The old ``emglab-n2001/`` folder** holds 21 byte-identical copies of records
  here; :func:`map_old_n2001` finds them by the sha256 of their samples so that no
  recording is ever counted twice. Studies use the WFDB folder only.
- **Equal length per site**: every Mendeley record has 163,840 samples, every
  N2001 record 262,124 (checked on load), so length cannot leak a class.

Amplitudes stay in microvolts: no per-recording scaling happens here.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from emgcore.datasets.base import DISEASE_CLASSES, DatasetError

#: Site name -> (data sub-folder, sampling rate in Hz, gain in counts per uV,
#: data file suffix, samples per record).
SITES: dict[str, tuple[str, float, float, str, int]] = {
    "n2001": ("emglab-n2001-wfdb", 23437.5, 13.107, ".bin", 262124),
    "mendeley": ("needle-emg-mendeley", 32768.0, 1.28, ".dat", 163840),
}
#: Source class -> disease label (N2001: ALS -> neuropathy, control -> healthy).
SOURCE_CLASS_TO_LABEL: dict[str, str] = {
    "ALS": "neuropathy",
    "control": "healthy",
    "myopathy": "myopathy",
    "Healthy": "healthy",
    "Myopathy": "myopathy",
    "Neuropathy": "neuropathy",
}
#: Records left out of every study, with the reason (PROVENANCE.md, checked by a test).
EXCLUDED_RECORDS: dict[str, str] = {
    "n2001:N2001A06BB08": (
        "nearly flat: one value repeats for 261,062 of its 262,124 samples, so it "
        "holds about 0.05 s of EMG"
    ),
}
#: Seconds trimmed from the end of a subject's records (identical clipped tail).
TRIM_END_S: dict[str, float] = {"n2001:A08": 1.0}
#: Raw counts that are not signal: WFDB's invalid marker and the clip value.
INVALID_COUNTS: tuple[int, ...] = (-32768, 32767)
#: Samples cut on each side of an invalid sample (10 ms at 23.4 kHz), so that the
#: edges of a blanked stretch (filter ringing of the recorder) are not used either.
INVALID_GUARD_S = 0.01
#: Valid stretches shorter than this are dropped (too short for any analysis).
MIN_SEGMENT_S = 1.0


@dataclass(frozen=True)
class ClinicalRecord:
    """One needle-EMG recording of one muscle of one person.

    Parameters
    ----------
    site : {"n2001", "mendeley"}
    record : str
        Recording id, site-prefixed (``"n2001:N2001A01BB01"``); unique overall.
    name : str
        The WFDB record name in its folder (``"N2001A01BB01"``).
    subject : str
        Person id, site-prefixed (``"n2001:A01"``, ``"mendeley:Neu_53"``).
    source_class : str
        Class as the source spells it (``"ALS"``, ``"control"``, ``"Healthy"``...).
    label : str
        Disease class, one of :data:`~emgcore.datasets.base.DISEASE_CLASSES`.
    muscle, side : str
        Lower-case muscle (``"biceps brachii"``, ``"deltoid"``) and side.
    muscle_detail : str
        The muscle as the source gives it (N2001 names the head).
    age : int or None
        Years; None where the source gives none (Mendeley).
    sex, level, diagnosis : str or None
    fs : float
        Sampling rate in Hz.
    gain : float
        ADC counts per microvolt.
    n_samples : int
        Samples in the record per its header (before trimming).
    sha256 : str
        sha256 of the data file as MANIFEST.csv gives it (checked on load).
    path : str
        The data file.
    same_as_old : str or None
        The byte-identical file of the old ``emglab-n2001/`` folder, if any.
    trim_end_s : float
        Seconds removed from the end on load.
    exclusion : str or None
        Why the record is left out of studies (None: it is used).
    """

    site: str
    record: str
    name: str
    subject: str
    source_class: str
    label: str
    muscle: str
    side: str
    muscle_detail: str
    age: int | None
    sex: str | None
    level: str | None
    diagnosis: str | None
    fs: float
    gain: float
    n_samples: int
    sha256: str
    path: str
    same_as_old: str | None = None
    trim_end_s: float = 0.0
    exclusion: str | None = None

    @property
    def y(self) -> int:
        """Class index into :data:`DISEASE_CLASSES`."""
        return DISEASE_CLASSES.index(self.label)

    def counts(self) -> NDArray[np.int16]:
        """Raw int16 counts the header describes (no trimming), checked by sha256."""
        path = Path(self.path)
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != self.sha256:
            raise DatasetError(
                f"{path}: the file's sha256 {digest[:12]}... differs from the "
                f"manifest's {self.sha256[:12]}...; the data folder was changed."
            )
        # N2001: format 16+20 (10 words skipped); Mendeley: offset 0.
        offset = 20 if self.site == "n2001" else 0
        words = np.frombuffer(raw, dtype="<i2", offset=offset)
        if words.size < self.n_samples:
            raise DatasetError(
                f"{path}: {words.size} samples, the header says {self.n_samples}."
            )
        return words[: self.n_samples]

    def valid_segments(
        self, counts: NDArray[np.int16] | None = None
    ) -> list[tuple[int, int]]:
        """Half-open sample ranges free of invalid samples, after the end trim."""
        counts = self.counts() if counts is None else counts
        stop = self.n_samples - int(round(self.trim_end_s * self.fs))
        bad = np.flatnonzero(np.isin(counts[:stop], INVALID_COUNTS))
        guard = int(round(INVALID_GUARD_S * self.fs))
        segs: list[tuple[int, int]] = []
        lo = 0
        for i in bad:
            if i - guard > lo:
                segs.append((lo, int(i) - guard))
            lo = max(lo, int(i) + guard + 1)
        if lo < stop:
            segs.append((lo, stop))
        min_len = int(round(MIN_SEGMENT_S * self.fs))
        return [(a, b) for a, b in segs if b - a >= min_len]

    def load_segments(self) -> tuple[list[NDArray[np.float64]], float]:
        """Every valid stretch in microvolts, and the sampling rate in Hz."""
        counts = self.counts()
        segs = self.valid_segments(counts)
        return [counts[a:b].astype(np.float64) / self.gain for a, b in segs], self.fs

    def load(self) -> tuple[NDArray[np.float64], float]:
        """The samples in microvolts (1-D) and the sampling rate in Hz.

        The longest valid stretch: the whole record (less the A08 trim) for all
        records but N2001M02BB61, which keeps its 10 s before the blanked
        stretch. Never NaN, never a splice of two stretches.
        """
        parts, fs = self.load_segments()
        if not parts:
            raise DatasetError(f"{self.record}: no valid stretch of >= 1 s.")
        return max(parts, key=len), fs

    def samples_sha256(self) -> str:
        """sha256 of the sample words the header describes (identity of the data)."""
        return hashlib.sha256(self.counts().astype("<i2").tobytes()).hexdigest()


def _opt(value: str | None) -> str | None:
    return value if value not in (None, "") else None


def _site_records(root: Path, site: str) -> list[ClinicalRecord]:
    folder_name, fs, gain, suffix, n_expected = SITES[site]
    folder = root / folder_name
    manifest = folder / "MANIFEST.csv"
    if not manifest.is_file():
        from emgcore.errors import DataNotFoundError

        raise DataNotFoundError(
            f"{manifest} does not exist: the '{site}' collection is not in the data "
            "directory."
        )
    out = []
    with manifest.open(newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["record"]
            n = int(row["n_samples"])
            if n != n_expected:
                raise DatasetError(
                    f"{manifest}: {name} has {n} samples; every {site} record should "
                    f"have {n_expected} (equal lengths keep length from leaking class)."
                )
            subject = f"{site}:{row['subject']}"
            record = f"{site}:{name}"
            muscle_detail = row["muscle"]
            muscle = (
                "biceps brachii"
                if muscle_detail.lower().startswith("biceps")
                else muscle_detail.lower()
            )
            sha = row.get("sha256_bin") or row.get("sha256_dat") or ""
            out.append(
                ClinicalRecord(
                    site=site,
                    record=record,
                    name=name,
                    subject=subject,
                    source_class=row["class"],
                    label=SOURCE_CLASS_TO_LABEL[row["class"]],
                    muscle=muscle,
                    side=row["side"].lower(),
                    muscle_detail=muscle_detail,
                    age=int(row["age"]) if _opt(row.get("age")) else None,
                    sex=_opt(row.get("sex")),
                    level=_opt(row.get("level")),
                    diagnosis=_opt(row.get("diagnosis")),
                    fs=fs,
                    gain=gain,
                    n_samples=n,
                    sha256=sha,
                    path=str(folder / f"{name}{suffix}"),
                    same_as_old=_opt(row.get("same_as_old")),
                    trim_end_s=TRIM_END_S.get(subject, 0.0),
                    exclusion=EXCLUDED_RECORDS.get(record),
                )
            )
    if row_labels := {r.label for r in out} - set(DISEASE_CLASSES):
        raise DatasetError(f"{manifest}: unknown label(s) {sorted(row_labels)}.")
    return out


def clinical_records(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    sites: Iterable[str] = ("n2001", "mendeley"),
    include_excluded: bool = False,
) -> list[ClinicalRecord]:
    """Every record of the clinical collections, sorted by recording id.

    Parameters
    ----------
    data_dir : path-like, optional
        The data directory (see :func:`emgcore.datasets.data_dir`).
    sites : iterable of {"n2001", "mendeley"}
    include_excluded : bool
        Also return records listed in :data:`EXCLUDED_RECORDS` (their
        ``exclusion`` says why they are normally left out).

    Returns
    -------
    list of ClinicalRecord
    """
    from emgcore._validation import _check_option
    from emgcore.datasets import data_dir as resolve

    root = resolve(data_dir)
    out: list[ClinicalRecord] = []
    for site in sites:
        _check_option("site", site, SITES)
        out.extend(_site_records(root, site))
    if not include_excluded:
        out = [r for r in out if r.exclusion is None]
    return sorted(out, key=lambda r: r.record)


def map_old_n2001(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Old ``emglab-n2001/`` file name -> the WFDB record holding the same samples.

    The old folder's files have no header; its reader takes all 262,144 words,
    while the WFDB header reads words 10 to 262,133. A file is the same recording
    as a WFDB record when those 262,124 words are identical, compared by sha256.
    Files with no match are absent from the result.
    """
    from emgcore.datasets import data_dir as resolve

    root = resolve(data_dir)
    old = root / "emglab-n2001"
    n = SITES["n2001"][4]
    by_sha = {
        r.samples_sha256(): r.record
        for r in clinical_records(root, sites=("n2001",), include_excluded=True)
    }
    out = {}
    for path in sorted(old.glob("*.bin")):
        words = np.fromfile(path, dtype="<i2")[10 : 10 + n]
        digest = hashlib.sha256(words.astype("<i2").tobytes()).hexdigest()
        if digest in by_sha:
            out[path.name] = by_sha[digest]
    return out
