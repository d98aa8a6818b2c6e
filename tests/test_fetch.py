"""``data fetch``: download every manifest file from a mirror, verify sha256, never leave a partial file.

The mirror is a local ``http.server`` on 127.0.0.1 serving a copy of ``../shared/data/raw``;
no test touches the internet.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import serve_folder

from analysis.runner.cli import main
from analysis.core.errors import DataError
from analysis.data.fetch import fetch_sources, source_url
from analysis.data.manifest import load_manifest, sha256_of, source_files

# The reference raw tree, resolved relative to the repository (tests/ -> repo -> its parent).
RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"
ENTRIES = source_files(load_manifest())
CORRUPTED = next(e for e in ENTRIES if e.name == "mye23tablesew.csv")


@pytest.fixture(scope="module")
def mirror_root(shared_raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mirror laid out as <folder>/<name>: symlinks to the real files, plus one corrupted copy elsewhere."""
    assert shared_raw_dir == RAW
    root = tmp_path_factory.mktemp("mirror")
    good = root / "good"
    bad = root / "bad"
    for entry in ENTRIES:
        for base in (good, bad):
            target = base / entry.folder / entry.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(RAW / entry.folder / entry.name)
    corrupted = bad / CORRUPTED.folder / CORRUPTED.name
    corrupted.unlink()
    data = bytearray((RAW / CORRUPTED.folder / CORRUPTED.name).read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit
    corrupted.write_bytes(bytes(data))
    return root


@pytest.fixture(scope="module")
def server(mirror_root: Path) -> Iterator[str]:
    """http://127.0.0.1:<port> serving mirror_root (in a thread, stopped after the module)."""
    with serve_folder(mirror_root) as url:
        yield url


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and p.name.endswith(".part"))


def test_mirror_url_layout() -> None:
    assert source_url(CORRUPTED, "http://mirror.example/raw/") == "http://mirror.example/raw/population/mye23tablesew.csv"
    assert source_url(CORRUPTED) == CORRUPTED.download_url


def test_fetch_from_mirror_downloads_and_verifies(server: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    results = fetch_sources(raw, mirror=f"{server}/good/", timeout=10)
    assert [p for p, _ in results] == [e.path(raw) for e in ENTRIES]
    assert {s for _, s in results} == {"downloaded"}
    for entry in ENTRIES:
        path = entry.path(raw)
        assert sha256_of(path) == entry.sha256, entry.name
        assert path.read_bytes() == (RAW / entry.folder / entry.name).read_bytes()
    assert not _leftovers(raw)

    # A second run downloads nothing; a damaged local file is downloaded again.
    damaged = ENTRIES[0].path(raw)
    damaged.write_bytes(b"stale")
    again = dict(fetch_sources(raw, mirror=f"{server}/good", timeout=10))
    assert again[damaged] == "downloaded"
    assert {s for p, s in again.items() if p != damaged} == {"present"}
    assert sha256_of(damaged) == ENTRIES[0].sha256


def test_corrupted_mirror_file_is_an_error_and_leaves_nothing(server: str, mirror_root: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as caught:
        fetch_sources(raw, mirror=f"{server}/bad", timeout=10)
    message = str(caught.value)
    actual = sha256_of(mirror_root / "bad" / CORRUPTED.folder / CORRUPTED.name)
    assert message.startswith(f"{CORRUPTED.name}: sha256 mismatch")
    assert f"{server}/bad/{CORRUPTED.folder}/{CORRUPTED.name}" in message
    assert f"expected {CORRUPTED.sha256}, got {actual}" in message
    assert not CORRUPTED.path(raw).exists()
    assert not _leftovers(raw)


def test_corrupted_download_leaves_the_previous_file_untouched(server: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    previous = CORRUPTED.path(raw)
    previous.parent.mkdir(parents=True)
    previous.write_bytes(b"an older copy, kept until a verified one arrives\n")
    with pytest.raises(DataError, match="sha256 mismatch"):
        fetch_sources(raw, mirror=f"{server}/bad", timeout=10)
    assert previous.read_bytes() == b"an older copy, kept until a verified one arrives\n"
    assert not _leftovers(raw)


def test_missing_file_on_mirror_names_the_url(server: str, tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        fetch_sources(tmp_path / "raw", mirror=f"{server}/nowhere", timeout=10)
    message = str(caught.value)
    assert "HTTP 404" in message and f"{server}/nowhere/" in message
    assert not _leftovers(tmp_path)


def test_unreachable_mirror_names_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DataError) as caught:
        fetch_sources(tmp_path / "raw", mirror=f"http://127.0.0.1:{port}", timeout=5)
    assert f"http://127.0.0.1:{port}/" in str(caught.value)
    assert "download failed" in str(caught.value)


def test_cli_fetch(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    code = main(["data", "fetch", "--raw-dir", str(raw), "--mirror", f"{server}/good", "--timeout", "10"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("downloaded") == len(ENTRIES)
    for entry in ENTRIES:
        assert sha256_of(entry.path(raw)) == entry.sha256

    code = main(["data", "fetch", "--raw-dir", str(raw), "--mirror", f"{server}/good"])
    assert code == 0
    assert capsys.readouterr().out.count("present") == len(ENTRIES)


def test_cli_fetch_corrupted_is_one_line_exit_2(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["data", "fetch", "--raw-dir", str(tmp_path / "raw"), "--mirror", f"{server}/bad", "--timeout", "10"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {CORRUPTED.name}: sha256 mismatch")

