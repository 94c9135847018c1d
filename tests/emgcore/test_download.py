"""The emgdb downloader, against a local HTTP server (never the internet)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emgcore.cli import main
from emgcore.download import DOWNLOADS, DownloadError, download_dataset

EMGDB_FILES = [f.name for f in DOWNLOADS["emgdb"].files]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _SlowHandler(_QuietHandler):
    def do_GET(self) -> None:  # noqa: N802
        time.sleep(2.0)
        super().do_GET()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up early (size limit, timeout) is expected


@contextlib.contextmanager
def _serve(directory: Path, handler: type = _QuietHandler) -> Iterator[str]:
    server = _QuietServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(directory))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def emgdb_server(data_dir: Path) -> Iterator[str]:
    with _serve(data_dir / "physionet-emgdb") as base:
        yield base


@pytest.fixture
def mirror(tmp_path: Path, data_dir: Path) -> Path:
    """A writable copy of the real emgdb files to corrupt or thin out."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in EMGDB_FILES:
        shutil.copy(data_dir / "physionet-emgdb" / name, folder / name)
    return folder


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_registry_hashes_match_the_real_files(data_dir: Path) -> None:
    for remote in DOWNLOADS["emgdb"].files:
        path = data_dir / "physionet-emgdb" / remote.name
        assert path.stat().st_size == remote.size
        assert _sha(path) == remote.sha256


def test_it_downloads_all_six_files_with_matching_sha256(
    emgdb_server: str, tmp_path: Path, data_dir: Path
) -> None:
    dest = tmp_path / "out"
    results = download_dataset("emgdb", dest=dest, base_url=emgdb_server)
    assert [r.status for r in results] == ["downloaded"] * 6
    assert sorted(p.name for p in dest.iterdir()) == sorted(EMGDB_FILES)
    for name in EMGDB_FILES:
        assert _sha(dest / name) == _sha(data_dir / "physionet-emgdb" / name)


def test_it_downloads_into_emg_data_dir_by_default(
    emgdb_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMG_DATA_DIR", str(tmp_path))
    results = download_dataset("emgdb", base_url=emgdb_server.rstrip("/"))
    assert {r.path.parent for r in results} == {tmp_path / "physionet-emgdb"}
    from emgcore.datasets.physionet import load_physionet_emgdb

    ws = load_physionet_emgdb(subjects=["emg_neuropathy"])  # reads what it fetched
    assert len(ws) == 72


def test_a_second_run_downloads_nothing(emgdb_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    download_dataset("emgdb", dest=dest, base_url=emgdb_server)
    mtimes = {p.name: p.stat().st_mtime_ns for p in dest.iterdir()}
    results = download_dataset("emgdb", dest=dest, base_url=emgdb_server)
    assert [r.status for r in results] == ["present"] * 6
    assert {p.name: p.stat().st_mtime_ns for p in dest.iterdir()} == mtimes


def test_it_replaces_a_present_file_with_the_wrong_hash(
    emgdb_server: str, tmp_path: Path
) -> None:
    dest = tmp_path / "out"
    download_dataset("emgdb", dest=dest, base_url=emgdb_server)
    (dest / "emg_healthy.hea").write_text("tampered")
    results = download_dataset("emgdb", dest=dest, base_url=emgdb_server)
    status = {r.path.name: r.status for r in results}
    assert status["emg_healthy.hea"] == "downloaded"
    assert _sha(dest / "emg_healthy.hea") == DOWNLOADS["emgdb"].files[1].sha256


def test_it_rejects_a_corrupted_file_and_leaves_nothing_behind(
    mirror: Path, tmp_path: Path
) -> None:
    raw = bytearray((mirror / "emg_myopathy.dat").read_bytes())
    raw[1000] ^= 0xFF  # same size, one byte flipped
    (mirror / "emg_myopathy.dat").write_bytes(bytes(raw))
    dest = tmp_path / "out"
    with _serve(mirror) as base:
        with pytest.raises(DownloadError, match="emg_myopathy.dat.*integrity"):
            download_dataset("emgdb", dest=dest, base_url=base)
    assert not (dest / "emg_myopathy.dat").exists()
    assert not list(dest.glob(".*part"))
    # files before it in the registry were fine and are kept
    assert (dest / "emg_healthy.dat").is_file()


def test_it_stops_on_a_file_larger_than_expected(mirror: Path, tmp_path: Path) -> None:
    with open(mirror / "emg_healthy.hea", "ab") as fh:
        fh.write(b"x" * 5000)
    dest = tmp_path / "out"
    with _serve(mirror) as base:
        with pytest.raises(DownloadError, match="larger than the expected 300 bytes"):
            download_dataset("emgdb", dest=dest, base_url=base)
    assert not (dest / "emg_healthy.hea").exists()
    assert list(dest.iterdir()) == [dest / "emg_healthy.dat"]


def test_it_reports_a_404_in_one_line(mirror: Path, tmp_path: Path) -> None:
    (mirror / "emg_neuropathy.hea").unlink()
    dest = tmp_path / "out"
    with _serve(mirror) as base:
        with pytest.raises(
            DownloadError, match=r"emg_neuropathy.hea: HTTP 404"
        ) as info:
            download_dataset("emgdb", dest=dest, base_url=base)
    assert "\n" not in str(info.value)
    assert not (dest / "emg_neuropathy.hea").exists()
    assert not list(dest.glob(".*part"))


def test_it_reports_a_timeout(data_dir: Path, tmp_path: Path) -> None:
    with _serve(data_dir / "physionet-emgdb", _SlowHandler) as base:
        with pytest.raises(DownloadError, match=r"no answer within 0.3 s"):
            download_dataset(
                "emgdb", dest=tmp_path / "out", base_url=base, timeout_s=0.3
            )
    assert not list((tmp_path / "out").iterdir())


def test_it_reports_a_refused_connection(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port that nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="Could not download http://127.0.0.1"):
        download_dataset(
            "emgdb", dest=tmp_path / "out", base_url=f"http://127.0.0.1:{port}"
        )


def test_it_rejects_an_unknown_dataset(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="Unknown dataset 'ninapro'.*'emgdb'"):
        download_dataset("ninapro", dest=tmp_path)


def test_the_cli_downloads_and_exits_zero(
    emgdb_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "cli"
    argv = [
        "data",
        "download",
        "emgdb",
        "--dest",
        str(dest),
        "--base-url",
        emgdb_server,
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 6 and all(line.startswith("downloaded") for line in out)
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert all(line.startswith("present") for line in out)


def test_the_cli_exits_2_with_one_line_on_a_bad_mirror(
    mirror: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mirror / "emg_healthy.dat").write_bytes(b"\0" * 101720)
    with _serve(mirror) as base:
        code = main(
            ["data", "download", "emgdb", "--dest", str(tmp_path), "--base-url", base]
        )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "integrity check" in err


def test_data_list_reports_present_datasets(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(["data", "list", "--data-dir", str(data_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert Path(report["data_dir"]).resolve() == data_dir.resolve()
    present = {d["name"]: d["present"] for d in report["datasets"]}
    assert present["physionet_emgdb"] and present["emglab_n2001"]
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert not any(d["present"] for d in report["datasets"])
