"""Download the source files named in ``data/sources.yml`` and verify their sha256.

``python -m analysis data fetch --raw-dir DIR [--mirror URL]`` calls :func:`fetch_sources`. Each
file goes to ``DIR/<folder>/<name>`` through a temporary file in the same folder, which replaces
the target only once its checksum matches the manifest: a failed, corrupted or interrupted
download leaves no partial file behind and never touches a file already there. Files already
present with the right checksum are not downloaded again.

What a manifest entry may ask for is limited, because the manifest is data and data must not be
able to do harm: its folder and name must stay inside ``DIR`` (no absolute path, no ``..``, no
backslash or NUL; spaces, brackets and nested folders are fine); its address must be ``https``
(``http`` only to this machine, for tests against a local mirror); the whole download has a
deadline, and it may not exceed the size the manifest gives (``bytes``), or 512 MiB.

pooch (the scientific-Python fetcher) was considered: it verifies a sha256 registry well, but
has no whole-download deadline or size cap and would bring ``requests``; the standard library
does what is needed here.

With ``--mirror`` the files are taken from ``<mirror>/<folder>/<name>`` instead of each entry's
``download_url`` (a copy of the raw tree served over HTTP, e.g. ``python -m http.server``).
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import os
import re
import socket
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from analysis.core.errors import DataError, shorten
from analysis.core.paths import SOURCES_MANIFEST
from analysis.data.manifest import SourceFile, load_manifest, sha256_of, source_files

USER_AGENT = "london-violence-analysis/0.1 (python -m analysis data fetch)"
_BLOCK = 1 << 16
#: Largest download accepted for an entry that does not state its size (bytes).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_LOOPBACK_NAMES = {"localhost"}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def safe_relative(entry: SourceFile) -> PurePosixPath:
    """The entry's ``folder/name`` as a relative path that cannot leave the raw folder; DataError otherwise."""
    for label, value in (("folder", entry.folder), ("name", entry.name)):
        text = str(value)
        parts = text.split("/")
        problem = None
        if not text.strip():
            problem = "is empty"
        elif "\x00" in text:
            problem = "contains a NUL character"
        elif "\\" in text:
            problem = "contains a backslash"
        elif text.startswith("/") or re.match(r"^[A-Za-z]:", text):
            problem = "is an absolute path"
        elif any(part in ("..", ".") for part in parts):
            problem = "contains a '.' or '..' component"
        elif label == "name" and len(parts) > 1:
            problem = "must be a file name, not a path"
        elif any(not part.strip() for part in parts):
            problem = "contains an empty path component"
        if problem:
            raise DataError(SOURCES_MANIFEST, f"source '{entry.source_id}': {label} {shorten(repr(text))} {problem}")
    return PurePosixPath(entry.folder) / entry.name


def target_path(raw_dir: Path, entry: SourceFile) -> Path:
    """Where ``entry`` is written: inside ``raw_dir``, checked after resolving symlinks."""
    root = Path(raw_dir).resolve()
    target = (root / safe_relative(entry)).resolve()
    if root not in target.parents:
        raise DataError(SOURCES_MANIFEST, f"source '{entry.source_id}': {entry.folder}/{entry.name} resolves outside {raw_dir}")
    return target


