"""``tunesmith harmonize``: keep a melody (or any tracks) note for note and have a Transformer write the rest.

A thin layer over ``generate --keep-tracks``: it chooses the program the kept tracks are given to the model as
(their own where the model's training data used it, else the training data's highest-sounding main instrument,
e.g. the soprano's violin of the string-quartet chorales) and, for a run with attribute controls, asks for the
instruments its training data mainly used, so that the voices written are the ones the model knows.
"""

from __future__ import annotations

import os
from itertools import pairwise

import numpy as np

from ..errors import CheckpointError, ConfigError
from ..evaluation.harmony import Key, harmony, key_of
from ..evaluation.voiceleading import parallel_motions, voice_faults, voice_leading
from ..families import specs
from ..io import read
from ..notes import Notes, make_time_signatures
from ..representations.chords import QUALITIES, TRIAD_OF, followed, parse_progression, recognise, segments
from .catalog import KEPT_CHORD_STRICTNESS
from .generate import Written, generate
from .runs import open_run

MAIN_SHARE = 0.05  # an instrument playing at least this share of the training notes is one of its main ones
LOWEST = 28  # no written note is moved below E1, the lowest note of a bass part (and of a double bass)
#: versions drawn per one written (chosen on the chorales' validation sopranos: docs/controls.md)
DEFAULT_CANDIDATES = 4


def kept_tracks(tracks: str, piece: Notes) -> list[int]:
    """The ``track`` values of ``tracks`` ("1,3": counted from 1 in the file's order)."""
    ids = [int(t) for t in np.unique(piece.notes["track"])]
    return [ids[int(t) - 1] for t in tracks.split(",") if t.strip().isdigit() and 1 <= int(t) <= len(ids)]


def voice_tracks(piece: Notes, kept: list[int]) -> list[int]:
    """The written voices' tracks (not ``kept``), from the highest-sounding down (by median pitch)."""
    a = piece.notes[~piece.notes["is_drum"]]
    return sorted(
        (int(t) for t in np.unique(a["track"]) if int(t) not in kept),
        key=lambda t: -float(np.median(a["pitch"][a["track"] == t])),
    )


def in_order(piece: Notes, kept: list[int]) -> Notes:
    """Voices in order: a written note that sounds above the voice written (or kept) above it goes down an octave,
    as often as that puts it below (a crossing is a part-writing fault; the pitch class, so the harmony, stays).
    The melody first, then the written voices from the highest down (:func:`voice_tracks`)."""
    out = piece.copy()
    a = out.notes
    for upper, lower in pairwise([*kept[:1], *voice_tracks(piece, kept)]):
        up = a[a["track"] == upper]
        if up.size == 0:
            continue
        for i in np.flatnonzero(a["track"] == lower):
            overlaps = (a["start_qn"] < a["end_qn"][i]) & (a["end_qn"] > a["start_qn"][i])
            over = up[(up["start_qn"] < a["end_qn"][i]) & (up["end_qn"] > a["start_qn"][i])]
            if over.size == 0:
                continue
            ceiling = int(over["pitch"].min())
            pitch = int(a["pitch"][i])
            while pitch > ceiling and pitch - 12 >= LOWEST:
                pitch -= 12
            same = overlaps & (a["track"] == lower) & (a["pitch"] == pitch)
            same[i] = False
            if not same.any():  # never onto a note the voice already sounds (it would be struck twice)
                a["pitch"][i] = pitch
    return out


def _voices(piece: Notes, kept: list[int]) -> dict[str, int]:
    """The voices by track, highest first: the melody (the first kept track), then the written ones."""
    return {f"voice {i}": t for i, t in enumerate([*kept[:1], *voice_tracks(piece, kept)])}


#: the guidance of the controls harmonize asks for (the melody's key, the instruments): the weight every
#: harmonisation figure of docs/controls.md was measured with (generate's default became 3 on piano's validation
#: requests; harmonize's figures were not measured again at 3)
HARMONIZE_GUIDANCE = 5.0

#: the most moves :func:`fewer_parallels` tries in a piece, each scored on the few notes around it: its cost stays
#: bounded (a tenth of a second or so) even for a model that writes parallels everywhere; `bach` needs a few dozen
MAX_TRIES = 200
#: passes over the piece's parallels (found again before each)
PASSES = 3


