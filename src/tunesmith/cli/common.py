"""What the commands share: the help formatter, common arguments, and the families' declared options as
flags (each family declares its options once; the flags and the job's call are made from the declarations)."""


from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

DEFAULT_CACHE = Path(os.environ.get("TUNESMITH_CACHE", Path.home() / ".cache" / "tunesmith"))

Handler = Callable[[argparse.Namespace], int]


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except where there is none to show or the help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


def sampling_arguments(p: argparse.ArgumentParser, of: str) -> None:
    """``--temperature``, ``--top-k`` and ``--top-p``: how the distribution over ``of`` is sampled."""
    p.add_argument(
        "--temperature", type=float, default=1.0, help=f"> 1 more adventurous, < 1 more conservative ({of})"
    )
    p.add_argument("--top-k", type=int, default=None, help="sample only among the K likeliest")
    p.add_argument("--top-p", type=float, default=None, help="sample only within the top probability mass P, in (0, 1]")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


# ---------------------------------------------------------------------------------------------- prepare / info


def declared() -> dict[str, Any]:
    from ..jobs.catalog import declared_options, specs

    return declared_options(specs())


def family_options(p: argparse.ArgumentParser, families: Any) -> None:
    """The families' own generation options, each declared once in its family's options dataclass
    (``families/<name>/spec.py``): a flag per option, its help prefixed by the families that take it."""
    from ..jobs.catalog import declared_options

    groups: dict[str, Any] = {}
    for d in declared_options(families).values():
        target = p if d.group is None else groups.setdefault(d.group, p.add_argument_group(d.group))
        help_text = f"{', '.join(d.families)}: {d.help}"
        if d.kind == "bool":
            target.add_argument(d.cli_flag, dest=d.name, action="store_true", help=help_text)
        else:
            kind = {"float": float, "int": int}.get(d.kind, str)
            target.add_argument(
                d.cli_flag, dest=d.name, type=kind, default=None, metavar=d.metavar, help=help_text, choices=d.choices
            )


def given_options(args: argparse.Namespace, names: Any = None) -> dict[str, Any]:
    """The family options the user gave (by their declarations; a switch left off is not given): what the job is
    called with. Families refuse options they do not take, by name."""
    out = {}
    for d in declared().values():
        if names is not None and d.name not in names:
            continue
        value = getattr(args, d.name, None)
        if d.kind == "bool":
            if value:
                out[d.name] = not d.invert
        elif value is not None:
            out[d.name] = value
    return out


def control_options() -> list[str]:
    """The attribute controls' options, as the families declare them (``harmonize`` asks for them too)."""
    from ..jobs.catalog import CONTROLS

    return [d.name for d in declared().values() if d.group == CONTROLS and d.name != "guidance"]


def kept_chord_strictness(p: argparse.ArgumentParser) -> None:
    """``--chord-strictness`` for the voices written under a kept melody (harmonize, arrange), whose default is not
    generate's."""
    from ..jobs.catalog import KEPT_CHORD_STRICTNESS

    d = declared()["chord_strictness"]
    p.add_argument(
        d.cli_flag, dest=d.name, type=float, default=None, metavar=d.metavar,
        help=f"with chords: nats taken from each written note off its bar's chord (default here "
        f"{KEPT_CHORD_STRICTNESS:g}: the voices under a kept melody keep closer to the chords than generate's; "
        "docs/chords.md)",
    )  # fmt: skip


def device_arguments(p: argparse.ArgumentParser) -> None:
    """``--device`` and ``--threads``: where and on how many CPU threads a model runs."""
    p.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads (default: the cores that other work leaves free, at least 1; docs/benchmarks.md)",
    )


def file_arguments(p: argparse.ArgumentParser) -> None:
    """``--wav``, ``--png`` and ``--score``: what is written beside each MIDI file."""
    p.add_argument("--wav", action="store_true", help="also write a WAV beside each MIDI file")
    p.add_argument("--png", action="store_true", help="also write a piano-roll PNG beside each MIDI file")
    p.add_argument(
        "--score", action="store_true",
        help="also write a MusicXML score beside each MIDI file (on the beat grid, with key and chord symbols)",
    )  # fmt: skip
