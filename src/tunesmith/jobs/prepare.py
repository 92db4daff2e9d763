"""The ``prepare`` job (a corpus parsed once into a dataset folder, its official archive fetched first if asked)
and the text that describes a prepared dataset (``tunesmith info``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..corpora import download as downloads
from ..dataset import Dataset, prepare
from ..errors import ConfigError


def prepare_dataset(
    source: str | None,
    out: str | os.PathLike[str],
    *,
    download: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    limit: int | None = None,
    layout: str = "auto",
    force: bool = False,
    progress: bool = True,
) -> Dataset:
    """Prepare ``source`` (or the corpus named by ``download``) into ``out``."""
    if download:
        if source is not None:
            raise ConfigError("give either SOURCE or --download, not both")
        if cache_dir is None:
            raise ConfigError("--download needs a --cache-dir to keep the archive in")
        if download not in downloads.ARCHIVES:
            raise ConfigError(f"--download {download}: no such archive; choose one of {', '.join(downloads.ARCHIVES)}")
        source = str(downloads.fetch(download, Path(cache_dir), progress=progress))
    if source is None:
        raise ConfigError("no SOURCE given: name a folder, a MIDI file, 'bach', or use --download maestro|groove")
    return prepare(source, out, workers=workers, limit=limit, layout=layout, force=force, progress=progress)


def describe(info: dict[str, Any]) -> str:
    """A dataset's ``info()`` as the table ``tunesmith info`` prints."""
    lines = [
        f"dataset   {info['path']}",
        f"source    {info['source']}",
        f"pieces    {info['pieces']}   notes {info['notes']:,}   hours {info['hours']:.2f}",
        f"{'split':<11}{'pieces':>8}{'notes':>12}{'hours':>9}",
    ]
    for name, s in info["splits"].items():
        lines.append(f"{name:<11}{s['pieces']:>8}{s['notes']:>12,}{s['hours']:>9.2f}")
    if info["pitch_range"]:
        lo, hi = info["pitch_range"]
        lines.append(f"pitches   {lo}..{hi}")
    if "tune_groups" in info:
        lines.append(f"tunes     {info['tune_groups']} (pieces that share a tune are in one split)")
    skipped = info["skipped"]
    lines.append(f"skipped   {len(skipped)} file(s)" + (":" if skipped else ""))
    lines += [f"  {s['path']}: {s['reason']}" for s in skipped[:20]]
    if len(skipped) > 20:
        lines.append(f"  ... and {len(skipped) - 20} more (see skipped.csv)")
    return "\n".join(lines)
