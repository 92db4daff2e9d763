"""Musical metrics: pure functions of :class:`~tunesmith.notes.Notes`, the package's one implementation of each.

Every metric is a function of one piece, with its formula and its source in the docstring; training logs, the
evaluation report and the set comparison all call these same functions. They do no I/O and are vectorised with
NumPy (they run on thousands of generated pieces per epoch).

Conventions shared by every function here:

- **Drum notes are ignored** (``is_drum``): their "pitch" names an instrument, not a pitch (as muspy does).
- **No notes -> 0.0** (0 for the integer counts, a zero vector for the note-length histogram), never an
  exception and never NaN, so that averages over many generated pieces stay finite. A metric that is undefined
  for a non-empty piece (groove consistency of a piece shorter than two bars) also returns 0.0. Read a 0.0
  together with the piece's note count.
- **Onset order**: tones ordered by onset (``start_qn``), ties by pitch, lowest first.
- **Same onset**: two tones start together when their onsets differ by less than one tick at C-RNN-GAN's 384
  ticks per quarter note (:data:`ONSET_TOLERANCE_QN`); onsets exactly one tick apart are distinct.
- **Time grid** (piano-roll metrics, groove consistency): ``steps_per_quarter`` steps per quarter note, from the
  quarter-note times (so performance MIDI with tempo changes lands on its beats). A note starts at step
  ``round(start_qn * steps_per_quarter)`` and ends at ``max(round(end_qn * steps_per_quarter), start + 1)``
  (rounded half up; a note covers at least one step). The grid starts at time 0, as a piano roll does: silence
  before the first note counts as empty beats and bars. It ends with the last sounding step (Notes carry no
  length of their own, so trailing silence cannot be seen).
- **Bars** follow the piece's time signatures (4/4 where there is none): a bar lasts
  ``numerator * 4 / denominator`` quarter notes; a time-signature change cuts the bar it falls in.
- **Beats** are quarter notes.

Invalid arguments (``steps_per_quarter < 1``, ``n < 1``, ...) raise :class:`~tunesmith.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..grid import DEFAULT_STEPS_PER_QUARTER, check_steps, note_steps, to_steps
from ..notes import Notes

#: Onsets less than this apart (in quarter notes) are the same onset: one tick at 384 ticks per quarter note.
ONSET_TOLERANCE_QN = 1.0 / 384.0
# Float slack so that onsets exactly one tick apart (k/384 - (k-1)/384 in float64) stay distinct.
_ONSET_SLACK = 1e-9

#: MuseGAN's qualified note: at least this many steps long (3 steps = a dotted 8th at 4 steps per quarter).
QUALIFIED_MIN_STEPS = 3
#: Subsequence lengths of C-RNN-GAN's repetition statistics.
REPETITION_LENGTHS = (2, 3, 4)

#: Yang & Lerch (2018)'s 12 note-length classes; histograms list them in this order.
NOTE_LENGTH_CLASSES = (
    "full",
    "half",
    "quarter",
    "8th",
    "16th",
    "dotted half",
    "dotted quarter",
    "dotted 8th",
    "dotted 16th",
    "half triplet",
    "quarter triplet",
    "8th triplet",
)
#: The classes' lengths in quarter notes (a full note = one 4/4 bar).
NOTE_LENGTH_CLASSES_QN = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 3.0, 1.5, 0.75, 0.375, 4 / 3, 2 / 3, 1 / 3])

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
NATURAL_MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)


def _scale_masks() -> np.ndarray:
    """(24, 12) bool: rows 0-11 the major scales on C..B, rows 12-23 the natural-minor scales on C..B."""
    masks = np.zeros((24, 12), dtype=bool)
    for root in range(12):
        masks[root, [(root + d) % 12 for d in MAJOR_SCALE]] = True
        masks[12 + root, [(root + d) % 12 for d in NATURAL_MINOR_SCALE]] = True
    return masks


SCALE_MASKS = _scale_masks()


# ---------------------------------------------------------------------------------------------------- helpers
def _pitched(notes: Notes) -> np.ndarray:
    """The note table without drum notes."""
    a = notes.notes
    drum = a["is_drum"]
    return a[~drum] if drum.any() else a


def _onset_order(a: np.ndarray) -> np.ndarray:
    """Indices of the notes in onset order, ties by pitch (lowest first)."""
    return np.lexsort((a["pitch"], a["start_qn"]))


def _same_onset_as_previous(start_qn_sorted: np.ndarray) -> np.ndarray:
    """For onsets sorted ascending: True where an onset lies within the tolerance of the one before it."""
    return np.diff(start_qn_sorted) < ONSET_TOLERANCE_QN - _ONSET_SLACK


def _grid(a: np.ndarray, steps_per_quarter: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end steps of each note (end exclusive, at least one step after the start): the one quantiser."""
    return note_steps(a["start_qn"], a["end_qn"], steps_per_quarter)


