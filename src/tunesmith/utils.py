"""Small helpers shared across the package: atomic writes, hashing, a module's eval mode for a block."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def current_umask() -> int:
    """The process's umask, read without changing it where the OS tells (Linux's /proc/self/status), else by
    setting it and back."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def as_created(path: Path, folder: bool = False) -> None:
    """Give a temporary file (or folder) the mode an ordinary ``open`` (``mkdir``) would have given it: 0666
    (0777) less the umask. ``tempfile`` makes them 0600 (0700), readable by their owner alone, which the final
    file must not inherit: other users and tools (a DAW, a web server) read what tunesmith writes."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path`` (atomic on POSIX).

    On error the temporary file is removed and ``path`` is left as it was: a reader never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            as_created(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


#: The file inside an ``atomic_dir`` temporary folder that names its writer: "PID HOST". It is removed just
#: before the folder is renamed into place, so a finished folder never carries it.
WRITER_MARKER = ".tunesmith-writer"

#: A leftover folder without a readable marker is removed only once nothing in it changed for this long (seconds,
#: by mtime): a live writer's folder lacks the marker for the microseconds between mkdtemp and writing it, and
#: again between removing it and the final rename (both touch the folder), and an older tunesmith's never has
#: one; so a recently touched one may still be someone's.
UNMARKED_GRACE_S = 600.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _writer_alive(folder: Path) -> bool | None:
    """Whether the writer named by ``folder``'s marker still runs; None when there is no readable marker."""
    try:
        pid_text, _, host = (folder / WRITER_MARKER).read_text(encoding="utf-8").strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if host and host != socket.gethostname():
        return True  # a writer on another machine sharing this folder: its PID means nothing here, keep it
    return _pid_alive(pid)


def _last_modified(folder: str) -> float:
    """The newest mtime of ``folder`` and of what is directly in it (a file being written keeps its own mtime
    fresh, not the folder's)."""
    newest = os.stat(folder, follow_symlinks=False).st_mtime
    with os.scandir(folder) as it:
        for e in it:
            with contextlib.suppress(OSError):  # removed meanwhile
                newest = max(newest, e.stat(follow_symlinks=False).st_mtime)
    return newest


def clear_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove what interrupted :func:`atomic_dir` runs for ``path`` left beside it; return what was removed.

    A run killed while writing leaves ``.NAME.<random>.tmp``, one killed during the swap ``.NAME.old-PID``; no
    later run would ever reuse or clear them, and a dataset's worth of disk is lost each time. But another run
    for the same ``path`` may be writing its own temporary folder right now (two ``prepare`` of one output), so
    a folder is removed only when its writer is known to be gone: the PID in its marker (``.tmp``) or in its
    name (``.old-PID``) is not a running process on this machine. A ``.tmp`` without a readable marker (killed
    between mkdtemp and writing it, or left by an older tunesmith) is removed only after ``UNMARKED_GRACE_S``.
    Names are matched exactly (``.NAME.`` + mkdtemp's dot-free random part + ``.tmp``), so the leftovers of
    another dataset, even one named ``NAME.x``, are never touched. A reused PID merely keeps a stale folder.
    """
    path = Path(path)
    name = re.escape(path.name)
    tmp_re = re.compile(rf"\.{name}\.[A-Za-z0-9_]+\.tmp")
    old_re = re.compile(rf"\.{name}\.old-(\d+)")
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            if m := old_re.fullmatch(entry.name):
                stale = not _pid_alive(int(m.group(1)))
            elif tmp_re.fullmatch(entry.name):
                alive = _writer_alive(Path(entry.path))
                stale = not alive if alive is not None else now - _last_modified(entry.path) > UNMARKED_GRACE_S
            else:
                continue
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path`` as a whole.

    An existing ``path`` is moved aside first and removed only after the new one is in place, so an interrupted
    run leaves either the old complete directory or the new complete one (plus a ``.tmp`` or ``.old-PID``
    leftover), never a half-written one under the final name. The temporary folder holds a marker naming this
    process (:data:`WRITER_MARKER`, removed before the rename), so that the next run for the same ``path`` can
    tell a dead run's leftovers, which it clears first (:func:`clear_stale_temporaries`), from a live one's.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_stale_temporaries(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    marker = tmp / WRITER_MARKER
    try:
        marker.write_text(f"{os.getpid()} {socket.gethostname()}\n", encoding="utf-8")
        yield tmp
        marker.unlink(missing_ok=True)
        as_created(tmp, folder=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{os.getpid()}"
        if old.exists():  # a dead run's leftover whose PID this process got again: os.replace cannot overwrite it
            shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def eval_mode(module: Any) -> Iterator[Any]:
    """Put a torch module in inference mode (``.eval()``) for the block, then restore the mode it had, in a
    ``finally`` so that an error inside does not leave a training model in eval mode. (Duck-typed: no torch
    import here.)"""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
