from __future__ import annotations

import struct

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunesmith.errors import MidiReadError, TunesmithError
from tunesmith.io import MidiWarning, read, read_midi, write_midi
from tunesmith.notes import NOTE_DTYPE, Notes, make_tempo_map

# ------------------------------------------------------------------------------------------ a hand-written piece


def test_hand_piece_values(hand_piece):
    n = read_midi(hand_piece)
    assert len(n) == 5
    by_pitch = {int(r["pitch"]): r for r in n.notes}
    c4, e4, g4, a3, kick = (by_pitch[p] for p in (60, 64, 67, 57, 36))
    assert (c4["start"], c4["end"], c4["velocity"], c4["program"]) == (0.0, 0.5, 100, 0)
    assert (e4["start_qn"], e4["end_qn"], e4["start"], e4["end"]) == (1.0, 2.0, 0.5, 1.0)
    # the tempo halves at qn 2 (1.0 s): qn 3 is 2.0 s, qn 4 is 3.0 s
    assert (g4["start_qn"], g4["end_qn"], g4["start"], g4["end"], g4["velocity"]) == (3.0, 4.0, 2.0, 3.0, 80)
    assert (a3["program"], a3["end"], a3["is_drum"]) == (40, 3.0, False)
    assert kick["is_drum"] and kick["end_qn"] == 0.25
    assert len({c4["track"], a3["track"], kick["track"]}) == 3
    assert n.tempos["qpm"].tolist() == [120.0, 60.0] and n.tempos["seconds"].tolist() == [0.0, 1.0]
    assert n.time_signatures[["numerator", "denominator"]].tolist() == [(3, 4)]
    assert n.duration == 3.0
    # canonical order: by start time
    assert np.all(np.diff(n.start) >= 0)


def test_written_file_opens_in_another_tool(hand_piece, tmp_path):
    n = read_midi(hand_piece)
    out = write_midi(n, tmp_path / "out.mid")
    mid = mido.MidiFile(out)  # a strict, independent reader
    ons = sorted((m.note, m.velocity, m.channel) for t in mid.tracks for m in t if m.type == "note_on" and m.velocity)
    assert [o[:2] for o in ons] == [(36, 127), (57, 70), (60, 100), (64, 90), (67, 80)]
    assert {o[0]: o[2] for o in ons}[36] == 9  # drums on channel 10
    programs = {m.channel: m.program for t in mid.tracks for m in t if m.type == "program_change"}
    assert 40 in programs.values()
    tempos = [m.tempo for t in mid.tracks for m in t if m.type == "set_tempo"]
    assert tempos == [500000, 1000000]


def test_a_track_of_drums_and_pitched_notes_is_written_as_two(tmp_path):
    """Notes built from arrays can mix drums and pitched notes in one track and program: the drums still go to
    channel 10 and the pitched notes elsewhere, whichever comes first."""
    notes = Notes.from_arrays([69, 42, 36], [0.0, 0.5, 1.0], [0.5, 0.75, 1.25], is_drum=[False, True, True])
    mid = mido.MidiFile(write_midi(notes, tmp_path / "mixed.mid"))
    ons = {m.note: m.channel for t in mid.tracks for m in t if m.type == "note_on" and m.velocity}
    assert ons[42] == ons[36] == 9 and ons[69] != 9
    back = read_midi(tmp_path / "mixed.mid")
    assert sorted(zip(back.pitch.tolist(), back.notes["is_drum"].tolist(), strict=True)) == [
        (36, True),
        (42, True),
        (69, False),
    ]


def _assert_same_notes(a: Notes, b: Notes, tick: float) -> None:
    assert len(a) == len(b)
    # compare in (track, pitch, start) order: notes of one pitch in one track never overlap, so rounding to ticks
    # cannot reorder them (it can reorder notes of different tracks that start within a tick of each other)
    a, b = (x[np.lexsort((x.start_qn, x.pitch, x.notes["track"]))] for x in (a, b))
    for col in ("pitch", "velocity", "program", "is_drum"):
        assert np.array_equal(a.notes[col], b.notes[col]), col
    for col in ("start_qn", "end_qn"):
        assert np.max(np.abs(a.notes[col] - b.notes[col]), initial=0) <= tick + 1e-9, col
    # one tick in seconds at the fastest tempo of the piece
    tick_s = tick * 60.0 / a.tempos["qpm"].min()
    for col in ("start", "end"):
        assert np.max(np.abs(a.notes[col] - b.notes[col]), initial=0) <= tick_s + 1e-9, col


