"""The part-writing edits of ``harmonize`` (jobs/harmonize.py)."""

from __future__ import annotations

from tunesmith.notes import Notes


def test_a_doubled_strike_left_by_the_edits_becomes_one_note():
    """Two notes of one pitch struck at one time in one track and program (what an edit can leave): the longer is
    kept; the same pitch in another track, or at another time, is left alone."""
    from tunesmith.jobs.harmonize import single_strikes

    piece = Notes.from_arrays(
        [60, 60, 60, 60, 64], start_qn=[0, 0, 0, 1, 0], end_qn=[1, 2, 1, 2, 1], track=[1, 1, 2, 1, 1]
    )
    out = single_strikes(piece)
    a = out.notes
    got = sorted(
        zip(a["track"].tolist(), a["pitch"].tolist(), a["start_qn"].tolist(), a["end_qn"].tolist(), strict=True)
    )
    assert got == [(1, 60, 0.0, 2.0), (1, 60, 1.0, 2.0), (1, 64, 0.0, 1.0), (2, 60, 0.0, 1.0)]
