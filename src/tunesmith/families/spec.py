"""What a model family declares, without torch: its name, settings, presets and generation options.

The command line is built from these declarations alone (``tunesmith --help`` and every argument error answer
without importing torch or MidiTok); a family's :class:`~tunesmith.families.base.Family` adds what needs torch
(building, training, generating) to its spec by subclassing it. Each family package keeps its spec in
``spec.py`` (``SPECS``) and its families in ``family.py`` (``FAMILIES``).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..config import ConfigBase
from ..errors import ConfigError

#: the group of the attribute controls' options (a family with the "controls" feature declares them in it): the
#: faces show them together, and ``harmonize`` passes them on
CONTROLS = "attribute controls (runs trained with them; any subset; docs/controls.md)"


def option(
    default: Any = None,
    help: str = "",
    *,
    metavar: str | None = None,
    flag: str | None = None,
    invert: bool = False,
    group: str | None = None,
    face: bool = True,
    choices: tuple[str, ...] | None = None,
    modes: tuple[str, ...] = (),
) -> Any:
    """A family's generation option, declared once: its default and help text, and how the faces show it. The
    command line's flag is ``--NAME`` with dashes (or ``flag``); a bool option is a switch (``invert``: the switch
    sets it False, e.g. ``--frames-only`` for ``onsets``); ``group`` puts it in a titled group of ``--help``;
    ``face=False`` keeps it for the jobs alone (set by ``harmonize``, not typed); ``choices`` the values it takes
    (the command line refuses others while parsing); ``modes`` the studio's modes that set it (e.g. "infill"),
    empty for an option of every mode."""
    meta = {"help": help, "metavar": metavar, "flag": flag, "invert": invert, "group": group, "face": face,
            "choices": choices, "modes": modes}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class OptionDecl:
    """One generation option as the faces see it, merged over the families that declare it."""

    name: str
    kind: str  # "bool", "float", "int" or "str"
    help: str
    families: tuple[str, ...]
    metavar: str | None = None
    flag: str | None = None
    invert: bool = False
    group: str | None = None
    choices: tuple[str, ...] | None = None
    modes: tuple[str, ...] = ()

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


def declared_options(families: Mapping[str, FamilySpec]) -> dict[str, OptionDecl]:
    """Every family's own generation options (beside :class:`GenerateOptions`'), by name, in the registry's order:
    what the command line's flags, the studio and the job's call are made from. Imports no torch."""
    common = {f.name for f in dataclasses.fields(GenerateOptions)}
    out: dict[str, OptionDecl] = {}
    for name, spec in families.items():
        hints = typing.get_type_hints(spec.options_cls)
        for f in dataclasses.fields(spec.options_cls):
            if f.name in common or not f.metadata.get("face", False):
                continue
            hint = str(hints[f.name])
            kind = next((k for k in ("bool", "float", "int") if k in hint), "str")
            if f.name in out:
                out[f.name] = dataclasses.replace(out[f.name], families=(*out[f.name].families, name))
                continue
            m = f.metadata
            out[f.name] = OptionDecl(
                f.name, kind, m["help"], (name,), m["metavar"], m["flag"], m["invert"], m["group"], m["choices"],
                m["modes"],
            )
    return out


@dataclass(frozen=True)
class GenerateOptions:
    """What every family's generation takes. A family with options of its own subclasses this."""

    n: int = 4
    length: int = 200  # new events, or bars for a family whose ``length_unit`` is "bars"
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None
    seed: int = 0