def _roll(a: np.ndarray, steps_per_quarter: int) -> np.ndarray:
    """Binary piano roll (steps, 128) from step 0 to the last sounding step: True where a pitch sounds.

    Built from +1/-1 marks at each note's start/end and a cumulative sum over time (no per-note loop)."""
    start, end = _grid(a, steps_per_quarter)
    n_steps = int(end.max())
    pitch = a["pitch"].astype(np.int64)
    marks = np.bincount(start * 128 + pitch, minlength=(n_steps + 1) * 128) - np.bincount(
        end * 128 + pitch, minlength=(n_steps + 1) * 128
    )
    return np.cumsum(marks.reshape(n_steps + 1, 128)[:n_steps], axis=0) > 0


def _bar_length_qn(numerator: int, denominator: int) -> float:
    if numerator < 1 or denominator < 1:  # a broken time signature in a file: read it as 4/4
        return 4.0
    return numerator * 4.0 / denominator


def _bar_starts(time_signatures: np.ndarray, n_steps: int, steps_per_quarter: int) -> np.ndarray:
    """Sorted step indices where bars begin, covering steps 0 .. n_steps - 1 (the first is 0)."""
    ts = np.sort(time_signatures, order="qn", kind="stable")
    ts = ts[ts["qn"] >= 0]
    qn = ts["qn"].tolist()
    lengths = [_bar_length_qn(int(n), int(d)) for n, d in zip(ts["numerator"], ts["denominator"], strict=True)]
    if not qn or qn[0] > 0:
        qn, lengths = [0.0, *qn], [4.0, *lengths]
    end_qn = n_steps / steps_per_quarter
    starts = []
    for k, (begin, length) in enumerate(zip(qn, lengths, strict=True)):
        stop = min(qn[k + 1], end_qn) if k + 1 < len(qn) else end_qn
        if stop <= begin:
            continue
        count = int(np.ceil((stop - begin) / length - 1e-9))
        starts.append(begin + length * np.arange(max(count, 1)))
    steps = np.unique(to_steps(np.concatenate(starts), steps_per_quarter))
    return steps[steps < n_steps]


# ---------------------------------------------------------------------------------------------------- basic
def pitch_range(notes: Notes) -> int:
    """Pitch range in semitones: ``max(pitch) - min(pitch)``; 0 without notes.

    Source: Yang & Lerch 2018, "On the evaluation of generative models in music" (PR); muspy's ``pitch_range``.
    """
    p = _pitched(notes)["pitch"]
    return int(p.max()) - int(p.min()) if p.size else 0


def pitches_used(notes: Notes) -> int:
    """Number of distinct pitches: ``|{pitch}|``. Source: Yang & Lerch 2018 (PC); muspy's ``n_pitches_used``."""
    return int(np.unique(_pitched(notes)["pitch"]).size)


def pitch_classes_used(notes: Notes) -> int:
    """Number of distinct pitch classes: ``|{pitch mod 12}|``. Source: muspy's ``n_pitch_classes_used``."""
    return int(np.unique(_pitched(notes)["pitch"] % 12).size)


def _entropy_bits(counts: np.ndarray) -> float:
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts[counts > 0] / total
    return float(-(p * np.log2(p)).sum())


