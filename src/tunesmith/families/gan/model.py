"""The piano-roll GAN: a convolutional generator that maps noise to piano-roll phrases and a discriminator (critic)
that tells them from real ones (Goodfellow et al. 2014; DCGAN, Radford et al. 2016; for piano rolls MidiNet, Yang
et al. 2017, and MuseGAN, Dong et al. 2018).

Rolls are ``(B, T, P, C)``: ``T`` steps of the phrase, ``P`` pitches, channels (frame, onset) as in
:mod:`tunesmith.representations.pianoroll`. The generator outputs probabilities ``sigmoid(logits)`` in [0, 1];
the discriminator reads ``2x - 1`` (real rolls are 0/1, so its inputs are -1/1 as in the TensorFlow tutorial's
images scaled to [-1, 1]).

Two architectures:

* ``arch="tutorial"`` (the paper preset): the generator and discriminator of TensorFlow's DCGAN tutorial, which
  the paper's GAN follows, scaled from 28 x 28 images to ``T x P`` rolls: Dense -> (T/4, P/4, 256), BatchNorm,
  LeakyReLU, transposed convolutions 5 x 5 with strides 1, 2, 2 (128, 64, C channels); discriminator: two 5 x 5
  stride-2 convolutions (64, 128) with LeakyReLU and dropout 0.3, then Dense(1).
* ``arch="octave"`` (default preset): time and pitch treated differently, as MuseGAN does: transposed
  convolutions over time ((4, 3) kernels, stride 2 in time, mixing neighbouring octaves) from
  ``T / 2**up_layers`` steps at one cell per octave, then one transposed convolution (1, 12) with stride 12 that
  unfolds each octave into its 12 pitches; the discriminator mirrors it.

Losses (:func:`ns_d_loss` ... :func:`gradient_penalty`):

* ``"ns"``: the standard GAN loss with the non-saturating generator loss (Goodfellow et al. 2014, section 3):
  ``L_D = -log D(x) - log(1 - D(G(z)))``, ``L_G = -log D(G(z))``, with ``D = sigmoid(logit)``, computed as
  softplus of logits (stable for any logit).
* ``"wgan-gp"``: the Wasserstein loss with gradient penalty (Gulrajani et al. 2017, Algorithm 1; MuseGAN's
  choice): ``L_D = D(G(z)) - D(x) + lambda * (||grad_xhat D(xhat)||_2 - 1)^2`` with
  ``xhat = eps x + (1 - eps) G(z)``, ``eps ~ U[0, 1]`` per sample; ``L_G = -D(G(z))``. The penalty needs
  per-sample gradients, so the critic has no batch normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

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


# ------------------------------------------------------------------------------------------------ losses
def ns_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``mean(-log sigmoid(real)) + mean(-log(1 - sigmoid(fake)))`` = ``softplus(-real) + softplus(fake)``."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def ns_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss ``mean(-log sigmoid(fake))``."""
    return F.softplus(-fake_logits).mean()


def wgan_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """The critic's Wasserstein loss ``mean(D(fake)) - mean(D(real))`` (without the penalty)."""
    return fake_scores.mean() - real_scores.mean()


def wgan_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


def gradient_penalty(
    critic: nn.Module | Any, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor | None = None
) -> torch.Tensor:
    """``mean_i (||grad_x D(xhat_i)||_2 - 1)^2`` at ``xhat_i = eps_i real_i + (1 - eps_i) fake_i``.

    ``eps``: (B,) mixing weights (default: drawn from U[0, 1] with torch's global generator). The graph is kept
    (``create_graph``) so that the penalty trains the critic. The sum over the batch of ``D(xhat)`` has, for a
    critic without batch coupling, ``grad D(xhat_i)`` as its gradient with respect to ``xhat_i``."""
    if eps is None:
        eps = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    eps = eps.reshape(-1, *([1] * (real.dim() - 1)))
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


# ------------------------------------------------------------------------------------------------ networks
def _init_output_bias(layer: nn.Module, value: float | None) -> None:
    if value is not None:
        nn.init.constant_(layer.bias, value)


