"""The one definition of each file name in a run folder (what ``tunesmith train`` writes), with no torch import,
so that plots, reports and the command line can name them cheaply.

A run folder holds:

* :data:`CONFIG` ``config.json``: model kind, model / representation / training configs, data fingerprint,
  package versions;
* :data:`WEIGHTS` ``model.safetensors``: the weights to generate with, weights only (loading never unpickles
  code), saved from the unwrapped module (no DDP or compile prefixes);
* :data:`STATE` ``trainer_state.pt``: for ``--resume`` only: latest weights, optimizer states, RNG states,
  counters;
* :data:`METRICS` ``metrics.jsonl``: one JSON object per logged step, validation or epoch;
* :data:`DECODING` ``decoding.json`` (piano-roll GAN runs, written by ``tunesmith rollstats --save``): the
  calibrated threshold and hold that generation uses unless told otherwise;
* :data:`SAMPLES` ``samples/``: images of samples written during training;
* :data:`ORIGINALITY` ``originality.npz`` (shipped models, in its compact form): the index of the training
  split's runs of notes, so that ``tunesmith originality --run NAME`` needs no dataset (a model trained on another's
  split names it in its card, ``originality_index.same_as``, instead of a copy);
* ``NAME.npy``: arrays a family keeps in the run (:func:`array_file`), e.g. the RNN's primers.
"""

from __future__ import annotations

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
STATE = "trainer_state.pt"
METRICS = "metrics.jsonl"
DECODING = "decoding.json"
SAMPLES = "samples"
ORIGINALITY = "originality.npz"


def array_file(name: str) -> str:
    """The file name of an array a family keeps in its run (``primers`` -> ``primers.npy``)."""
    return f"{name}.npy"
