"""The demo's plan (no torch: the command line shows it in ``--help``)."""

from __future__ import annotations

#: The demo's models: kind -> (share of the training budget, settings), each with its default preset.
#: C-RNN-GAN and its baseline (the same generator) are 64 units wide instead of the paper's 350: at 350 a 2-core
#: machine gives them 3 to 4 epochs in their shares, all still playing one or two tones (a generator trained by
#: squared error first plays the mean tone, and leaves it after about 20 epochs). C-RNN-GAN pretrains for 30 epochs
#: (its baseline's number in the demo) and spends the rest of its 70 s on adversarial epochs (35% of the budget:
#: with 30% it kept a set whose tone span was just under half the real one's); the weights whose music scores
#: best on validation are kept (docs/crnngan.md, "In make demo").
DEMO_MODELS: dict[str, tuple[float, dict[str, str]]] = {
    "rnn": (0.3, {"val_every": "250"}),  # an epoch of the default preset outlasts the demo's budget
    "gan": (0.2, {"epochs": "100000"}),  # a GAN epoch on the chorales is a few iterations: its time share limits it
    "crnngan": (0.35, {"pretrain_epochs": "30", "epochs": "100", "hidden": "64", "d_hidden": "64"}),
    "baseline": (0.15, {"hidden": "64"}),
}
