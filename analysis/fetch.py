"""Download the source files named in ``data/sources.yml`` and verify their sha256.

``python -m analysis data fetch --raw-dir DIR [--mirror URL]`` calls :func:`fetch_sources`. Each
file goes to ``DIR/<folder>/<name>`` through a temporary file in the same folder, which replaces
the target only once its checksum matches the manifest: a failed or corrupted download leaves no
partial file behind and never touches a file already there. Files already present with the right
checksum are not downloaded again.

With ``--mirror`` the files are taken from ``<mirror>/<folder>/<name>`` instead of each entry's
``download_url`` (a copy of the raw tree served over HTTP, e.g. ``python -m http.server``).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from analysis.errors import DataError
from analysis.manifest import SourceFile, load_manifest, sha256_of, source_files
from analysis.paths import SOURCES_MANIFEST

USER_AGENT = "london-violence-analysis/0.1 (python -m analysis data fetch)"
_BLOCK = 1 << 16


def source_url(entry: SourceFile, mirror: str | None = None) -> str:
    """The address to download ``entry`` from: its ``download_url``, or ``<mirror>/<folder>/<name>``."""
    if mirror is None:
        return entry.download_url
    return mirror.rstrip("/") + "/" + urllib.parse.quote(f"{entry.folder}/{entry.name}")


def _download(url: str, target: Path, expected: str, timeout: float) -> None:
    """Download ``url`` to a temporary file beside ``target``; replace ``target`` only if the sha256 matches."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(temp_name)
    try:
        digest = hashlib.sha256()
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with os.fdopen(handle, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
                total = response.headers.get("Content-Length")
                with tqdm(
                    total=int(total) if total and total.isdigit() else None,
                    unit="B",
                    unit_scale=True,
                    desc=target.name,
                    leave=False,
                    disable=None,  # only on a terminal (stderr)
                ) as progress:
                    while block := response.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        progress.update(len(block))
        except urllib.error.HTTPError as exc:
            raise DataError(target, f"download failed: HTTP {exc.code} {exc.reason} from {url}") from exc
        except urllib.error.URLError as exc:
            raise DataError(target, f"download failed: {exc.reason} ({url})") from exc
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, truncated bodies
            raise DataError(target, f"download failed: {exc.__class__.__name__}: {exc} ({url})") from exc
        actual = digest.hexdigest()
        if actual != expected:
            raise DataError(target, f"sha256 mismatch for the file downloaded from {url}: expected {expected}, got {actual}; nothing was replaced")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def fetch_sources(
    raw_dir: Path,
    *,
    mirror: str | None = None,
    timeout: float = 60,
    manifest_path: Path = SOURCES_MANIFEST,
) -> list[tuple[Path, str]]:
    """Make ``raw_dir`` hold every file of the manifest, byte for byte.

    Returns ``[(path, status)]`` in manifest order, status ``"present"`` (already there with the
    right sha256) or ``"downloaded"``. Raises DataError naming the file and the URL for a network
    failure, and naming the file, expected and actual hash for a checksum mismatch; either way
    no partial file is left and the file already at the target is untouched.
    """
    raw_dir = Path(raw_dir)
    entries = source_files(load_manifest(manifest_path))
    results: list[tuple[Path, str]] = []
    for entry in tqdm(entries, desc="sources", unit="file", disable=None):
        target = entry.path(raw_dir)
        if target.is_file() and sha256_of(target) == entry.sha256:
            results.append((target, "present"))
            continue
        _download(source_url(entry, mirror), target, entry.sha256, timeout)
        results.append((target, "downloaded"))
    return results