class TutorialGenerator(nn.Module):
    """TensorFlow's DCGAN tutorial generator, for (T, P) rolls instead of 28 x 28 images (no biases, as there)."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        t, p, c = cfg.roll_shape
        self.t0, self.p0 = t // 4, p // 4
        self.fc = nn.Linear(cfg.latent, 256 * self.t0 * self.p0, bias=False)
        self.bn0 = nn.BatchNorm1d(256 * self.t0 * self.p0, eps=1e-3, momentum=0.01)  # Keras' defaults
        self.net = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 5, stride=1, padding=2, bias=False),
            nn.BatchNorm2d(128, eps=1e-3, momentum=0.01),
            nn.LeakyReLU(0.3),  # Keras' LeakyReLU default slope
            nn.ConvTranspose2d(128, 64, 5, stride=2, padding=2, output_padding=1, bias=False),
            nn.BatchNorm2d(64, eps=1e-3, momentum=0.01),
            nn.LeakyReLU(0.3),
            nn.ConvTranspose2d(64, c, 5, stride=2, padding=2, output_padding=1, bias=cfg.output_bias is not None),
        )
        _init_output_bias(self.net[-1], cfg.output_bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.bn0(self.fc(z)), 0.3)  # (B, 256 * T/4 * P/4)
        return self.net(h.view(-1, 256, self.t0, self.p0))  # (B, C, T, P) logits


class TutorialDiscriminator(nn.Module):
    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        t, p, c = cfg.roll_shape
        self.net = nn.Sequential(
            nn.Conv2d(c, 64, 5, stride=2, padding=2),
            nn.LeakyReLU(0.3),
            nn.Dropout(cfg.dropout),
            nn.Conv2d(64, 128, 5, stride=2, padding=2),
            nn.LeakyReLU(0.3),
            nn.Dropout(cfg.dropout),
            nn.Flatten(),
            nn.Linear(128 * (t // 4) * (p // 4), 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)  # (B,)


def _octave_widths(cfg: GANConfig) -> list[int]:
    """Channel widths from the coarsest layer to the finest: 8c, 4c, 2c, c, c, ..."""
    return [cfg.channels * 2 ** max(3 - i, 0) for i in range(cfg.up_layers + 1)]


class OctaveGenerator(nn.Module):
    """Noise -> (C, T, P) logits: up-sampling over time at one cell per octave, then each octave into 12 pitches."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        t, p, c = cfg.roll_shape
        widths = _octave_widths(cfg)
        self.t0, self.octaves, self.w0 = t // 2**cfg.up_layers, p // 12, widths[0]
        self.fc = nn.Linear(cfg.latent, widths[0] * self.t0 * self.octaves)
        self.bn0 = nn.BatchNorm2d(widths[0])
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            if cfg.upsample == "nearest":
                layers += [nn.Upsample(scale_factor=(2, 1), mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1)]
            else:
                layers.append(nn.ConvTranspose2d(cin, cout, (4, 3), stride=(2, 1), padding=(1, 1)))
            layers += [nn.BatchNorm2d(cout), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.pitch = nn.ConvTranspose2d(widths[-1], c, (1, 12), stride=(1, 12), bias=cfg.output_bias is not None)
        _init_output_bias(self.pitch, cfg.output_bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.fc(z).view(-1, self.w0, self.t0, self.octaves)  # (B, 8c, T0, O)
        h = self.net(F.relu(self.bn0(h)))  # (B, c, T, O)
        return self.pitch(h)  # (B, C, T, 12 O) logits


class OctaveDiscriminator(nn.Module):
    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        t, p, c = cfg.roll_shape
        widths = _octave_widths(cfg)[::-1]  # fine to coarse
        layers: list[nn.Module] = [
            nn.Conv2d(c, widths[0], (1, 12), stride=(1, 12)),
            nn.LeakyReLU(0.2),
            nn.Dropout(cfg.dropout),
        ]
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(cin, cout, (4, 3), stride=(2, 1), padding=(1, 1)), nn.LeakyReLU(0.2)]
            layers.append(nn.Dropout(cfg.dropout))
        self.net = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(widths[-1] * (t // 2**cfg.up_layers) * (p // 12), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.net(x)).squeeze(-1)  # (B,)


class PianoRollGAN(nn.Module):
    """Generator and discriminator in one module (one state dict, one weights file)."""

    def __init__(self, cfg: GANConfig) -> None:
        super().__init__()
        self.cfg = cfg
        if cfg.arch == "tutorial":
            self.generator: nn.Module = TutorialGenerator(cfg)
            self.discriminator: nn.Module = TutorialDiscriminator(cfg)
        else:
            self.generator = OctaveGenerator(cfg)
            self.discriminator = OctaveDiscriminator(cfg)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Noise (B, latent) -> roll probabilities (B, T, P, C)."""
        return torch.sigmoid(self.generator(z)).permute(0, 2, 3, 1)

    def noise(self, n: int, device: torch.device | str, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.cfg.latent, device=device, generator=generator)

    def discriminate(self, rolls: torch.Tensor) -> torch.Tensor:
        """Rolls (B, T, P, C) with values in [0, 1] -> one logit (ns) or critic score (wgan-gp) each, (B,)."""
        return self.discriminator(rolls.permute(0, 3, 1, 2) * 2 - 1)

    def critic_input(self, fake: torch.Tensor) -> torch.Tensor:
        """What the discriminator sees of generated rolls: the probabilities, or with ``binarize`` the rolls
        thresholded at 0.5 with the gradient passed straight through (deterministic binary neurons, Dong & Yang
        2018), so that the discriminator cannot tell fakes by their in-between values alone."""
        if not self.cfg.binarize:
            return fake
        return fake + ((fake >= 0.5).to(fake.dtype) - fake).detach()

    # -------------------------------------------------------------------------------------------- objectives
    def d_loss(
        self, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Discriminator loss on real rolls and (detached) generated ones, and its parts for the logs."""
        fake = self.critic_input(fake)
        real_out, fake_out = self.discriminate(real), self.discriminate(fake)
        if self.cfg.loss == "ns":
            loss = ns_d_loss(real_out, fake_out)
            return loss, {
                "d_loss": loss.detach(),
                "d_real": torch.sigmoid(real_out).mean().detach(),  # D's probability that real is real
                "d_fake": torch.sigmoid(fake_out).mean().detach(),
            }
        w = wgan_d_loss(real_out, fake_out)
        gp = gradient_penalty(self.discriminate, real, fake, eps) if self.cfg.gp_weight else w.new_zeros(())
        loss = w + self.cfg.gp_weight * gp
        return loss, {"d_loss": loss.detach(), "wasserstein": -w.detach(), "gp": gp.detach()}

    def g_loss(self, fake: torch.Tensor) -> torch.Tensor:
        out = self.discriminate(self.critic_input(fake))
        return ns_g_loss(out) if self.cfg.loss == "ns" else wgan_g_loss(out)