def pitch_entropy(notes: Notes) -> float:
    """Shannon entropy in bits of the pitch histogram (one count per note):
    ``H = -sum_i p_i log2 p_i`` with ``p_i = #notes of pitch i / #notes``; 0.0 without notes.

    Source: Wu & Yang 2020, "The Jazz Transformer on the Front Line" (pitch-class entropy); muspy's
    ``pitch_entropy``.
    """
    return _entropy_bits(np.bincount(_pitched(notes)["pitch"], minlength=128))


def pitch_class_entropy(notes: Notes) -> float:
    """Shannon entropy in bits of the pitch-class histogram (one count per note):
    ``H = -sum_c p_c log2 p_c`` with ``p_c = #notes of pitch class c / #notes`` (at most log2 12).

    Source: Wu & Yang 2020, "The Jazz Transformer on the Front Line"; muspy's ``pitch_class_entropy``.
    """
    return _entropy_bits(np.bincount(_pitched(notes)["pitch"] % 12, minlength=12))


def average_inter_onset_interval(notes: Notes) -> float:
    """Mean time in seconds between consecutive distinct onsets: ``mean(t[k+1] - t[k])`` over the sorted distinct
    onset times ``t`` (tones starting together count once); 0.0 with fewer than two distinct onsets.

    Source: Yang & Lerch 2018 (IOI).
    """
    a = _pitched(notes)
    if a.size < 2:
        return 0.0
    order = np.argsort(a["start_qn"], kind="stable")
    first_of_onset = np.concatenate([[True], ~_same_onset_as_previous(a["start_qn"][order])])
    onsets = a["start"][order][first_of_onset]
    return float(np.diff(onsets).mean()) if onsets.size > 1 else 0.0


def note_length_histogram(
    notes: Notes,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
    bins: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Normalised histogram of note lengths over Yang & Lerch 2018's 12 classes (NLH).

    Each note's length ``end_qn - start_qn`` (exact, not rounded to the grid: triplets survive) goes to the class
    whose length is nearest (absolute difference, first class on a tie, as in their mgeval code); longer notes
    than a full note go to "full". The result ``h[k] = #notes in class k / #notes`` sums to 1 (all zeros without
    notes). Classes, in order (:data:`NOTE_LENGTH_CLASSES`): full, half, quarter, 8th, 16th, dotted half, dotted
    quarter, dotted 8th, dotted 16th, half triplet, quarter triplet, 8th triplet, with a full note of 4 quarter
    notes whatever the time signature (mgeval scales every class to the bar, so that in 3/4 its "full" is 3).

    ``bins``: other class lengths, in steps of ``steps_per_quarter`` per quarter note (the grid unit of the
    piano-roll metrics); by default the 12 classes above. ``steps_per_quarter`` only sets that unit.

    Source: Yang & Lerch 2018, "On the evaluation of generative models in music", section 4.2 (NLH).
    """
    spq = check_steps(steps_per_quarter)
    classes = NOTE_LENGTH_CLASSES_QN * spq if bins is None else np.asarray(bins, dtype=np.float64).ravel()
    if classes.size == 0 or not np.all(np.isfinite(classes)):
        raise ConfigError("note_length_histogram: bins must be a non-empty list of finite lengths in steps")
    a = _pitched(notes)
    if a.size == 0:
        return np.zeros(classes.size)
    length = (a["end_qn"] - a["start_qn"]) * spq  # (N,) in steps
    nearest = np.abs(length[:, None] - classes[None, :]).argmin(axis=1)  # (N,)
    return np.bincount(nearest, minlength=classes.size) / a.size


def note_count(notes: Notes) -> int:
    """Number of (pitched) notes. Source: Yang & Lerch 2018 (NC)."""
    return int(_pitched(notes).size)


def pitch_class_histogram(notes: Notes) -> np.ndarray:
    """Normalised 12-bin pitch-class histogram: ``h[c] = #notes with pitch mod 12 == c / #notes`` (sums to 1; all
    zeros without notes). Source: Yang & Lerch 2018 (PCH)."""
    a = _pitched(notes)
    if a.size == 0:
        return np.zeros(12)
    return np.bincount(a["pitch"] % 12, minlength=12) / a.size


def _transition_matrix(classes: np.ndarray, k: int) -> np.ndarray:
    """``M[i, j] = #{t : c[t] = i, c[t+1] = j} / (len(c) - 1)``: transitions between consecutive classes."""
    if classes.size < 2:
        return np.zeros((k, k))
    counts = np.bincount(classes[:-1] * k + classes[1:], minlength=k * k).reshape(k, k)
    return counts / (classes.size - 1)


