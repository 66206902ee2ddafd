"""Download the human data from its public sources, check every sha256, and verify a data folder.

Files are fetched from GitHub's raw file host at the pinned commit of the manifest; derived files are then
rebuilt from the fetched ones. Every file is written atomically (temporary file, then rename), so an
interrupted fetch never leaves a truncated file behind.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from monoculture.files import sha256_of, write_atomically
from monoculture.errors import DataError
from monoculture.reference._derive import RECIPES
from monoculture.reference._locate import data_root, file_sha256
from monoculture.reference._manifest import DEFAULT_GROUPS, ManifestEntry, manifest

__all__ = ["GITHUB_RAW", "fetch", "verify"]

GITHUB_RAW = "https://raw.githubusercontent.com"
_TIMEOUT_SECONDS = 60
_FIX = "run `monoculture data fetch`"


def _is_intact(path: Path, entry: ManifestEntry) -> bool:
    return path.is_file() and path.stat().st_size == entry.size and file_sha256(path) == entry.sha256


def _url(base_url: str, entry: ManifestEntry) -> str:
    assert entry.repo and entry.commit and entry.source_path
    return f"{base_url.rstrip('/')}/{entry.repo}/{entry.commit}/{urllib.parse.quote(entry.source_path)}"


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_SECONDS) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise DataError(f"could not download {url}: HTTP {error.code}; the source may have moved, "
                        f"or set MONOCULTURE_DATA to a folder that has the data") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataError(f"could not download {url}: {reason}; check the network and {_FIX} again") from None


def _check(entry: ManifestEntry, data: bytes, origin: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != entry.sha256:
        raise DataError(f"checksum mismatch for {entry.path} from {origin}: expected sha256 {entry.sha256[:12]}…, "
                        f"got {actual[:12]}…; nothing was written, {_FIX} again or report the changed source")


def fetch(dest: Path | None = None, *, base_url: str = GITHUB_RAW,
          groups: tuple[str, ...] = DEFAULT_GROUPS) -> list[Path]:
    """Download every manifest file of ``groups`` into ``dest`` (default: the data root), derive the derived ones,
    check all.

    Files already present with the right sha256 are kept. ``base_url`` replaces GitHub's raw host (files are
    requested as ``{base_url}/{repo}/{commit}/{path}``), e.g. for a mirror or a test server. Returns the
    path of every manifest file, all verified. Raises :class:`DataError` on a failed download or a
    checksum mismatch; nothing unverified is ever written.
    """
    root = Path(dest) if dest is not None else data_root()
    paths = []
    for entry in manifest(groups):  # downloads first, then the files derived from them
        path = root / entry.path
        if not _is_intact(path, entry):
            if entry.is_derived:
                data, origin = RECIPES[entry.derive](root), f"recipe {entry.derive}"  # type: ignore[index]
            else:
                origin = _url(base_url, entry)
                data = _download(origin)
            _check(entry, data, origin)
            write_atomically(path, data)
        paths.append(path)
    return paths


def verify(root: Path | None = None, *, groups: tuple[str, ...] = DEFAULT_GROUPS) -> list[str]:
    """One line per problem with the data of ``groups`` under ``root`` (default: the data root): missing or wrong
    sha256.

    An empty list means every manifest file of those groups is present and intact.
    """
    root = Path(root) if root is not None else data_root()
    problems = []
    for entry in manifest(groups):
        path = root / entry.path
        if not path.is_file():
            problems.append(f"missing: {entry.path}")
        elif not _is_intact(path, entry):
            problems.append(f"corrupt (sha256 mismatch): {entry.path}")
    return problems
