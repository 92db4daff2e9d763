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

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

# the settings and presets: config.py (no torch, so that the command line reads them without loading torch)
from .config import ARCHS, LOSSES, PRESETS, UPSAMPLES, GANConfig  # noqa: F401


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