def pitch_class_transition_matrix(notes: Notes) -> np.ndarray:
    """12x12 pitch-class transition matrix (PCTM) of consecutive notes in onset order (ties by pitch):
    ``M[i, j] = #{t : pc[t] = i, pc[t+1] = j} / (N - 1)``, normalised to sum 1 so that pieces of different length
    compare; all zeros with fewer than two notes.

    Source: Yang & Lerch 2018 (PCTM). Their mgeval code takes pretty_midi's matrix, which pairs notes whose onsets
    lie within 0.05 s of each other's ends and so depends on articulation; here every consecutive pair of
    notes counts, as the paper describes it.
    """
    a = _pitched(notes)
    return _transition_matrix((a["pitch"][_onset_order(a)] % 12).astype(np.int64), 12)


def average_pitch_interval(notes: Notes) -> float:
    """Average absolute interval in semitones between consecutive notes in onset order (ties by pitch):
    ``mean_t |p[t+1] - p[t]|``; 0.0 with fewer than two notes. Source: Yang & Lerch 2018 (PI)."""
    a = _pitched(notes)
    if a.size < 2:
        return 0.0
    p = a["pitch"][_onset_order(a)].astype(np.int64)
    return float(np.abs(np.diff(p)).mean())


def _length_classes(a: np.ndarray) -> np.ndarray:
    """Index of each note's nearest note-length class (:data:`NOTE_LENGTH_CLASSES_QN`; first class on a tie)."""
    length = a["end_qn"] - a["start_qn"]
    return np.abs(length[:, None] - NOTE_LENGTH_CLASSES_QN[None, :]).argmin(axis=1)


def note_length_transition_matrix(notes: Notes) -> np.ndarray:
    """12x12 note-length transition matrix (NLTM) of consecutive notes in onset order (ties by pitch), over the
    classes of :func:`note_length_histogram`: ``M[i, j] = #{t : class[t] = i, class[t+1] = j} / (N - 1)``
    (sums to 1; all zeros with fewer than two notes). Source: Yang & Lerch 2018 (NLTM)."""
    a = _pitched(notes)
    return _transition_matrix(_length_classes(a[_onset_order(a)]).astype(np.int64), NOTE_LENGTH_CLASSES_QN.size)


def groove_consistency(
    notes: Notes,
    steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER,
    beats_per_bar: float | None = None,
) -> float:
    """Groove consistency: ``GC = 1 - 1/(T-1) * sum_{i=1}^{T-1} d(G_i, G_{i+1}) / Q``.

    ``G_i`` is bar i's binary onset pattern on the grid (``Q`` steps per bar: 1 where a note starts), ``d`` the
    Hamming distance, ``T`` the number of bars from bar 0 to the bar of the last onset (empty bars included: a
    silent bar between two played ones breaks the groove). 1.0 means every bar repeats its neighbour's rhythm.
    Bars last ``beats_per_bar`` quarter notes; by default the piece's first time signature (4/4 without one),
    since onset patterns only compare when every bar has the same length. 0.0 without notes or when the
    onsets lie in one bar (no pair of bars: undefined).

    Source: Wu & Yang 2020, "The Jazz Transformer on the Front Line" (GS); muspy's ``groove_consistency``.
    """
    spq = check_steps(steps_per_quarter)
    if beats_per_bar is None:
        ts = notes.time_signatures
        bar_qn = _bar_length_qn(int(ts["numerator"][0]), int(ts["denominator"][0])) if ts.size else 4.0
    else:
        if not np.isfinite(beats_per_bar) or beats_per_bar <= 0:
            raise ConfigError(f"beats_per_bar must be a positive number of quarter notes, got {beats_per_bar!r}")
        bar_qn = float(beats_per_bar)
    q = max(1, round(bar_qn * spq))
    a = _pitched(notes)
    if a.size == 0:
        return 0.0
    onset = np.maximum(to_steps(a["start_qn"], spq), 0)
    bar, position = np.divmod(onset, q)
    n_bars = int(bar.max()) + 1
    if n_bars < 2:
        return 0.0
    pattern = np.zeros((n_bars, q), dtype=bool)  # (T, Q)
    pattern[bar, position] = True
    hamming = np.count_nonzero(pattern[1:] != pattern[:-1])
    return float(1.0 - hamming / (q * (n_bars - 1)))