def test_round_trip_hand_piece(hand_piece, tmp_path):
    a = read_midi(hand_piece)
    b = read_midi(write_midi(a, tmp_path / "rt.mid", tpq=96))
    assert np.array_equal(a.notes, b.notes)  # on-grid times: exact


# ------------------------------------------------------------------------------------------ property test


@st.composite
def random_notes(draw):
    n_tracks = draw(st.integers(1, 3))
    rows = []
    for track in range(n_tracks):
        drum = draw(st.booleans()) if track == n_tracks - 1 else False
        program = draw(st.integers(0, 127))
        # notes of one pitch must not overlap in one track: MIDI cannot say which note-off ends which
        for pitch in draw(st.lists(st.integers(0, 127), min_size=1, max_size=4, unique=True)):
            t = 0.0
            for _ in range(draw(st.integers(1, 5))):
                t += draw(st.floats(0, 4, allow_nan=False))
                length = draw(st.floats(0.01, 3, allow_nan=False))
                vel = draw(st.integers(1, 127))
                rows.append((pitch, vel, program, drum, track, t, t + length))
                t += length
    # tempo changes on a 1/8-quarter grid (every tpq below is a multiple of 8), so they survive exactly
    qn = sorted({k / 8 for k in draw(st.lists(st.integers(0, 160), max_size=3))})
    mspq = draw(st.lists(st.integers(200_000, 1_500_000), min_size=len(qn), max_size=len(qn)))
    tempos = make_tempo_map(qn, [60e6 / m for m in mspq])
    arr = np.zeros(len(rows), dtype=NOTE_DTYPE)
    for i, (p, v, prog, d, tr, s, e) in enumerate(rows):
        arr[i] = (p, v, prog, d, tr, 0, 0, s, e)
    n = Notes(arr, tempos=tempos)
    arr["start"], arr["end"] = n.qn_to_seconds(arr["start_qn"]), n.qn_to_seconds(arr["end_qn"])
    return n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=random_notes(), tpq=st.sampled_from([96, 384, 480, 960]))
def test_round_trip_property(n, tpq, tmp_path):
    path = write_midi(n, tmp_path / "p.mid", tpq=tpq)
    back = read_midi(path)
    _assert_same_notes(n, back, tick=1.0 / tpq)
    assert np.array_equal(back.tempos["qn"], n.tempos["qn"])
    assert np.allclose(back.tempos["qpm"], n.tempos["qpm"], rtol=1e-12)


# ------------------------------------------------------------------------------------------ real files


def test_round_trip_real_files(maestro, classical, tmp_path):
    files = sorted((maestro / "2018").glob("*.midi"))[:3] + sorted((classical / "bach").glob("*.mid"))[:5]
    files += sorted((classical / "mozart").glob("*.mid"))[:5]
    for f in files:
        a = read_midi(f)
        assert len(a) > 0, f
        tpq = 384 if "maestro" in str(f) else 480
        b = read_midi(write_midi(a, tmp_path / f.name, tpq=tpq))
        _assert_same_notes(a, b, tick=1.0 / tpq)


# ------------------------------------------------------------------------------------------ forgiving reader


def _riff_wrap(midi: bytes) -> bytes:
    data = b"data" + struct.pack("<I", len(midi)) + midi + (b"\0" if len(midi) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(data)) + b"RMID" + data


def test_rmid_is_unwrapped(hand_piece, tmp_path):
    rmi = tmp_path / "wrapped.rmi"
    rmi.write_bytes(_riff_wrap(hand_piece.read_bytes()))
    assert np.array_equal(read_midi(rmi).notes, read_midi(hand_piece).notes)
    wav = tmp_path / "sound.mid"
    wav.write_bytes(b"RIFF\x10\0\0\0WAVEfmt " + b"\0" * 8)
    with pytest.raises(MidiReadError, match="not RMID"):
        read_midi(wav)


def test_out_of_range_bytes_are_clamped_with_a_warning(tmp_path):
    # a one-track file whose note-on carries velocity 0xB0 = 176 (an invalid data byte)
    events = bytes([0x00, 0x90, 60, 0xB0, 0x60, 0x80, 60, 0x00, 0x00, 0xFF, 0x2F, 0x00])
    data = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + b"MTrk" + struct.pack(">I", len(events)) + events
    f = tmp_path / "hot.mid"
    f.write_bytes(data)
    with pytest.warns(MidiWarning, match=r"hot\.mid.*clamped"):
        n = read_midi(f)
    assert n.pitch.tolist() == [60] and n.velocity.tolist() == [127]  # clamped, as mido's clip=True does
    assert mido.MidiFile(f, clip=True).tracks[0][0].velocity == 127


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"hello, I am not MIDI at all", "not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60MTrk\x00\x00\x10\x00\x00\x90", "truncated"),
    ],
)
def test_bad_files_raise_one_typed_error_naming_file_and_reason(tmp_path, content, reason):
    f = tmp_path / "bad.mid"
    f.write_bytes(content)
    with pytest.raises(MidiReadError, match=reason) as e:
        read_midi(f)
    assert isinstance(e.value, TunesmithError) and str(f) in str(e.value) and e.value.path == str(f)


