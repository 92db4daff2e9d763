"""Download and unpack the corpora's official MIDI archives (MAESTRO, the Groove MIDI Dataset), resuming and
verifying as it goes.

:func:`download` fetches one URL into a file. It writes to ``<dest>.part`` and, when a ``.part`` is already
there from an interrupted run, asks the server for the rest only (an HTTP ``Range`` request), so a broken
connection never costs the bytes already received. When the transfer ends, the file's size and SHA-256 are
checked against the expected values before it is renamed onto ``dest``; a file that does not match is
deleted, never used. A network failure keeps the ``.part`` so that running again resumes it.

:func:`fetch` downloads one of :data:`ARCHIVES` (``maestro``: MAESTRO v3.0.0's MIDI-only archive; ``groove``: the
Groove MIDI Dataset v1.0.0's) into a cache folder, checks every member's CRC, refuses members that would land
outside the target folder, and unpacks it in one atomic step into ``<cache>/<its folder>/``. A finished
extraction is reused without touching the network.

Only the standard library (``urllib.request``, ``zipfile``, ``hashlib``) and ``tqdm`` are used.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import CorruptArchiveError, DownloadError
from ..progress import progress_bar
from ..utils import atomic_dir, sha256_file

__all__ = [
    "ARCHIVES",
    "GROOVE_SHA256",
    "GROOVE_URL",
    "MAESTRO_DIRNAME",
    "MAESTRO_SHA256",
    "MAESTRO_SIZE",
    "MAESTRO_URL",
    "Archive",
    "download",
    "fetch",
    "fetch_maestro",
]

#: The official MAESTRO v3.0.0 MIDI-only archive (https://magenta.tensorflow.org/datasets/maestro).
MAESTRO_URL = "https://storage.googleapis.com/magentadata/datasets/maestro/v3.0.0/maestro-v3.0.0-midi.zip"

#: SHA-256 of ``maestro-v3.0.0-midi.zip``. The publisher lists it beside the download on the dataset's page
#: (https://magenta.tensorflow.org/datasets/maestro, also served as magenta.withgoogle.com/datasets/maestro);
#: the same value is pinned, and described as checked against the downloaded file, by several independent
#: public projects that fetch this archive.
MAESTRO_SHA256: str | None = "70470ee253295c8d2c71e6d9d4a815189e35c89624b76d22fce5a019d5dde12c"

#: Size of the archive in bytes. No source giving the exact byte count was found (the dataset's page only
#: says "about 56 MB"), so it is left unset rather than guessed; the SHA-256 above pins the file exactly.
MAESTRO_SIZE: int | None = None

#: Folder under the cache directory that the archive is unpacked into.
MAESTRO_DIRNAME = "maestro-v3.0.0"

#: The Groove MIDI Dataset v1.0.0, MIDI only (https://magenta.tensorflow.org/datasets/groove; CC BY 4.0).
GROOVE_URL = "https://storage.googleapis.com/magentadata/datasets/groove/groove-v1.0.0-midionly.zip"
#: SHA-256 and size of ``groove-v1.0.0-midionly.zip``, as TensorFlow Datasets pins them for its ``groove``
#: builder (its ``checksums.tsv``: URL, size, SHA-256), which downloads this same file.
GROOVE_SHA256 = "651cbc524ffb891be1a3e46d89dc82a1cecb09a57c748c7b45b844c4841dcc1e"
GROOVE_SIZE = 3260318

_CHUNK = 1 << 16
_CSV_RE = re.compile(r"^maestro-v[^/]*\.csv$", re.IGNORECASE)


@dataclass(frozen=True)
class Archive:
    """An official corpus archive: where it is, what pins it, the folder it unpacks into, and the file at the
    top of that folder that says it is what it claims (``marker``)."""

    name: str
    title: str
    url: str
    sha256: str | None
    size: int | None
    dirname: str
    marker: re.Pattern[str]
    marker_name: str  # the marker as the error message says it


ARCHIVES: dict[str, Archive] = {
    "maestro": Archive(
        "maestro",
        "the MAESTRO archive",
        MAESTRO_URL,
        MAESTRO_SHA256,
        MAESTRO_SIZE,
        MAESTRO_DIRNAME,
        _CSV_RE,
        "maestro-v*.csv",
    ),
    "groove": Archive(
        "groove",
        "the Groove MIDI Dataset's archive",
        GROOVE_URL,
        GROOVE_SHA256,
        GROOVE_SIZE,
        "groove-v1.0.0",
        re.compile(r"^info\.csv$", re.IGNORECASE),
        "info.csv",
    ),
}
_USER_AGENT = "tunesmith (python urllib)"


def _by_hand_hint(url: str) -> str:
    return (
        f"Run the same command again to retry, or download {url} by hand (for example with a browser), "
        "unpack it and pass that folder to `tunesmith prepare`."
    )


def _network_error(url: str, what: str, part: Path | None = None) -> DownloadError:
    kept = ""
    if part is not None and part.exists() and part.stat().st_size > 0:
        kept = f" The {part.stat().st_size} bytes received so far are kept in {part}; running again resumes there."
    return DownloadError(f"could not download {url}: {what}.{kept} {_by_hand_hint(url)}")


def _check(path: Path, url: str, sha256: str | None, size: int | None) -> None:
    """Raise :class:`DownloadError` when ``path`` has the wrong size or checksum (the file is left alone)."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise DownloadError(
            f"the download of {url} has the wrong size: expected {size} bytes, got {actual_size} bytes. "
            "The file was deleted; run the same command again to download it afresh."
        )
    if sha256 is not None:
        actual = sha256_file(path)
        if actual.lower() != sha256.lower():
            raise DownloadError(
                f"the download of {url} has the wrong SHA-256 checksum: expected {sha256.lower()}, got {actual}. "
                "The file was deleted; run the same command again to download it afresh."
            )


