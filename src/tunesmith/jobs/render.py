"""The ``render`` job: a music file to a WAV file (midirenderer with a General MIDI SoundFont, or the built-in
synthesizer)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..audio import render
from ..io import read


def render_file(
    path: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, **kwargs: Any
) -> tuple[Path, str]:
    """Render the music file ``path`` (``kwargs``: ``sample_rate``, ``soundfont``, ``engine``): the WAV and the
    engine that made it."""
    wav, engine = render(read(path), out, **kwargs)
    return Path(wav), engine