#: What a family may be able to do beyond composing from scratch, by name:
#: - "infill": generate chosen bars of a primer anew, keeping the others (``--infill-bars``);
#: - "keep_tracks": keep tracks of a primer note for note and write the others (``--keep-tracks``, ``harmonize``);
#: - "controls": attribute controls (key, tempo, metre, density, polyphony, range, instruments);
#: - "guidance": classifier-free guidance of the controls (``--guidance``; :attr:`FamilySpec.default_guidance`);
#: - "roll_statistics": MuseGAN's piano-roll statistics and a decoding chosen by them (``rollstats``);
#: - "humanize": plays a programmed drum part as a drummer would (``humanize``);
#: - "styles": plays drums in a drumming style asked for (``style``), with fills (``fill_every``) and ``bars``;
#: - "chords": writes over a chord progression asked for, bar by bar (``chords``; runs trained with chord controls).
FEATURES = ("infill", "keep_tracks", "controls", "guidance", "roll_statistics", "humanize", "styles", "chords")


class FamilySpec:
    """One model kind's declarations. Subclasses set the class attributes (or set them in ``__init__``)."""

    name: str
    summary: str
    config_cls: type[ConfigBase]
    #: model settings per preset name; every preset has its training settings in :attr:`train_presets`
    presets: Mapping[str, Mapping[str, Any]]
    train_presets: Mapping[str, Mapping[str, Any]]
    #: what each preset is, for ``--help`` (presets without a note are listed by name)
    preset_notes: ClassVar[Mapping[str, str]] = {
        "paper": "exactly the paper's settings",
        "default": "tunesmith's better ones (docs/)",
    }
    representation: str = ""
    #: what ``GenerateOptions.length`` counts: "events" (notes, tone steps) or "bars"
    length_unit: str = "events"
    options_cls: type[GenerateOptions] = GenerateOptions
    #: whether :meth:`prediction_errors` is implemented (models that predict the next event)
    predicts_next_event: ClassVar[bool] = False
    #: whether :meth:`likelihood` is implemented (models that give music a probability)
    has_likelihood: ClassVar[bool] = False
    #: whether generation continues a ``primer`` (models that compose from noise alone refuse one)
    takes_primer: ClassVar[bool] = True
    #: whether generation samples from a distribution that ``temperature``, ``top_k`` and ``top_p`` reshape
    takes_temperature: ClassVar[bool] = True
    #: what it can do beyond composing (:data:`FEATURES`): jobs ask :meth:`can`, never for a family's name
    features: ClassVar[frozenset[str]] = frozenset()
    #: the guidance of the controls asked for when none is given (a family with the "guidance" feature)
    default_guidance: ClassVar[float | None] = None
    #: the paper's Table 1 figures (MSE, RMSE) for this model, shown beside ours in reports; None: not in it
    paper_figures: ClassVar[tuple[float, float] | None] = None
    #: one of the paper's models (the demo's report shows those shipped beside the ones it trains)
    in_paper: ClassVar[bool] = False
    #: what ``tunesmith demo`` changes in this family's default preset (``max_steps`` its budget); None: not in it
    demo_settings: ClassVar[Mapping[str, str] | None] = None

    def can(self, feature: str) -> bool:
        """Whether this family has ``feature`` (one of :data:`FEATURES`; another name is a programming error)."""
        if feature not in FEATURES:
            raise ValueError(f"{feature!r} is no feature; the features are {', '.join(FEATURES)}")
        return feature in self.features

    def options(self, **values: Any) -> GenerateOptions:
        """:attr:`options_cls` from keyword values; a name this family does not take is a ConfigError naming the
        families' options it does take."""
        names = {f.name for f in dataclasses.fields(self.options_cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            own = sorted(names - {f.name for f in dataclasses.fields(GenerateOptions)})
            takes = f"its own options are {', '.join(own)}" if own else "it has no options of its own"
            raise ConfigError(f"{self.name} runs take no option {', '.join(unknown)}; {takes}")
        return self.options_cls(**values)

    def check_preset(self, preset: str) -> None:
        if preset not in self.presets:
            raise ConfigError(f"unknown preset {preset!r} for {self.name}; choose one of {', '.join(self.presets)}")

    def default_settings(self) -> list[str]:
        """The model settings ``--set`` takes, as the default preset has them."""
        return list(self.config_cls.from_dict(dict(self.presets["default"])).settings())
