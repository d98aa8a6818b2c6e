"""The source manifest (``data/sources.yml``): reading it, checksums, and locating files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from analysis.core.errors import DataError
from analysis.core.paths import SOURCES_MANIFEST


@dataclass(frozen=True)
class SourceFile:
    """One file of one source, as the manifest lists it."""

    source_id: str
    folder: str
    name: str
    parser: str
    sha256: str
    download_url: str
    options: dict[str, Any]

    def path(self, raw_dir: Path) -> Path:
        """Where the file is expected under ``raw_dir``."""
        return Path(raw_dir) / self.folder / self.name


#: libyaml's safe loader when PyYAML was built with it (~10x faster than the pure-Python one, the
#: same documents for the same text), else PyYAML's own safe loader.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The YAML document in ``text``, read with the safe loader (plain data only; no tags run code).
    Raises ``yaml.YAMLError`` for text that is not YAML."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader


def load_manifest(path: Path = SOURCES_MANIFEST) -> dict[str, Any]:
    """Return the parsed manifest; DataError if it is missing or has no ``sources`` list."""
    try:
        manifest = parse_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(path, f"cannot be read as YAML ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sources"), list):
        raise DataError(path, "has no 'sources' list")
    return manifest


def source_files(manifest: dict[str, Any]) -> list[SourceFile]:
    """Every file entry of the manifest, in manifest order."""
    files = []
    for source in manifest["sources"]:
        for entry in source.get("files") or []:
            known = {"name", "parser", "sha256", "download_url"}
            files.append(
                SourceFile(
                    source_id=source["id"],
                    folder=source["folder"],
                    name=entry["name"],
                    parser=entry["parser"],
                    sha256=entry["sha256"],
                    download_url=entry["download_url"],
                    options={k: v for k, v in entry.items() if k not in known},
                )
            )
    return files


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(manifest: dict[str, Any]) -> dict[str, str]:
    """``{folder/name: sha256}`` for every file in the manifest (recorded with each report run)."""
    return {f"{f.folder}/{f.name}": f.sha256 for f in source_files(manifest)}