def single_strikes(piece: Notes) -> Notes:
    """One note where the part-writing edits (an octave moved, a cadence's tone) left two of one pitch struck at
    one time in one track and program: the longer kept. (MIDI pairs note-ons with note-offs by pitch and channel,
    so a doubled onset reads back as a note of no length.)"""
    a = piece.notes
    if a.size < 2:
        return piece
    key = np.stack([a["track"], a["program"], a["pitch"], np.round(a["start_qn"] * 960)], 1).astype(np.int64)
    order = np.lexsort((-(a["end_qn"] - a["start_qn"]), *key.T[::-1]))  # by key, the longest first
    first = np.ones(a.size, dtype=bool)
    first[1:] = np.any(key[order][1:] != key[order][:-1], axis=1)
    keep = np.sort(order[first])
    return piece if keep.size == a.size else piece[keep]


def fewer_parallels(piece: Notes, kept: list[int]) -> Notes:
    """Parallel fifths and octaves that the rule at sampling time let through (it sees the voices struck together,
    not a voice that moves while another holds on), mended where a written note can move without changing the
    harmony: to another octave, or (not in the lowest voice) to a pitch class another voice sounds with it while
    its own is doubled, within a fifth. A change is kept only where it lowers the piece's parallels and crosses no
    more voices (:func:`voice_faults`: the pairs that hold the note's voice, around the note): for each parallel in
    time order, the best change of the two notes that make it; :data:`PASSES` passes at most, and at most
    :data:`MAX_TRIES` moves scored."""
    out = piece.copy()
    a = out.notes
    voices = _voices(out, kept)
    written = [t for t in voices.values() if t not in kept]
    if not written:
        return out
    tries, hopeless = 0, set()
    for _ in range(PASSES):
        motions = parallel_motions(out, voices, by="track")
        mended = False
        for upper, lower, _t0, t1 in motions:  # a change never adds a parallel: those later in the list still hold
            best: tuple[tuple[int, float, int], int, int] | None = None
            for track in (voices[lower], voices[upper]):
                if track in kept:
                    continue
                on = np.flatnonzero((a["track"] == track) & (a["start_qn"] <= t1 + 1e-6) & (a["end_qn"] > t1 + 1e-6))
                if on.size == 0:
                    continue
                i = int(on[np.lexsort((a["pitch"][on], a["start_qn"][on]))[-1]])  # the note the voice sounds
                pitch = int(a["pitch"][i])
                if (i, pitch) in hopeless:
                    continue
                others = (a["track"] != track) & (a["start_qn"] <= t1 + 1e-6) & (a["end_qn"] > t1 + 1e-6)
                pcs = {int(q) % 12 for q in a["pitch"][others]}
                options = [pitch - 12, pitch + 12]
                if track != written[-1] and pitch % 12 in pcs:  # a doubled tone may give way to another chord tone
                    options += [q for q in range(pitch - 7, pitch + 8) if q % 12 in pcs and q % 12 != pitch % 12]
                # only the motions into and out of this note, with this voice, can change
                near = (a["start_qn"] < a["end_qn"][i] + 1e-3) & (a["end_qn"] > a["start_qn"][i] - 1e-3)
                local = out[near]
                k = int(np.flatnonzero(np.flatnonzero(near) == i)[0])
                name = next(v for v, t in voices.items() if t == track)
                before = voice_faults(local, voices, name, by="track")
                found = False
                for q in options:
                    if not LOWEST <= q <= 127 or tries >= MAX_TRIES:
                        continue
                    tries += 1
                    local.notes["pitch"][k] = q
                    got = voice_faults(local, voices, name, by="track")
                    change = (got[0] - before[0], got[1] - before[1], abs(q - pitch))
                    if change[0] < 0 and change[1] <= 1e-9 and (best is None or change < best[0]):
                        best, found = (change, i, q), True
                if not found:
                    hopeless.add((i, pitch))  # no move of this note mends anything now
            if best is not None:
                _, i, q = best
                a["pitch"][i] = q
                mended = True
        if not mended or tries >= MAX_TRIES:
            break
    return out


#: the farthest a written note moves (semitones) to give a bar the chord asked, and the most notes moved in a bar
#: or half bar
MEND_REACH = 4
MEND_NOTES = 2


