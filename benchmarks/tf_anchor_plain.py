"""Run TensorFlow's RNN tutorial (the anchor, unchanged) and add to its result the plain squared errors of its
held-out step and duration predictions, without the positive-pressure penalty its losses carry, so that
``bench_rnn.py`` compares like losses with tunesmith's.

Runs under the tutorial's own Python (with tensorflow); called by ``bench_rnn.py``:

    TF_PYTHON benchmarks/tf_anchor_plain.py ANCHOR FILE_LIST N_FILES EPOCHS OUT.json      (VAL_LIST=held-out list)

The anchor is executed as it is (``runpy``); its model and held-out windows are then read from its globals, and
``val_plain`` (``step_mse``, ``duration_mse``: the mean over the held-out windows of the squared error of the next
note's step and duration) is added to ``OUT.json``.
"""

import json
import runpy
import sys

import numpy as np


def main() -> None:
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    anchor, out = sys.argv[1], sys.argv[5]
    sys.argv = [anchor, *sys.argv[2:]]
    g = runpy.run_path(anchor, run_name="__main__")
    model, vds = g["model"], g.get("vds")
    if vds is None:
        sys.exit("no held-out windows: set VAL_LIST")
    errors: dict[str, list[np.ndarray]] = {"step": [], "duration": []}
    for x, y in vds:
        pred = model(x, training=False)
        for k, e in errors.items():
            e.append((np.asarray(y[k]).ravel() - np.asarray(pred[k]).ravel()) ** 2)
    with open(out) as f:
        res = json.load(f)
    res["val_plain"] = {f"{k}_mse": float(np.concatenate(e).mean()) for k, e in errors.items()}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