# ---------------------------------------------------------------------------------------------------- C-RNN-GAN
def polyphony(notes: Notes) -> float:
    """C-RNN-GAN's polyphony: the share of tones that start together with at least one other tone,
    ``#{tones whose onset is within one 1/384-quarter tick of another tone's} / #tones``.

    Source: Mogren 2016, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training", section 4
    (polyphony: how often tones are played at the same time). His ``midi_statistics.py`` mixes tones and onsets in its
    counts (its loop adds to a counter after every tone and again at every new onset); this is the share of
    tones the paper describes.
    """
    a = _pitched(notes)
    if a.size == 0:
        return 0.0
    together = _same_onset_as_previous(np.sort(a["start_qn"]))  # (N-1,) tone k+1 starts with tone k
    shared = np.zeros(a.size, dtype=bool)
    shared[1:] |= together
    shared[:-1] |= together
    return float(shared.mean())


def scale_consistency(notes: Notes) -> float:
    """C-RNN-GAN's scale consistency: the largest share of tones whose pitch class lies in one scale,
    ``max_s #{tones with pitch mod 12 in s} / #tones`` over the 24 major and natural-minor scales
    (:data:`SCALE_MASKS`). A C-major scale gives 1.0, a chromatic scale 7/12.

    Source: Mogren 2016, section 4 (the share of tones in a standard scale, for the best-matching scale); his
    ``midi_statistics.py`` also tries the harmonic-minor scales, left out here); muspy's ``scale_consistency``.
    """
    a = _pitched(notes)
    if a.size == 0:
        return 0.0
    histogram = np.bincount(a["pitch"] % 12, minlength=12)  # (12,)
    return float((SCALE_MASKS @ histogram).max() / a.size)


def repetitions(notes: Notes, n: int) -> float:
    """C-RNN-GAN's repetitions of ``n``-tone subsequences, normalised so that pieces of different length compare.

    With ``s`` the pitch sequence in onset order (length ``L``) and ``W = L - n + 1`` its ``n``-tone windows
    ``s[i:i+n]``::

        repetitions_n = #{i : there is j >= i + n with s[j:j+n] == s[i:i+n]} / W

    the share of windows that are played again later in the piece, after the window has ended (no overlap, as
    in Mogren's code). 0.0 when ``L < n``. A sequence that never repeats gives 0; it cannot reach 1, since the
    last ``n`` windows have no room after them.

    Source: Mogren 2016, section 4 (repetitions of short subsequences). His ``midi_statistics.py`` counts the
    *pairs* (i, j) of equal non-overlapping windows (and misses the last window): a raw count that grows with
    the square of the piece's length, which makes pieces of different length incomparable; this counts each
    window once and divides by the number of windows.
    """
    if int(n) != n or n < 1:
        raise ConfigError(f"repetitions: n must be a positive integer, got {n!r}")
    n = int(n)
    a = _pitched(notes)
    if a.size < n:
        return 0.0
    seq = a["pitch"][_onset_order(a)].astype(np.int16)
    windows = np.lib.stride_tricks.sliding_window_view(seq, n)  # (W, n)
    _, ids = np.unique(windows, axis=0, return_inverse=True)
    ids = ids.ravel()
    position = np.arange(ids.size)
    last = np.zeros(int(ids.max()) + 1, dtype=np.int64)
    np.maximum.at(last, ids, position)  # last window position of each distinct subsequence
    return float(np.count_nonzero(last[ids] >= position + n) / ids.size)


