#!/usr/bin/env bash
# Pack what the GPU checks need into .gpu/ (git-ignored), here, before asking for a GPU machine:
#
#     benchmarks/gpu/pack.sh MAESTRO_FOLDER
#
# A GPU machine of the kind these checks were written for has Python 3.12 with PyTorch (CUDA), numpy, scipy,
# matplotlib, tqdm, safetensors, tokenizers and huggingface_hub, and no network: it lacks symusic and MidiTok, and
# the MAESTRO MIDI (86 MB) is over what travels with the tree (64 MiB). So this fetches their wheels for CPython
# 3.12 on x86-64 Linux from the package index (music21 is not needed: tunesmith imports it only for score formats)
# and packs MAESTRO's train and validation pieces (1,099 MIDI files and the split csv listing them) with xz, about
# 44 MB: with the test split too (51 MB) the tree would be over the limit. The GPU run's held-out figure is therefore
# the validation split's. Then run benchmarks/gpu/run.sh there with .gpu carried (docs/transformer.md, "On a GPU").
set -euo pipefail
src=${1:?usage: benchmarks/gpu/pack.sh MAESTRO_FOLDER}
[ -f "$src/maestro-v3.0.0.csv" ] || { echo "$src: no maestro-v3.0.0.csv; give the MAESTRO folder" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${PYTHON:-$root/.venv/bin/python}
out=$root/.gpu
rm -rf "$out" && mkdir -p "$out/wheels"
# the versions constraints.txt pins; pySmartDL and platformdirs are symusic's own needs
pin() { grep -i "^$1==" "$root/constraints.txt" | head -1; }
"$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 --platform any -d "$out/wheels" \
    "$(pin symusic)" "$(pin miditok)" pySmartDL platformdirs
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$py" - "$src" "$stage/maestro" <<'PY'
import csv, os, sys
src, dst = sys.argv[1:]
with open(os.path.join(src, "maestro-v3.0.0.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
kept = [r for r in rows if r["split"] in ("train", "validation")]
for r in kept:
    path = os.path.join(dst, r["midi_filename"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    os.symlink(os.path.abspath(os.path.join(src, r["midi_filename"])), path)
with open(os.path.join(dst, "maestro-v3.0.0.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(kept)
print(f"{len(kept)} of {len(rows)} pieces: train and validation")
PY
tar -C "$stage" -chf - maestro | xz -T0 -6 > "$out/maestro.tar.xz"
du -sh "$out"/wheels "$out"/maestro.tar.xz
echo "packed; on the GPU machine: bash benchmarks/gpu/run.sh (carry .gpu)"