def on_chords(piece: Notes, kept: list[int], progression: list[list[tuple[int, str, int]]]) -> Notes:
    """Bars and half bars whose written voices the recogniser hears as another chord than ``progression`` asks
    (``--chords``, a lead sheet's symbols) mended as an arranger would: a written note that begins there moves (at
    most :data:`MEND_REACH` semitones, the nearest first; a tone off the chord before a doubled one) to a tone of
    the chord that the voices leave out, where that makes the bar heard as asked, and where its voice makes no more
    parallels or crossings than before (:func:`voice_faults`); at most :data:`MEND_NOTES` notes a bar or half bar,
    never a bar that was already heard as asked. The kept tracks are never touched."""
    out = piece.copy()
    a = out.notes
    voices = _voices(out, kept)
    names = {t: v for v, t in voices.items()}
    mine = ~np.isin(a["track"], kept) & ~a["is_drum"]
    if not mine.any() or not progression:
        return out
    lines = segments(out, "bar")

    def heard(lo: float, hi: float) -> tuple[int, str]:
        """The root and triad the recogniser hears in the written voices from ``lo`` to ``hi`` (quarter notes)."""
        part = a[mine & (a["start_qn"] < hi - 1e-9) & (a["end_qn"] > lo + 1e-9)].copy()
        if part.size == 0:
            return -1, ""
        part["start_qn"] = np.maximum(part["start_qn"], lo) - lo
        part["end_qn"] = np.minimum(part["end_qn"], hi) - lo
        bar = make_time_signatures([0.0], [max(round((hi - lo) * 8), 1)], [32])  # the window as one bar
        c = recognise(Notes(part, time_signatures=bar), "bar")
        return int(c.root[0]), TRIAD_OF.get(c.quality[0], "")

    for k in range(lines.size - 1):
        chords = progression[k % len(progression)]
        start, end = float(lines[k]), float(lines[k + 1])
        for h, (root, quality, _bass) in enumerate(chords):
            if root < 0:
                continue
            lo = start + h * (end - start) / len(chords)
            hi = lo + (end - start) / len(chords)
            want = (root, TRIAD_OF[quality])
            tones = {(root + i) % 12 for i in QUALITIES[quality]}
            for _ in range(MEND_NOTES):
                if heard(lo, hi) == want:
                    break
                here = np.flatnonzero(mine & (a["start_qn"] >= lo - 1e-9) & (a["start_qn"] < hi - 1e-9))
                sounding = mine & (a["start_qn"] < hi - 1e-9) & (a["end_qn"] > lo + 1e-9)
                pcs = [int(p) % 12 for p in a["pitch"][sounding]]
                left_out = tones - set(pcs)
                moves = []
                for i in here:
                    p = int(a["pitch"][i])
                    rank = 0 if p % 12 not in tones else 1 if pcs.count(p % 12) > 1 else 2
                    if rank == 2:
                        continue  # the only voice on its chord tone
                    for q in range(p - MEND_REACH, p + MEND_REACH + 1):
                        if q % 12 in left_out and LOWEST <= q <= 127:
                            moves.append((rank, abs(q - p), int(i), q))
                done = False
                for _rank, _dist, i, q in sorted(moves):
                    p = int(a["pitch"][i])
                    name = names[int(a["track"][i])]
                    near = (a["start_qn"] < a["end_qn"][i] + 1e-3) & (a["end_qn"] > a["start_qn"][i] - 1e-3)
                    before = voice_faults(out[near], voices, name, by="track")
                    a["pitch"][i] = q
                    after = voice_faults(out[near], voices, name, by="track")
                    if heard(lo, hi) == want and after[0] <= before[0] and after[1] <= before[1] + 1e-9:
                        done = True
                        break
                    a["pitch"][i] = p
                if not done:
                    break
    return out


def parallel(one: tuple[int, int], other: tuple[int, int]) -> bool:
    """Whether two voices moving from ``(before, after)`` pitches make parallel fifths or octaves (or unisons): the
    same perfect interval before and after, both moving the same way."""
    (a0, a1), (b0, b1) = one, other
    same_way = (a1 - a0) * (b1 - b0) > 0
    return same_way and abs(a0 - b0) % 12 in (0, 7) and abs(a0 - b0) % 12 == abs(a1 - b1) % 12


