"""The piano-roll GAN's settings and presets (no torch: the command line reads them without loading a model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...config import ConfigBase
from ...errors import ConfigError
from ...representations.pianoroll import N_CHANNELS, PianoRollConfig

ARCHS = ("tutorial", "octave")
LOSSES = ("ns", "wgan-gp")
UPSAMPLES = ("transposed", "nearest")


@dataclass
class GANConfig(ConfigBase):
    config_name = "gan"

    #: the piano roll (representations/pianoroll.py): steps_per_quarter, lowest_pitch, n_pitches, bars,
    #: beats_per_bar; each can be set by its own name (``--set steps_per_quarter=24``)
    roll: PianoRollConfig = field(default_factory=PianoRollConfig)
    onsets: bool = True  # two channels (frame, onset); False: frames only (repeated notes merge)
    #: phrases start every ``hop_bars`` bars within a piece (None: one phrase length, no overlap)
    hop_bars: int | None = None
    # the networks
    arch: str = "octave"
    latent: int = 128
    #: octave: width of the finest layer (coarser ones up to 8x; the tutorial's are fixed at 64..256). 16 trains at
    #: about 0.6 s a step on 2 CPU cores (32: 3 s, 64: 12 s); on a GPU, wider is affordable
    channels: int = 16
    up_layers: int = 4  # octave: time doublings from T / 2**up_layers steps
    #: octave: how the generator doubles time. "transposed": (4, 3) transposed convolutions with stride 2;
    #: "nearest": repeat each step twice, then a (3, 3) convolution (the resize-convolution of Odena et al. 2016,
    #: "Deconvolution and checkerboard artifacts": strided transposed convolutions are prone to periodic patterns
    #: along the upsampled axis, and along time in a piano roll such patterns split held notes into fragments)
    upsample: str = "transposed"
    dropout: float = 0.0  # in the discriminator
    binarize: bool = False  # feed the discriminator thresholded rolls, gradients straight through (BinaryMuseGAN)
    #: initial bias of the generator's output logits: a sparse prior (real rolls have about 3% of their cells
    #: on; logit(0.05) = -2.9), as Lin et al. 2017 (focal loss) initialise rare-class outputs. Without it the
    #: generator starts at probability 0.5 everywhere and the critic wins by far for hundreds of steps (measured
    #: on MAESTRO: Wasserstein estimate 122 with bias 0 against 7 with -3 after 200 steps). None: no output bias
    #: (the tutorial's generator has none).
    output_bias: float | None = -3.0
    # the objective and its optimisation (learning rate, batch size: the training config)
    loss: str = "wgan-gp"
    gp_weight: float = 10.0
    d_steps: int = 5  # discriminator updates per generator update (one trainer step)
    beta1: float = 0.5
    beta2: float = 0.9
    #: TensorFlow-style shuffle buffer for the order of training phrases; None: a full permutation every epoch
    shuffle_buffer: int | None = None
    # what training writes and logs
    sample_every: int = 500  # steps between sample grids (run/samples/step_NNNNNN.png); 0: none
    n_fixed: int = 16  # phrases in the fixed-noise batch (grid and logged statistics)
    stat_phrases: int = 256  # real training phrases whose statistics are logged once as real/<name>

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ConfigError(f"gan: arch must be one of {', '.join(ARCHS)}, got {self.arch!r}")
        if self.upsample not in UPSAMPLES:
            raise ConfigError(f"gan: upsample must be one of {', '.join(UPSAMPLES)}, got {self.upsample!r}")
        if self.loss not in LOSSES:
            raise ConfigError(f"gan: loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        roll = self.roll
        for name in ("latent", "channels", "up_layers", "d_steps", "n_fixed", "stat_phrases"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"gan: {name} must be positive, got {getattr(self, name)}")
        if self.hop_bars is not None and self.hop_bars <= 0:
            raise ConfigError(f"gan: hop_bars must be positive, got {self.hop_bars}")
        if self.shuffle_buffer is not None and self.shuffle_buffer <= 0:
            raise ConfigError(f"gan: shuffle_buffer must be positive, got {self.shuffle_buffer}")
        if self.sample_every < 0:
            raise ConfigError(f"gan: sample_every must be >= 0, got {self.sample_every}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"gan: dropout must be in [0, 1), got {self.dropout}")
        if self.gp_weight < 0 or not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ConfigError("gan: need gp_weight >= 0 and Adam betas in [0, 1)")
        if self.arch == "octave":
            if roll.n_pitches % 12:
                raise ConfigError(f"gan: the octave architecture needs whole octaves; n_pitches={roll.n_pitches}")
            if roll.phrase_steps % 2**self.up_layers:
                raise ConfigError(
                    f"gan: a phrase of {roll.phrase_steps} steps cannot be halved up_layers={self.up_layers} times"
                )
        elif roll.phrase_steps % 4 or roll.n_pitches % 4:
            raise ConfigError(
                f"gan: the tutorial architecture needs steps and pitches divisible by 4, got "
                f"{roll.phrase_steps} x {roll.n_pitches}"
            )

    @property
    def n_channels(self) -> int:
        return N_CHANNELS if self.onsets else 1

    @property
    def roll_shape(self) -> tuple[int, int, int]:
        """(T, P, C) of one phrase."""
        roll = self.roll
        return roll.phrase_steps, roll.n_pitches, self.n_channels


PRESETS: dict[str, dict[str, Any]] = {
    # The paper gives no numbers for its GAN beyond following TensorFlow's DCGAN tutorial, whose values these are
    # (the paper itself is not available to us; the values are ASSUMED from the tutorial, which its GAN section
    # follows): BUFFER_SIZE 60000, BATCH_SIZE 256 and Adam(1e-4) with Keras' default betas (0.9, 0.999) (batch and
    # learning rate: the training preset), noise_dim 100, the tutorial's networks, one discriminator and one
    # generator update per iteration, the standard loss. Input size: the tutorial's 28 x 28 images become our
    # 64-step x 84-pitch phrases (4 bars of 4/4 at 4 steps per quarter, C1..B7). 1000 iterations: max_steps.
    "paper": {
        "arch": "tutorial",
        "latent": 100,
        "dropout": 0.3,
        "loss": "ns",
        "d_steps": 1,
        "beta1": 0.9,
        "beta2": 0.999,
        "shuffle_buffer": 60000,
        "output_bias": None,
        "sample_every": 100,
    },
    # MuseGAN's choices: WGAN-GP (lambda 10, 5 critic steps per generator step, Adam betas (0.5, 0.9)),
    # time and pitch convolved separately; latent 128; a sparse prior on the output (output_bias).
    "default": {},
    # The default networks on MuseGAN's own grid: 24 steps per quarter note (96 per bar, 384 per 4-bar phrase), the
    # grid on which its qualified-note rate (notes of at least 3 steps, a 32nd note) was defined. Frames only: at
    # this resolution a performer's repeated notes are apart by at least one step, so the onset channel adds
    # nothing (MAESTRO training phrases: the same four statistics with and without it; docs/gan.md). Seven time
    # doublings from 3 steps, by resize-convolution: with transposed convolutions the generator split its held
    # notes (qualified-note rate 0.56 against the real 0.73 after 1795 iterations; 0.67 with "nearest" after 669).
    "musegan": {"steps_per_quarter": 24, "onsets": False, "up_layers": 7, "upsample": "nearest", "sample_every": 250},
}