def tone_span(notes: Notes) -> int:
    """C-RNN-GAN's tone span: semitones from the lowest to the highest tone, ``max(pitch) - min(pitch)``
    (the same number as :func:`pitch_range`). Source: Mogren 2016, section 4."""
    return pitch_range(notes)


def unique_tones(notes: Notes) -> int:
    """C-RNN-GAN's unique tones: the number of distinct pitches (the same number as :func:`pitches_used`).
    Source: Mogren 2016, section 4."""
    return pitches_used(notes)


def intensity_span(notes: Notes) -> int:
    """C-RNN-GAN's intensity span: ``max(velocity) - min(velocity)``; 0 without notes.
    Source: Mogren 2016, section 4."""
    v = _pitched(notes)["velocity"]
    return int(v.max()) - int(v.min()) if v.size else 0


def crnngan_statistics(notes: Notes) -> dict[str, float]:
    """All of C-RNN-GAN's statistics (Mogren 2016, section 4) as floats: polyphony, scale_consistency,
    repetitions_2, repetitions_3, repetitions_4, tone_span, unique_tones, intensity_span."""
    stats = {"polyphony": polyphony(notes), "scale_consistency": scale_consistency(notes)}
    for n in REPETITION_LENGTHS:
        stats[f"repetitions_{n}"] = repetitions(notes, n)
    stats["tone_span"] = float(tone_span(notes))
    stats["unique_tones"] = float(unique_tones(notes))
    stats["intensity_span"] = float(intensity_span(notes))
    return stats


