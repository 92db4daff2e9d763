"""What the piano-roll GAN declares (no torch): its settings, presets, options and abilities."""

from __future__ import annotations

from dataclasses import dataclass

from ...notes import DEFAULT_QPM
from ..spec import FamilySpec, GenerateOptions, option
from .config import PRESETS, GANConfig


@dataclass(frozen=True)
class GANOptions(GenerateOptions):
    """The GAN's generation options beside the common ones (``length`` counts bars). ``threshold``, ``hold`` and
    ``onsets`` left at None take the run's calibrated decoding (``tunesmith rollstats --save``) when it has one
    and ``sample`` is off, else threshold 0.5, hold = threshold, onsets as the model has them."""

    threshold: float | None = option(None, "a cell sounds above this (default 0.5, or the run's calibrated one)")
    hold: float | None = option(
        None, "a sounding cell goes on while its probability stays above this (default: the threshold; hysteresis, "
        "docs/gan.md)"
    )
    sample: bool = option(False, "draw each cell from its probability instead")
    onsets: bool | None = option(
        None, "read notes from the frame channel alone (a note = a run of sounding cells; docs/gan.md)",
        flag="--frames-only", invert=True,
    )
    qpm: float = option(DEFAULT_QPM, "the pieces' tempo", face=False)



#: A GAN's losses measure its two networks against each other: its weights are kept by the music they make
#: (the decoding calibrated on validation phrases, the protocol's statistics against validation excerpts).
SELECT = {"select_by": "statistics"}


class GANSpec(FamilySpec):
    name = "gan"
    summary = "the piano-roll GAN (DCGAN-style convolutional generator and discriminator)"
    config_cls = GANConfig
    presets = PRESETS
    train_presets = {
        # TensorFlow's DCGAN tutorial (which the paper's GAN follows): BATCH_SIZE 256, Adam(1e-4); the paper's
        # 1000 iterations. epochs is only an upper bound (1000 epochs of >= 1 batch reach 1000 steps); there is
        # no validation loss to stop early on.
        "paper": {**SELECT, "batch_size": 256, "lr": 1e-4, "max_steps": 1000, "epochs": 1000, "patience": None},
        # MuseGAN's optimiser: Adam 1e-3 (with betas (0.5, 0.9), in the model config), batch 64. On MAESTRO,
        # 1e-3 came closer to the real statistics than 2e-4 after 200 steps (3 of 4). 5000 steps: about an hour
        # on 2 CPU cores.
        "default": {**SELECT, "batch_size": 64, "lr": 1e-3, "max_steps": 5000, "epochs": 100000, "patience": None},
        # the same optimiser on MuseGAN's 24-step grid (6x the cells: about 1.2 s a step on 2 CPU cores)
        "musegan": {**SELECT, "batch_size": 64, "lr": 1e-3, "max_steps": 3000, "epochs": 100000, "patience": None},
    }
    preset_notes = {
        **FamilySpec.preset_notes,
        "musegan": "the default networks on MuseGAN's 24 steps per quarter note",
    }
    representation = "pianoroll"
    length_unit = "bars"
    options_cls = GANOptions
    takes_primer = False  # phrases from noise
    takes_temperature = False  # probabilities decoded by threshold or drawn cell by cell (--threshold, --sample)
    features = frozenset({"roll_statistics"})
    paper_figures = (0.622, 0.788)
    in_paper = True
    #: the GAN (WGAN-GP, five critic steps per step) plays from about 15 steps on; its validation scores swing from
    #: epoch to epoch, and the weights whose music scores best on validation are kept
    demo_settings = {"max_steps": "120", "epochs": "100000", "log_every": "4"}


SPECS = [GANSpec()]