def end_on_tonic(piece: Notes, kept: list[int], key: Key) -> Notes:
    """The written voices end on the tonic triad under the melody's last note, where that note belongs to it (a
    cadence): from that note's onset to the piece's end each written voice holds one tone of the triad, the bass
    the root, the others the tones still missing first, each the nearest to where the voice was and below the
    voice above it. A melody that ends off the tonic triad (a half cadence) is left as the model wrote it."""
    a = piece.notes
    melody = a[np.isin(a["track"], kept[:1])]
    voices = voice_tracks(piece, kept)
    if melody.size == 0 or not voices:
        return piece
    t = float(melody["start_qn"].max())
    end = float(melody["end_qn"].max())
    if end <= t:
        return piece
    third = 4 if key.mode == "major" else 3
    triad = {key.tonic, (key.tonic + third) % 12, (key.tonic + 7) % 12}
    top = int(melody["pitch"][melody["start_qn"] == t].max())
    if top % 12 not in triad:
        return piece
    keep_rows = ~(~np.isin(a["track"], kept) & (a["start_qn"] >= t - 1e-9))
    rows = a[keep_rows].copy()
    cut = ~np.isin(rows["track"], kept) & (rows["end_qn"] > t)
    rows["end_qn"][cut] = t
    before_top = melody[melody["start_qn"] < t]
    moves = [(int(before_top["pitch"][np.argmax(before_top["start_qn"])]), top)] if before_top.size else []
    added, have, ceiling = [], {top % 12}, top
    for k, track in enumerate(voices):
        before = a[(a["track"] == track) & (a["start_qn"] < t)]
        if before.size == 0:
            continue
        last = before[np.argmax(before["start_qn"])]
        was = int(last["pitch"])
        bass = k == len(voices) - 1
        wanted = {key.tonic} if bass else (triad - have) or triad
        choices = [p for p in range(LOWEST, ceiling + 1) if p % 12 in wanted]
        if not choices:  # no room below the voice above: this voice stops where the cadence starts
            continue
        pitch = min(choices, key=lambda p: (any(parallel(m, (was, p)) for m in moves), abs(p - was), -p))
        moves.append((was, pitch))
        note = last.copy()
        note["pitch"], note["start_qn"], note["end_qn"] = pitch, t, end
        added.append(note)
        have.add(pitch % 12)
        ceiling = pitch
    out = Notes(np.concatenate([rows, np.array(added, dtype=a.dtype)]), piece.tempos, piece.time_signatures,
                piece.source, dict(piece.metadata))  # fmt: skip
    out.notes["start"] = out.qn_to_seconds(out.notes["start_qn"])
    out.notes["end"] = out.qn_to_seconds(out.notes["end_qn"])
    return out.sorted()


def harmony_faults(
    piece: Notes, kept: list[int], key: Key, progression: list[list[tuple[int, str, int]]] | None = None
) -> tuple[int, float]:
    """How far a harmonisation is from one a musician would keep, to rank versions by (lower is better): first the
    count of its faults: of key (not in ``key``, the melody's), of ending (not on its tonic), parallel fifths and
    octaves and, over a ``progression`` (``--chords``, a lead sheet's), the bars and half bars whose written voices
    the recogniser hears as another chord; then the share of strong beats where the melody is no chord tone plus
    voice crossings per beat. Voices by track: the kept ones (the melody) first, then the written ones from the
    highest-sounding down."""
    voices = _voices(piece, kept)
    h = harmony(piece, key, voices, by="track")
    v = voice_leading(piece, voices, by="track", ranges={}).summary()
    parallels = round((v["parallel_fifths_per_100_beats"] + v["parallel_octaves_per_100_beats"]) * v["beats"] / 100)
    faults = (1 - h.in_key) + (1 - h.on_tonic) + parallels
    if progression:
        asked = followed(piece[~np.isin(piece.notes["track"], kept)], progression, segments(piece, "bar").size - 1)
        faults += asked["asked"] - asked["triad"]
    rough = (1 - h.summary()["strong_beat_chord_tone_share"]) + v["crossing_per_100_beats"] / 100
    return faults, rough


def main_programs(table: np.ndarray) -> list[int]:
    """The programs (128: drums) that play at least :data:`MAIN_SHARE` of the training notes."""
    share = table[:, 0] / max(table[:, 0].sum(), 1)
    return [int(p) for p in np.flatnonzero(share >= MAIN_SHARE)]


def melody_program(table: np.ndarray, kept: list[int]) -> int | None:
    """None when the model's data used every kept program; else its highest-sounding main program."""
    if all(table[p, 0] > 0 for p in kept):
        return None
    main = [p for p in main_programs(table) if p != 128]
    return max(main, key=lambda p: table[p, 1]) if main else None