def check_url(url: str, where: str) -> str:
    """``url`` if it is https, or http to this machine; DataError otherwise (file:, ftp:, http to elsewhere)."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    host = (parsed.hostname or "").lower()
    if scheme == "https" and host:
        return url
    if scheme == "http" and host:
        loopback = host in _LOOPBACK_NAMES
        try:
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        except ValueError:
            pass
        if loopback:
            return url
        raise DataError(where, f"refusing plain http to {host} ({shorten(url)}): only https is allowed, or http to this machine")
    raise DataError(where, f"refusing the address {shorten(url)}: only https downloads are allowed")


def source_url(entry: SourceFile, mirror: str | None = None) -> str:
    """The address to download ``entry`` from: its ``download_url``, or ``<mirror>/<folder>/<name>``."""
    if mirror is None:
        return entry.download_url
    return mirror.rstrip("/") + "/" + urllib.parse.quote(f"{entry.folder}/{entry.name}")


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to an address :func:`check_url` accepts."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        check_url(newurl, req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_SafeRedirects())


def _remove_stale_parts(target: Path) -> None:
    """Remove partial downloads of ``target`` that a killed earlier run left (``.<name>.*.part``)."""
    for stale in target.parent.glob(f".{glob_escape(target.name)}.*.part"):
        stale.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([\[\]*?])", r"[\1]", name)


def _download(url: str, target: Path, expected: str, *, timeout: float, max_bytes: int) -> None:
    """Download ``url`` to a temporary file beside ``target``; replace ``target`` only if the sha256 matches.

    ``timeout`` is the deadline for the whole download (seconds); more than ``max_bytes`` bytes
    stop it. The temporary file is removed whatever happens (error, Ctrl-C, SIGTERM).
    """
    check_url(url, str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(target)
    deadline = time.monotonic() + timeout
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    temp = Path(temp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with os.fdopen(handle, "wb") as out, _OPENER.open(request, timeout=timeout) as response:
                total = response.headers.get("Content-Length")
                if total and total.isdigit() and int(total) > max_bytes:
                    raise DataError(target, f"download refused: {url} announces {int(total):,} bytes, more than the {max_bytes:,} bytes expected")
                with tqdm(
                    total=int(total) if total and total.isdigit() else None,
                    unit="B",
                    unit_scale=True,
                    desc=target.name,
                    leave=False,
                    disable=None,  # only on a terminal (stderr)
                ) as progress:
                    while True:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            raise DataError(target, f"download from {url} did not finish within {timeout:g} s")
                        try:
                            with _socket_timeout(response, left):
                                block = response.read1(_BLOCK)  # what has arrived, at most one recv
                        except TimeoutError:
                            if time.monotonic() < deadline:
                                raise
                            raise DataError(target, f"download from {url} did not finish within {timeout:g} s") from None
                        if not block:
                            break
                        received += len(block)
                        if received > max_bytes:
                            raise DataError(target, f"download from {url} exceeds the {max_bytes:,} bytes expected; stopped")
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
        os.chmod(temp, 0o666 & ~_umask())  # mkstemp makes 0600; a downloaded data file is not secret
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


class _socket_timeout:  # noqa: N801 - used as a context manager
    """Lower the response socket's timeout to what is left of the deadline, for one read."""

    def __init__(self, response: object, seconds: float) -> None:
        self.sock = _response_socket(response)
        self.seconds = seconds

    def __enter__(self) -> None:
        self.previous = None
        if self.sock is not None and self.sock.fileno() != -1:
            self.previous = self.sock.gettimeout()
            self.sock.settimeout(max(0.01, min(self.seconds, self.previous or self.seconds)))

    def __exit__(self, *exc: object) -> None:
        if self.sock is not None and self.previous is not None and self.sock.fileno() != -1:
            self.sock.settimeout(self.previous)  # the response closes its socket after the last byte


def _response_socket(response: object) -> socket.socket | None:
    fp = getattr(response, "fp", None)
    raw = getattr(fp, "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def fetch_sources(
    raw_dir: Path,
    *,
    mirror: str | None = None,
    timeout: float = 600,
    manifest_path: Path = SOURCES_MANIFEST,
) -> list[tuple[Path, str]]:
    """Make ``raw_dir`` hold every file of the manifest, byte for byte.

    Returns ``[(path, status)]`` in manifest order, status ``"present"`` (already there with the
    right sha256) or ``"downloaded"``. ``timeout`` is the deadline for each file's whole download
    (seconds). Raises DataError naming the file and the URL for a network failure, an unsafe
    entry or address, a download over its size or deadline, and a checksum mismatch; either way
    no partial file is left and the file already at the target is untouched.
    """
    raw_dir = Path(raw_dir)
    entries = source_files(load_manifest(manifest_path))
    if mirror is not None:
        check_url(mirror, "--mirror")
    targets = [(entry, target_path(raw_dir, entry)) for entry in entries]  # every entry checked before any download
    for entry, _ in targets:
        check_url(source_url(entry, mirror), str(manifest_path))
    results: list[tuple[Path, str]] = []
    for entry, target in tqdm(targets, desc="sources", unit="file", disable=None):
        if target.is_file() and sha256_of(target) == entry.sha256:
            results.append((target, "present"))
            continue
        max_bytes = int(entry.options.get("bytes") or DEFAULT_MAX_BYTES)
        _download(source_url(entry, mirror), target, entry.sha256, timeout=timeout, max_bytes=max_bytes)
        results.append((target, "downloaded"))
    return results
