"""``tunesmith studio``: a page on the user's own machine to generate, regenerate bars, keep tracks and harmonise,
see piano rolls, hear them with a General MIDI instrument sound and download MIDI (docs/studio.md).

``core.py`` is the work (models and what each can do, checked uploads, a request as the ``tunesmith`` command
that gives the same files, which is also the job run); ``page.py`` is the Gradio page over it. Gradio is an
optional extra (``pip install 'tunesmith[studio]'``): importing this package does not need it, serving does.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..jobs.studio import MAX_UPLOAD_BYTES, Studio

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: requests waiting in the queue beyond those running; a request past it is told the queue is full
QUEUE_SIZE = 64


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, port: int) -> str | None:
    """What the studio says when it listens beyond this machine (None on a loopback address)."""
    if is_loopback(host):
        return None
    return (
        f"tunesmith studio: warning: listening on {host}, so anyone who can reach this machine on port {port} can use "
        "the studio (generate, upload files up to the size limit) without a password; docs/studio.md says how to "
        "expose it safely (an SSH tunnel, or a reverse proxy with a password and TLS)"
    )


@dataclass
class Served:
    """A running studio: its address, the Gradio app (``demo``) and the studio's state."""

    url: str
    demo: Any
    studio: Studio
    work: Path
    temporary: bool

    def close(self) -> None:
        self.demo.close()
        if self.temporary:
            shutil.rmtree(self.work, ignore_errors=True)


def gradio_missing() -> str | None:
    """Why the page cannot be served here (Gradio not installed), or None."""
    import importlib.util

    if importlib.util.find_spec("gradio") is None:
        return "the studio needs Gradio: pip install 'tunesmith[studio]'"
    return None


def start(
    runs: str | os.PathLike[str] | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    work: str | os.PathLike[str] | None = None,
    concurrency: int = 1,
    say: Callable[[str], None] = print,
) -> Served:
    """Serve the page on ``host:port`` in the background and return it; ``work`` keeps the uploads and results
    (default: a temporary folder removed by :meth:`Served.close`)."""
    why = gradio_missing()
    if why:
        raise ConfigError(why)
    if runs is not None and not Path(runs).is_dir():
        raise ConfigError(f"--runs {runs}: no such folder")
    if concurrency < 1:
        raise ConfigError(f"--concurrency must be at least 1, got {concurrency}")
    temporary = work is None
    folder = Path(tempfile.mkdtemp(prefix="tunesmith-studio-")) if work is None else Path(work)
    studio = Studio(folder, runs)
    from .page import HEAD, build, theme

    demo = build(studio, concurrency)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=concurrency)
    warning = exposure_warning(host, port)
    if warning:
        say(warning)
    try:
        _, url, _ = demo.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            share=False,
            show_error=False,
            inbrowser=False,
            max_file_size=MAX_UPLOAD_BYTES,
            allowed_paths=[str(studio.results), str(studio.work / "previews")],
            ssr_mode=False,
            mcp_server=False,
            enable_monitoring=False,
            pwa=False,
            footer_links=["api", "settings"],
            theme=theme(),
            head=HEAD,
        )
    except OSError as e:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
        raise ConfigError(f"cannot listen on {host}:{port} ({e}); choose another --port") from None
    return Served(url, demo, studio, folder, temporary)


def serve(
    runs: str | os.PathLike[str] | None = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    work: str | os.PathLike[str] | None = None,
    concurrency: int = 1,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the page until interrupted (Ctrl+C), printing its address and the models it offers."""
    served = start(runs, host=host, port=port, work=work, concurrency=concurrency, say=say)
    try:
        models = served.studio.models
        say(f"tunesmith studio: {served.url}  (Ctrl+C stops it)")
        say(f"models: {', '.join(models) if models else 'none yet (train a run and name its folder with --runs)'}")
        if not served.temporary:
            say(f"uploads and results are kept in {served.work}")
        sys.stdout.flush()
        served.demo.block_thread()
    finally:
        served.close()


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "Served", "Studio", "exposure_warning", "is_loopback", "serve", "start"]