def _verifies(path: Path, url: str, sha256: str | None, size: int | None) -> bool:
    try:
        _check(path, url, sha256, size)
    except DownloadError:
        return False
    return True


def _content_range_start(header: str | None) -> int | None:
    """The first byte of a ``Content-Range: bytes A-B/N`` header, or None when it cannot be read."""
    if not header:
        return None
    match = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*$", header)
    return int(match.group(1)) if match else None


def _open(url: str, offset: int, timeout: float, part: Path | None = None):
    """Open ``url`` asking for the bytes from ``offset`` on; None means the server said the range is empty (416)."""
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset > 0:
            return None
        raise _network_error(url, f"the server answered status {exc.code} ({exc.reason})", part) from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            what = f"the server did not answer within {timeout:g} seconds; there seems to be no network"
        else:
            what = f"there seems to be no network ({reason})"
        raise _network_error(url, what, part) from exc
    except TimeoutError as exc:
        raise _network_error(url, f"the server did not answer within {timeout:g} seconds", part) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _network_error(url, f"there seems to be no network ({exc})", part) from exc


def _receive(url: str, part: Path, timeout: float, progress: bool) -> None:
    """Bring ``part`` up to the end of the remote file, appending to what is there when the server allows."""
    offset = part.stat().st_size if part.exists() else 0
    response = _open(url, offset, timeout, part)
    if response is None:  # 416: nothing after `offset`, so the .part is already whole
        return
    with response:
        status = response.status
        if status == 206 and _content_range_start(response.headers.get("Content-Range")) == offset:
            mode = "ab"
        elif status == 200 or status == 206:
            # The server ignored the range (or answered another one): start over from byte 0.
            if status == 206:
                response.close()
                response = _open(url, 0, timeout, part)
                assert response is not None
            offset, mode = 0, "wb"
        else:
            raise _network_error(url, f"the server answered status {status}", part)
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        received = 0
        total = offset + expected if expected is not None else None
        with (
            open(part, mode) as out,
            progress_bar(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            try:
                while block := response.read(_CHUNK):
                    out.write(block)
                    received += len(block)
                    bar.update(len(block))
            except TimeoutError as exc:
                raise _network_error(
                    url, f"the connection stalled for {timeout:g} seconds after {offset + received} bytes", part
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                raise _network_error(
                    url, f"the connection broke after {offset + received} bytes ({exc})", part
                ) from exc
        if expected is not None and received < expected:
            raise _network_error(
                url, f"the connection closed after {offset + received} of {offset + expected} bytes", part
            )


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest``, resuming an earlier partial download, and verify it; return ``dest``.

    The bytes go to ``<dest>.part``; an existing ``.part`` is continued with an HTTP ``Range`` request (a 206
    answer is appended, a 200 answer starts over, a 416 answer means the ``.part`` is already complete). When
    the transfer ends, the size and the SHA-256 are checked (each when given): on a mismatch the ``.part`` is
    deleted and :class:`DownloadError` names the URL and both checksums; on success the ``.part`` is renamed
    onto ``dest`` atomically. A ``dest`` that already exists and verifies is returned without any request.

    A network failure (no connection, DNS failure, timeout, an HTTP error status, a connection cut midway)
    raises :class:`DownloadError` and keeps the ``.part``, so that calling again resumes where it stopped.
    """
    dest = Path(dest)
    if dest.exists():
        if _verifies(dest, url, sha256, size):
            return dest
        dest.unlink()  # a stale or damaged copy: fetch it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if part.exists() and size is not None and part.stat().st_size > size:
        part.unlink()  # longer than the real file: it cannot be a prefix of it
    if not (part.exists() and size is not None and part.stat().st_size == size):
        _receive(url, part, timeout, progress)
    try:
        _check(part, url, sha256, size)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return dest


def _member_parts(name: str, archive: Path) -> tuple[str, ...]:
    """The path components of a zip member, refusing absolute paths, drive letters and ``..``."""
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PureWindowsPath(name).drive or PureWindowsPath(name).root:
        raise DownloadError(f"{archive}: refusing to unpack member {name!r}: it is an absolute path")
    parts = tuple(p for p in PurePosixPath(posix).parts if p not in ("", "."))
    if ".." in parts:
        raise DownloadError(f"{archive}: refusing to unpack member {name!r}: it points outside the folder (..)")
    return parts


def _marked(folder: Path, marker: re.Pattern[str]) -> bool:
    return folder.is_dir() and any(marker.match(p.name) and p.is_file() for p in folder.iterdir())


def _extract(archive: Path, target: Path, kind: Archive = ARCHIVES["maestro"]) -> None:
    """Unpack the zip ``archive`` into ``target`` so that ``kind``'s marker file is at its top, atomically."""
    marker = kind.marker
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            members = [(info, _member_parts(info.filename, archive)) for info in infos]
            members = [(info, parts) for info, parts in members if parts]
            bad = zf.testzip()
            if bad is not None:
                raise CorruptArchiveError(f"member {bad!r} fails its CRC check")
            strip = 0
            if not any(len(p) == 1 and marker.match(p[0]) for _, p in members):
                tops = {p[0] for _, p in members}
                csv_below = any(len(p) == 2 and marker.match(p[1]) for _, p in members)
                if len(tops) == 1 and csv_below:
                    strip = 1
                else:
                    raise DownloadError(
                        f"{archive} does not look like {kind.title}: it has no {kind.marker_name} "
                        "at its top or inside one top folder"
                    )
            with atomic_dir(target) as tmp:
                root = tmp.resolve()
                for info, parts in members:
                    rel = parts[strip:]
                    if not rel:
                        continue
                    out = tmp.joinpath(*rel)
                    if not out.resolve().is_relative_to(root):
                        raise DownloadError(f"{archive}: refusing to unpack member {info.filename!r}")
                    if info.is_dir():
                        out.mkdir(parents=True, exist_ok=True)
                        continue
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise CorruptArchiveError(f"not a readable zip archive: {exc}") from exc


def fetch(
    name: str,
    cache_dir: str | os.PathLike[str],
    *,
    url: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    progress: bool = True,
) -> Path:
    """Download the archive ``name`` of :data:`ARCHIVES` into ``cache_dir`` and unpack it; return the unpacked
    folder (the one with the marker file: MAESTRO's csv, Groove's ``info.csv``).

    The archive is kept as ``cache_dir/<archive name>`` (see :func:`download` for resuming and checking) and
    unpacked into ``cache_dir/<its folder>/`` through a temporary folder that is renamed into place only when
    complete. The archive's single top folder, when it has one, is dropped. When the folder already has its
    marker it is returned at once, without any request. ``url`` (with ``sha256`` and ``size``, both None: not
    checked) replaces the official one, for a mirror or a test. Damaged archives and members with absolute paths
    or ``..`` raise :class:`DownloadError`.
    """
    kind = ARCHIVES[name]
    if url is None:
        url, sha256, size = kind.url, kind.sha256, kind.size
    cache_dir = Path(cache_dir)
    target = cache_dir / kind.dirname
    if _marked(target, kind.marker):
        return target
    file = PurePosixPath(urllib.parse.urlparse(url).path).name or f"{name}-midi.zip"
    archive = download(url, cache_dir / file, sha256=sha256, size=size, progress=progress)
    try:
        _extract(archive, target, kind)
    except CorruptArchiveError as exc:
        archive.unlink(missing_ok=True)  # useless as it is: the next run must fetch it afresh
        raise DownloadError(
            f"the archive downloaded from {url} is damaged ({exc}), so it was deleted. "
            "Run the same command again to download it afresh."
        ) from exc
    return target


def fetch_maestro(
    cache_dir: str | os.PathLike[str],
    *,
    url: str = MAESTRO_URL,
    sha256: str | None = MAESTRO_SHA256,
    size: int | None = MAESTRO_SIZE,
    progress: bool = True,
) -> Path:
    """:func:`fetch` of MAESTRO: the folder with ``maestro-v3.0.0.csv``, the json and the year folders."""
    return fetch("maestro", cache_dir, url=url, sha256=sha256, size=size, progress=progress)
