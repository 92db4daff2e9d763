"""The demo's plan (no torch: the command line shows it in ``--help``).

Every model trains to a budget of **steps**, never of seconds, each in one thread: the same demo gives the same
weights and the same report on a fast or a slow, idle or busy machine; only the wall time differs
(docs/evaluation.md, "make demo on an idle and a busy machine"). Two models train at a time on two cores.
"""

from __future__ import annotations

#: The demo's models: kind -> the settings of its default preset that the demo changes (``max_steps`` is the
#: budget; ``epochs`` only an upper bound that the steps reach first).
#: - The RNN validates every 250 steps (an epoch of the default preset is 612 batches of the chorales).
#: - The GAN (WGAN-GP, five critic steps per step) plays from about 15 steps on; its validation scores swing
#:   from epoch to epoch, and the weights whose music scores best on validation are kept.
#: - C-RNN-GAN and its baseline (the same generator) are 64 units wide instead of the paper's 350: at 350 a
#:   generator trained by squared error first plays the mean tone and leaves it only after about 20 epochs,
#:   more than a demo gives. C-RNN-GAN pretrains for 30 epochs (its baseline's length) and then trains
#:   adversarially; the weights whose music scores best on validation are kept (docs/crnngan.md, "In make demo").
DEMO_MODELS: dict[str, dict[str, str]] = {
    "rnn": {"max_steps": "1250", "epochs": "30", "val_every": "250"},
    "gan": {"max_steps": "120", "epochs": "100000", "log_every": "4"},
    "crnngan": {"max_steps": "950", "pretrain_epochs": "30", "epochs": "100", "hidden": "64", "d_hidden": "64"},
    "baseline": {"max_steps": "550", "epochs": "100", "hidden": "64"},
}

#: the paper's models: the demo's report shows those shipped with tunesmith beside the ones it trains
PAPER_KINDS = ("rnn", "gan", "crnngan", "crnngan3", "baseline")
