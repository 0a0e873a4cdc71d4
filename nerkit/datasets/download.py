"""Download dataset files, check their sha256, and only then put them in place.

Each file is written to a temporary name beside its destination and renamed after the
checksum matches, so an interrupted or corrupted download never leaves a file that a
later run would trust. Files that are members of one archive share one download.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from nerkit import __version__
from nerkit.datasets.spec import DataFile
from nerkit.errors import DatasetError

_CHUNK = 1 << 16
DEFAULT_TIMEOUT = 60.0


class DownloadFailed(Exception):
    """The network (or the server) did not deliver a file; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_files(
    files: Sequence[tuple[DataFile, Path]],
    *,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Fetch every ``(file, destination)`` pair from ``file.url``.

    Raises ``DownloadFailed`` when the network fails (the caller turns that into a
    message saying where to put the file by hand) and ``DatasetError`` when the
    bytes arrive but are wrong or cannot be stored.
    """
    by_url: dict[str, list[tuple[DataFile, Path]]] = {}
    for data_file, dest in files:
        if not data_file.url:
            raise DatasetError(f"{data_file.path} has no download URL")
        by_url.setdefault(data_file.url, []).append((data_file, dest))
    for url, group in by_url.items():
        archived = [(f, d) for f, d in group if f.member]
        for data_file, dest in group:
            if not data_file.member:
                _download_file(data_file, dest, progress=progress, timeout=timeout)
        if archived:
            _download_members(url, archived, progress=progress, timeout=timeout)


def _download_file(data_file: DataFile, dest: Path, *, progress: bool, timeout: float) -> None:
    with _temporary_beside(dest) as tmp:
        with tmp.open("wb") as out:
            _fetch(data_file.url, out, label=data_file.name, progress=progress, timeout=timeout)
        _check_and_place(tmp, dest, data_file, source=data_file.url)


def _download_members(
    url: str, members: Sequence[tuple[DataFile, Path]], *, progress: bool, timeout: float
) -> None:
    archive_dir = members[0][1].parent
    with _temporary_beside(archive_dir / url.rsplit("/", 1)[-1]) as archive:
        with archive.open("wb") as out:
            _fetch(url, out, label=url.rsplit("/", 1)[-1], progress=progress, timeout=timeout)
        try:
            with zipfile.ZipFile(archive) as zipped:
                for data_file, dest in members:
                    info = _find_member(zipped, data_file.member, url)
                    with _temporary_beside(dest) as tmp:
                        with zipped.open(info) as src, tmp.open("wb") as out:
                            shutil.copyfileobj(src, out, _CHUNK)
                        _check_and_place(tmp, dest, data_file, source=f"{url} (member {info})")
        except zipfile.BadZipFile as exc:
            raise DatasetError(
                f"{url} is not a valid zip archive ({exc}); nothing was saved"
            ) from None


def _find_member(zipped: zipfile.ZipFile, member: str, url: str) -> str:
    names = zipped.namelist()
    if member in names:
        return member
    # Tolerate a different top-level folder inside the archive: match by base name.
    base = member.rsplit("/", 1)[-1]
    candidates = [n for n in names if n.rsplit("/", 1)[-1] == base]
    if len(candidates) == 1:
        return candidates[0]
    raise DatasetError(f"{url} has no member {member!r}; nothing was saved")


def _check_and_place(tmp: Path, dest: Path, data_file: DataFile, *, source: str) -> None:
    if data_file.sha256:
        actual = sha256_of(tmp)
        if actual != data_file.sha256:
            raise DatasetError(
                f"checksum mismatch for {source}: expected sha256 {data_file.sha256}, "
                f"got {actual}; nothing was written to {dest}"
            )
    os.replace(tmp, dest)


@contextmanager
def _temporary_beside(dest: Path) -> Iterator[Path]:
    """A fresh temporary file in ``dest``'s folder (so the final rename is atomic),
    removed on the way out unless it has been renamed into place."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    except OSError as exc:
        raise DatasetError(
            f"cannot write to {dest.parent} ({exc.strerror or exc}); "
            "set NERKIT_DATA_DIR to a writable folder"
        ) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _fetch(url: str, out: IO[bytes], *, label: str, progress: bool, timeout: float) -> None:
    """Stream ``url`` into ``out`` with a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    request = urllib.request.Request(url, headers={"User-Agent": f"nerkit/{__version__}"})
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            Progress(*columns, console=Console(stderr=True), disable=not progress) as bar,
        ):
            length = response.headers.get("Content-Length")
            task = bar.add_task(f"downloading {label}", total=int(length) if length else None)
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                bar.advance(task, len(chunk))
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DownloadFailed(f"{url}: {reason}") from None