def harmonize(
    melody: str | os.PathLike[str],
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    n: int = 4,
    tracks: str | None = None,
    as_program: int | None = None,
    seed: int = 0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    device: str = "cpu",
    controls: dict[str, str] | None = None,
    wav: bool = False,
    png: bool = False,
    score: bool = False,
    avoid_parallels: bool = True,
    candidates: int = DEFAULT_CANDIDATES,
    in_key: bool = True,
    part_writing: bool = True,
    prefix: str = "harmony",
    listing: str = "harmonies.json",
) -> Written:
    """``n`` harmonisations of ``melody``: its ``tracks`` (default: all of them) kept, the other voices written.

    ``in_key``: a run trained with attribute controls is asked for the melody's key (music21's analysis), unless
    ``controls`` name one. ``candidates``: versions drawn per one written; the ``n`` written are those that
    :func:`harmony_faults` ranks best (in the melody's key, ending on its tonic, the melody a chord tone on strong
    beats, voices in order, few parallels), each with its own seed in ``harmonies.json``. ``part_writing``: every
    version drawn has its voices put in order (:func:`in_order`), ends on the tonic under a melody that does
    (:func:`end_on_tonic`), over chords (``controls["chords"]``) has the bars heard as another chord mended
    (:func:`on_chords`) and has the parallels mended that a note can mend (:func:`fewer_parallels`); off, the
    voices are written as the model drew them. Over chords, the voices keep to them more strictly than generate's
    default (:data:`KEPT_CHORD_STRICTNESS`) and the versions are ranked by the bars they follow too."""
    if candidates < 1:
        raise ConfigError(f"--candidates {candidates}: at least 1 (1: every version drawn is written)")
    piece = read(melody)
    if len(piece) == 0:
        raise ConfigError(f"{melody}: no notes to harmonise")
    loaded = open_run(run)  # a folder or a shipped model's name
    spec = specs().get(loaded.kind)
    if spec is None or not spec.can("keep_tracks"):
        keepers = ", ".join(name for name, s in specs().items() if s.can("keep_tracks"))
        raise ConfigError(f"{run}: a {loaded.kind} run; harmonize needs a model that keeps tracks ({keepers})")
    n_tracks = len(np.unique(piece.notes["track"]))
    tracks = tracks or ",".join(str(i + 1) for i in range(n_tracks))
    options: dict[str, object] = {"keep_tracks": tracks, "avoid_parallels": avoid_parallels, **(controls or {})}
    if spec.can("guidance"):  # the guidance its figures were measured with (docs/controls.md), not generate's
        options.setdefault("guidance", HARMONIZE_GUIDANCE)
    if options.get("chords") and options.get("chord_strictness") is None:
        options["chord_strictness"] = KEPT_CHORD_STRICTNESS
    try:
        table = loaded.array("programs")
    except CheckpointError:  # a run from before the table: the kept tracks go in as they are
        table = None
    if as_program is not None:
        if not 0 <= as_program <= 127:
            raise ConfigError(f"--as-program {as_program}: a General MIDI program, 0-127")
        options["keep_as"] = as_program
    elif table is not None:
        kept_programs = sorted({int(p) for p in piece.notes["program"][~piece.notes["is_drum"]]})
        options["keep_as"] = melody_program(table, kept_programs)
    if table is not None:
        seen_as = [options["keep_as"]] if options.get("keep_as") is not None else sorted(
            {int(p) for p in piece.notes["program"]}
        )
        if not set(main_programs(table)) - set(seen_as):
            raise ConfigError(
                f"{run}: its training data has no main instrument besides the kept one ({', '.join(map(str, seen_as))})"
                "; the parts it writes are told apart from the kept ones by instrument: use a model that learned "
                "several (e.g. one trained on the Bach chorales), or --as-program to give the kept tracks another"
            )
    keep = kept_tracks(tracks, piece)
    kept_notes = piece[np.isin(piece.notes["track"], keep)]
    # no kept note (--tracks names none): generation says what is wrong; nothing to rank or finish by
    melody_key = key_of(kept_notes) if len(kept_notes) else None
    if melody_key is None:
        candidates, part_writing = 1, False
    elif in_key and loaded.config["model"].get("controls") and "key" not in options:
        options["key"] = str(melody_key)
    if table is not None and loaded.config["model"].get("controls") and "instruments" not in options:
        wanted = set(main_programs(table)) | ({options["keep_as"]} if options.get("keep_as") is not None else set())
        options["instruments"] = ",".join(str(p) for p in sorted(wanted))

    progression = parse_progression(str(options["chords"])) if options.get("chords") else None

    def best(pieces: list[Notes]) -> list[int]:
        faults = [harmony_faults(p, keep, melody_key, progression) for p in pieces]
        return sorted(sorted(range(len(pieces)), key=lambda i: faults[i])[:n])  # the n best, in seed order

    def written(piece: Notes) -> Notes:
        voiced = end_on_tonic(in_order(piece, keep), keep, melody_key)
        if progression:
            voiced = on_chords(voiced, keep, progression)
        return single_strikes(fewer_parallels(voiced, keep))

    return generate(
        run,
        out,
        n=n * candidates,
        choose=best if candidates > 1 else None,
        finish=written if part_writing else None,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        primer=melody,
        seed=seed,
        device=device,
        prefix=prefix,
        listing=listing,
        options={k: v for k, v in options.items() if v is not None},
        wav=wav,
        png=png,
        score=score,
    )