def test_truncated_real_file_and_missing_path(hand_piece, tmp_path):
    cut = tmp_path / "cut.mid"
    cut.write_bytes(hand_piece.read_bytes()[:-10])
    with pytest.raises(MidiReadError, match="cut.mid"):
        read_midi(cut)
    with pytest.raises(MidiReadError, match="no such file"):
        read_midi(tmp_path / "missing.mid")
    with pytest.raises(MidiReadError, match="directory"):
        read_midi(tmp_path)


def test_read_dispatches_by_extension(hand_piece, tmp_path):
    assert len(read(hand_piece)) == 5
    other = tmp_path / "x.txt"
    other.write_text("x")
    with pytest.raises(TunesmithError, match="unsupported extension"):
        read(other)


CLASSICAL_RMID = [
    "beethoven/14715thSympnmov1",
    "copland/898promise2",
    "grieg/1857dehalvandebergkoning",
    "maier/atala15",
    "maier/atala21",
    "maier/atala32",
    "maier/atalan1",
    "maier/atalan2",
]
CLASSICAL_CLAMPED = [
    "bach/291jsb0244b",
    "chopin/mazrka21",
    "handel/jshcg652",
    "handel/jshcg653",
    "handel/jshcg654",
    "handel/jshcg655",
    "handel/se-fiera",
    "handel/va-tacit",
    "hummel/mthuo74b",
    "hummel/mthuo74c",
    "hummel/mthuo74d",
    "pachelbel/291jsb0244b",
    "rachmaninov/291jsb0244b",
]
CLASSICAL_EMPTY = [
    "gershwin/2221americanparis",
    "gershwin/2420gglullaby",
    "gershwin/2678necessar",
    "gershwin/GershwinPC1",
    "gershwin/GershwinPC2",
    "gershwin/GershwinPC3",
    "holst/845danceSteven",
]


def test_classical_collection_broken_files(classical):
    for name in CLASSICAL_RMID:
        assert (classical / f"{name}.mid").read_bytes()[:4] == b"RIFF"
        assert len(read_midi(classical / f"{name}.mid")) > 0
    for name in CLASSICAL_CLAMPED:
        with pytest.warns(MidiWarning, match="clamped"):
            n = read_midi(classical / f"{name}.mid")
        assert len(n) > 0 and n.velocity.max() <= 127
    for name in CLASSICAL_EMPTY:
        with pytest.raises(MidiReadError, match="empty file"):
            read_midi(classical / f"{name}.mid")


def test_restruck_key_is_re_paired(tmp_path):
    # key 60: on at 0, struck again at 96 before release, off at 192, on at 288, off at 384 (tpq 96)
    mid = mido.MidiFile(type=0, ticks_per_beat=96)
    tr = mido.MidiTrack()
    tr += [
        mido.Message("note_on", note=60, velocity=90, time=0),
        mido.Message("note_on", note=60, velocity=80, time=96),
        mido.Message("note_off", note=60, velocity=0, time=96),
        mido.Message("note_on", note=60, velocity=70, time=96),
        mido.Message("note_off", note=60, velocity=0, time=96),
        mido.Message("note_on", note=64, velocity=60, time=0),
        mido.Message("note_off", note=64, velocity=0, time=96),
    ]
    mid.tracks.append(tr)
    mid.save(tmp_path / "restrike.mid")
    n = read_midi(tmp_path / "restrike.mid")
    c = n[n.pitch == 60]
    # a re-strike ends the sounding note; each note-off ends the note then sounding. (symusic pairs first-in-
    # first-out and drops the note-on left without a note-off, here the last one at qn 3: without the repair
    # the second note would last from qn 1 to 4, over the third.)
    assert c.start_qn.tolist() == [0.0, 1.0] and c.end_qn.tolist() == [1.0, 2.0]
    assert c.velocity.tolist() == [90, 80]
    e = n[n.pitch == 64]
    assert (e.start_qn.tolist(), e.end_qn.tolist()) == ([4.0], [5.0])
