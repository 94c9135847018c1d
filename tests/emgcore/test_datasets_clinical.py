"""The clinical needle-EMG adapters (N2001 WFDB + Mendeley) on the real data."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from emgcore.datasets import load_dataset
from emgcore.datasets.base import DatasetError
from emgcore.datasets.clinical import (
    EXCLUDED_RECORDS,
    clinical_records,
    map_old_n2001,
)
from emgcore.datasets.clinical_windows import load_clinical


@pytest.fixture(scope="module")
def records(data_dir: Path):
    return clinical_records(data_dir, include_excluded=True)


def test_it_lists_every_record_of_both_sites_with_prefixed_ids(records) -> None:
    by = Counter((r.site, r.label) for r in records)
    # PROVENANCE.md tables: N2001 43 ALS / 56 control / 40 myopathy records,
    # Mendeley 160 healthy / 78 myopathy / 79 neuropathy records.
    assert by == {
        ("n2001", "neuropathy"): 43,
        ("n2001", "healthy"): 56,
        ("n2001", "myopathy"): 40,
        ("mendeley", "healthy"): 160,
        ("mendeley", "myopathy"): 78,
        ("mendeley", "neuropathy"): 79,
    }
    subjects = {r.subject for r in records}
    assert len(subjects) == 18 + 190
    assert all(s.split(":")[0] in ("n2001", "mendeley") for s in subjects)
    assert len({r.record for r in records}) == len(records)
    # One person, one class and one site.
    for s in subjects:
        assert len({(r.label, r.site) for r in records if r.subject == s}) == 1
    a01 = next(r for r in records if r.record == "n2001:N2001A01BB01")
    assert (a01.label, a01.source_class, a01.age, a01.sex, a01.side) == (
        "neuropathy",
        "ALS",
        56,
        "M",
        "left",
    )
    assert a01.muscle == "biceps brachii" and a01.level == "low"
    assert a01.fs == 23437.5
    hea = next(r for r in records if r.record == "mendeley:HEA01_RD_001")
    assert (hea.label, hea.muscle, hea.side, hea.age, hea.fs) == (
        "healthy",
        "deltoid",
        "right",
        None,
        32768.0,
    )


def test_it_loads_microvolts_that_match_wfdb_and_never_nan(records) -> None:
    import wfdb

    for name in ("n2001:N2001C01BB51", "mendeley:NEU89_RB_396"):
        rec = next(r for r in records if r.record == name)
        x, fs = rec.load()
        ref = wfdb.rdrecord(str(Path(rec.path).with_suffix("")))
        assert fs == ref.fs
        np.testing.assert_allclose(x, ref.p_signal[:, 0], atol=1e-4)
        assert ref.units == ["uV"]
    # The records with invalid samples: wfdb gives NaN, we never do.
    for name in ("n2001:N2001M02BB61", "n2001:N2001A08BB01"):
        rec = next(r for r in records if r.record == name)
        ref = wfdb.rdrecord(str(Path(rec.path).with_suffix("")))
        assert np.isnan(ref.p_signal).any()
        x, _ = rec.load()
        assert np.isfinite(x).all()
        assert not np.isin(np.round(x * rec.gain), (-32768, 32767)).any()


def test_it_trims_the_a08_tail_and_cuts_the_m02bb61_blank(records) -> None:
    a08 = [r for r in records if r.subject == "n2001:A08"]
    assert len(a08) == 8
    raw = [r.counts() for r in a08]
    # Untrimmed, the last 4984 samples are identical in every A08 record.
    assert all(np.array_equal(c[-4984:], raw[0][-4984:]) for c in raw)
    loaded = []
    for r in a08:
        x, fs = r.load()
        assert len(x) == r.n_samples - round(1.0 * fs)
        loaded.append(x)
    # Trimmed, no two A08 records share a run of > 5 equal samples in place
    # (runs of 2-3 happen by chance on a quiet baseline).
    for i, a in enumerate(loaded):
        for b in loaded[i + 1 :]:
            eq = np.concatenate([[0], (a == b).astype(np.int8), [0]])
            edges = np.flatnonzero(np.diff(eq))
            assert (np.diff(edges)[::2].max() if edges.size else 0) <= 5
    m02 = next(r for r in records if r.record == "n2001:N2001M02BB61")
    segs = m02.valid_segments()
    counts = m02.counts()
    bad = np.flatnonzero(counts == -32768)
    assert bad.size == 5643
    for a, b in segs:
        assert not ((bad >= a) & (bad < b)).any()


def test_it_excludes_the_flat_a06bb08_with_its_reason(data_dir, records) -> None:
    flat = next(r for r in records if r.record == "n2001:N2001A06BB08")
    assert flat.exclusion == EXCLUDED_RECORDS["n2001:N2001A06BB08"]
    _, n = np.unique(flat.counts(), return_counts=True)
    assert n.max() == 261062
    used = clinical_records(data_dir)
    assert "n2001:N2001A06BB08" not in {r.record for r in used}
    assert len(used) == len(records) - 1


def test_it_keeps_record_lengths_equal_per_site(records) -> None:
    assert {r.n_samples for r in records if r.site == "mendeley"} == {163840}
    assert {r.n_samples for r in records if r.site == "n2001"} == {262124}
    for r in records[::40]:
        assert r.counts().size == r.n_samples


def test_it_checks_the_file_against_the_manifest_sha256(records, tmp_path) -> None:
    import dataclasses

    rec = records[0]
    copy = tmp_path / Path(rec.path).name
    raw = bytearray(Path(rec.path).read_bytes())
    raw[100] ^= 1
    copy.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match="sha256"):
        dataclasses.replace(rec, path=str(copy)).load()


def test_no_recording_is_counted_twice_across_the_two_n2001_folders(
    data_dir: Path, records
) -> None:
    # Sample identity: no two records of the study set hold the same samples.
    shas = [r.samples_sha256() for r in records]
    assert len(set(shas)) == len(shas)
    # The old folder's files that hold a WFDB record's samples are exactly the
    # manifest's same_as_old, and they are byte-identical files.
    mapping = map_old_n2001(data_dir)
    expected = {r.same_as_old: r.record for r in records if r.same_as_old is not None}
    assert len(expected) == 21
    assert mapping == expected
    for old, new in mapping.items():
        rec = next(r for r in records if r.record == new)
        old_sha = hashlib.sha256((data_dir / "emglab-n2001" / old).read_bytes())
        assert old_sha.hexdigest() == rec.sha256
    # The studies read the WFDB folder only.
    assert all("emglab-n2001-wfdb" in r.path for r in records if r.site == "n2001")
    # Old "VM" files found here are biceps records (PROVENANCE: ten mislabelled
    # VM files; the others are moderate-level or not among the kept 8 per person).
    vm = {k: v for k, v in mapping.items() if "VM" in k}
    mislabelled = {f"N2001C01VM{n}.bin" for n in (56, 71, 72, 73, 74)} | {
        f"N2001C03VM{n}.bin" for n in range(61, 66)
    }
    assert vm and set(vm) <= mislabelled
    assert all(v.split(":")[1] == k[:-4].replace("VM", "BB") for k, v in vm.items())
    with (data_dir / "emglab-n2001-wfdb" / "MANIFEST.csv").open() as fh:
        manifest = {row["record"]: row for row in csv.DictReader(fh)}
    assert all(manifest[v.split(":")[1]]["same_as_old"] == k for k, v in vm.items())


def test_it_windows_records_in_microvolts_with_their_metadata(data_dir) -> None:
    ws = load_clinical(
        data_dir, subjects=["n2001:M02", "mendeley:Hea_01"], cache_dir=False
    )
    assert set(ws.subjects) == {"n2001:M02", "mendeley:Hea_01"}
    assert ws.sfreq == 8000.0 and ws.n_times == 8000
    assert set(ws.extra["site"]) == {"n2001", "mendeley"}
    hea = ws.extra["site"] == "mendeley"
    assert set(ws.extra["muscle"][hea]) == {"deltoid", "biceps brachii"}
    assert set(ws.extra["age"][~hea]) == {"44"}
    # No z-scoring: window std is in microvolts (tens to hundreds), not ~1.
    assert 10 < float(np.median(ws.X.std(axis=-1))) < 2000
    m61 = ws.recording_ids == "n2001:N2001M02BB61"
    assert ws.stop_samples[m61].max() <= 234560
    ws2 = load_dataset("needle_emg_mendeley", data_dir, subjects=["mendeley:Myo_08"])
    assert ws2.meta["dataset"] == "needle_emg_mendeley"
    assert set(ws2.extra["side"]) == {"left", "right"}
    with pytest.raises(DatasetError, match="site-prefixed"):
        load_clinical(data_dir, subjects=["A01"])