# ---------------------------------------------------------------------------------------------------- MuseGAN
def _empty_beat_rate(roll: np.ndarray, spq: int) -> float:
    sounding = roll.any(axis=1)  # (S,)
    n_beats = -(-sounding.size // spq)
    padded = np.zeros(n_beats * spq, dtype=bool)
    padded[: sounding.size] = sounding
    # the EMPTY share: pypianoroll's empty_beat_rate returns count_nonzero(any(...)) / beats, the non-empty one
    return float(1.0 - padded.reshape(n_beats, spq).any(axis=1).mean())


def _pitch_classes_per_bar(roll: np.ndarray, time_signatures: np.ndarray, spq: int) -> float:
    chroma = np.zeros((roll.shape[0], 132), dtype=bool)  # pad 128 pitches to 11 octaves
    chroma[:, :128] = roll
    chroma = chroma.reshape(-1, 11, 12).any(axis=1)  # (S, 12)
    starts = _bar_starts(time_signatures, roll.shape[0], spq)
    per_bar = np.add.reduceat(chroma.astype(np.int32), starts, axis=0) > 0  # (bars, 12)
    return float(per_bar.sum(axis=1).mean())


def _polyphony_rate(roll: np.ndarray) -> float:
    count = roll.sum(axis=1)  # (S,) pitches sounding per step
    sounding = np.count_nonzero(count)
    return float(np.count_nonzero(count >= 2) / sounding) if sounding else 0.0


def empty_beat_rate(notes: Notes, steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER) -> float:
    """MuseGAN's empty-beat rate: ``#{beats where no note sounds} / #beats``, beats (quarter notes) from time 0 to
    the last sounding step on the grid; 0.0 without notes.

    Source: Dong et al. 2018, "MuseGAN", section "Objective metrics": their EB is the share of empty *bars*;
    this beat version is their pypianoroll's (and muspy's) ``empty_beat_rate``. Beware pypianoroll's, which
    returns the share of NON-empty beats.
    """
    spq = check_steps(steps_per_quarter)
    a = _pitched(notes)
    return _empty_beat_rate(_roll(a, spq), spq) if a.size else 0.0


def pitch_classes_per_bar(notes: Notes, steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER) -> float:
    """MuseGAN's used pitch classes per bar (UPC): ``mean over bars b of |{pitch mod 12 sounding in b}|``, with
    bars from the piece's time signatures (4/4 without one) from time 0 to the last sounding step. A note held
    across a bar line counts in both bars; an empty bar counts 0 (MuseGAN: "from 0 to 12"). 0.0 without notes.

    Source: Dong et al. 2018, "MuseGAN", section "Objective metrics" (UPC).
    """
    spq = check_steps(steps_per_quarter)
    a = _pitched(notes)
    return _pitch_classes_per_bar(_roll(a, spq), notes.time_signatures, spq) if a.size else 0.0


def qualified_note_rate(
    notes: Notes, steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER, min_steps: int = QUALIFIED_MIN_STEPS
) -> float:
    """MuseGAN's qualified-note rate (QN): ``#{notes lasting >= min_steps steps on the grid} / #notes``; 0.0
    without notes.

    Durations come from each note's own start and end, so two notes that touch stay two notes, whatever their
    pitches. Beware pypianoroll's ``qualified_note_rate``: it finds onsets and offsets on the flattened
    (steps x pitches) array and pairs them in order, so a "duration" runs across pitches and rows (in units of
    steps x 128 for a single note: every note passes) and notes of different pitches get paired; a piano roll
    without an onset channel also merges repeated notes of one pitch into one long note.

    Source: Dong et al. 2018, "MuseGAN", section "Objective metrics" (QN: notes no shorter than three steps).
    Their grid has 24 steps per quarter note, where 3 steps are a 32nd note; at 4 steps per quarter the default
    3 steps are a dotted 8th, a much stricter bar (MuseGAN's training-data figure of about 90% does not carry
    over).
    """
    spq = check_steps(steps_per_quarter)
    if int(min_steps) != min_steps or min_steps < 0:
        raise ConfigError(f"min_steps must be a non-negative integer, got {min_steps!r}")
    a = _pitched(notes)
    if a.size == 0:
        return 0.0
    start, end = _grid(a, spq)
    return float(np.count_nonzero(end - start >= min_steps) / a.size)


def polyphony_rate(notes: Notes, steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER) -> float:
    """MuseGAN's polyphony rate (PR): ``#{steps with >= 2 distinct pitches sounding} / #{steps with >= 1}`` on the
    grid; 0.0 without notes.

    Source: Dong et al. 2018, "MuseGAN" (polyphonicity), as their pypianoroll's ``polyphonic_rate``, which counts
    steps with MORE than ``threshold=2`` pitches over all steps, silence included; here silence does not dilute
    the rate and two pitches already make a step polyphonic.
    """
    spq = check_steps(steps_per_quarter)
    a = _pitched(notes)
    return _polyphony_rate(_roll(a, spq)) if a.size else 0.0


#: The names of :func:`musegan_statistics`, in its order.
MUSEGAN_STATISTICS = ("empty_beat_rate", "pitch_classes_per_bar", "qualified_note_rate", "polyphony_rate")


def musegan_statistics(notes: Notes, steps_per_quarter: int = DEFAULT_STEPS_PER_QUARTER) -> dict[str, float]:
    """MuseGAN's piano-roll metrics (Dong et al. 2018) from one piano roll: empty_beat_rate, pitch_classes_per_bar,
    qualified_note_rate, polyphony_rate."""
    spq = check_steps(steps_per_quarter)
    a = _pitched(notes)
    if a.size == 0:
        return dict.fromkeys(MUSEGAN_STATISTICS, 0.0)
    roll = _roll(a, spq)
    return {
        "empty_beat_rate": _empty_beat_rate(roll, spq),
        "pitch_classes_per_bar": _pitch_classes_per_bar(roll, notes.time_signatures, spq),
        "qualified_note_rate": qualified_note_rate(notes, spq),
        "polyphony_rate": _polyphony_rate(roll),
    }


# ---------------------------------------------------------------------------------------------------- together
@dataclass(frozen=True)
class Metric:
    """One metric as the evaluation uses it, declared once in :data:`METRICS`: its function of a piece (or the
    function that computes it together with others, ``group``, whose dict holds it by name) and where it appears,
    by its place in each list: ``mean`` (the set means of every report: :func:`all_metrics`), ``mse`` (the paper's
    MSE table: ``protocol.MSE_STATISTICS``), ``set_feature`` (the set comparison: ``setcompare.SET_FEATURES``),
    ``column`` (the report's table: ``protocol.REPORT_COLUMNS``). None: not in that list."""

    name: str
    fn: Callable[[Notes], Any] | None = None
    group: Callable[[Notes], dict[str, Any]] | None = None
    mean: int | None = None
    mse: int | None = None
    set_feature: int | None = None
    column: int | None = None

    def __call__(self, notes: Notes) -> Any:
        return self.group(notes)[self.name] if self.group is not None else self.fn(notes)  # type: ignore[misc]


def _repetitions(n: int) -> Callable[[Notes], float]:
    def count(notes: Notes) -> float:
        return repetitions(notes, n)

    count.__name__ = f"repetitions_{n}"
    return count


#: Every metric of a report, declared once: a new metric is its function above and one line here.
METRICS: tuple[Metric, ...] = (
    Metric("pitch_range", pitch_range, mean=0, mse=1, set_feature=3),
    Metric("pitches_used", pitches_used, mean=1),
    Metric("pitch_classes_used", pitch_classes_used, mean=2),
    Metric("pitch_entropy", pitch_entropy, mean=3),
    Metric("pitch_class_entropy", pitch_class_entropy, mean=4),
    Metric("average_inter_onset_interval", average_inter_onset_interval, mean=5, mse=3, set_feature=6),
    Metric("groove_consistency", groove_consistency, mean=6),
    Metric("polyphony", polyphony, mean=7, mse=6, column=0),
    Metric("scale_consistency", scale_consistency, mean=8, mse=7, column=1),
    Metric("repetitions_2", _repetitions(2), mean=9, mse=8),
    Metric("repetitions_3", _repetitions(3), mean=10, mse=9),
    Metric("repetitions_4", _repetitions(4), mean=11, mse=10, column=2),
    Metric("tone_span", tone_span, mean=12, column=3),
    Metric("unique_tones", unique_tones, mean=13, column=4),
    Metric("intensity_span", intensity_span, mean=14, mse=11, column=5),
    Metric("empty_beat_rate", group=musegan_statistics, mean=15, column=7),
    Metric("pitch_classes_per_bar", group=musegan_statistics, mean=16),
    Metric("qualified_note_rate", group=musegan_statistics, mean=17, column=6),
    Metric("polyphony_rate", group=musegan_statistics, mean=18),
    Metric("pitch_count", pitches_used, mse=0, set_feature=0),
    Metric("average_pitch_interval", average_pitch_interval, mse=2, set_feature=4),
    Metric("pitch_class_histogram", pitch_class_histogram, mse=4, set_feature=1),
    Metric("note_length_histogram", note_length_histogram, mse=5, set_feature=7),
    Metric("pitch_class_transition_matrix", pitch_class_transition_matrix, set_feature=2),
    Metric("note_count", note_count, set_feature=5),
    Metric("note_length_transition_matrix", note_length_transition_matrix, set_feature=8),
)


def metrics_in(place: str) -> dict[str, Metric]:
    """The metrics of one list (``mean``, ``mse``, ``set_feature`` or ``column``), in its order."""
    if place not in ("mean", "mse", "set_feature", "column"):
        raise ValueError(f"no list {place!r} of metrics")
    chosen = [m for m in METRICS if getattr(m, place) is not None]
    return {m.name: m for m in sorted(chosen, key=lambda m: getattr(m, place))}


def all_metrics(notes: Notes) -> dict[str, float]:
    """Every scalar metric of a report (:data:`METRICS`' ``mean`` list), as floats: a group's function (MuseGAN's
    four from one piano roll) runs once."""
    groups: dict[Any, dict[str, Any]] = {}
    stats = {}
    for name, m in metrics_in("mean").items():
        if m.group is not None:
            if m.group not in groups:
                groups[m.group] = m.group(notes)
            stats[name] = float(groups[m.group][name])
        else:
            stats[name] = float(m.fn(notes))  # type: ignore[misc]
    return stats
