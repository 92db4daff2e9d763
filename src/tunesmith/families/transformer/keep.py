"""Keep tracks, generate the others: a melody harmonised, a part accompanied, chosen tracks locked.

The model writes the whole token stream (REMI: ``Bar TimeSig Position Program Pitch Velocity Duration ...``),
and the kept tracks' notes are put into it as it goes: whenever the model is about to move past the time of a
kept note (a ``Position`` after it in its bar, or the next ``Bar``), that move is replaced by the kept note's
``Position`` and the kept notes there follow as forced tokens. Notes at one time are ordered by program in the
training data, so a kept soprano (the lowest program of a string-quartet chorale) comes first at each time, as
the model learned, and the other voices are written after it, seeing it. The model never writes a note under a
kept program (those ``Program`` tokens are masked, and so is a ``Pitch`` while the current program is a kept
one), and every ``TimeSig`` is the piece's, so bars stay where the kept notes put them.

The kept notes in the output are the input's notes themselves, bit for bit; the tokens only steer the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import miditok
import numpy as np
import torch

from ...errors import ConfigError
from ...notes import Notes
from ...representations.tokens import to_tokens, tokenizer_name
from .grammar import Grammar, GrammarState


def parse_tracks(text: str, piece: Notes) -> list[int]:
    """``"1,3"`` -> the ``track`` values of the piece's first and third tracks (counted from 1, in the order of the
    file); an error lists the tracks there are."""
    tracks = [int(t) for t in np.unique(piece.notes["track"])]
    listing = "; ".join(
        f"{i + 1}: program {int(piece.notes['program'][piece.notes['track'] == t][0])}, "
        f"{int((piece.notes['track'] == t).sum())} notes"
        for i, t in enumerate(tracks)
    )
    chosen = []
    for part in (p.strip() for p in text.split(",")):
        if not part.isdigit() or not 1 <= int(part) <= len(tracks):
            raise ConfigError(
                f"--keep-tracks {text}: {piece.source or 'the piece'} has {len(tracks)} track(s), counted from 1 "
                f"({listing})"
            )
        chosen.append(tracks[int(part) - 1])
    return sorted(set(chosen))


@dataclass
class Slot:
    bar: int  # bar index (from 0) in the generated stream
    position: int
    tokens: list[int]  # the kept notes at this time: Program Pitch Velocity Duration, each


def kept_slots(kept: Notes, tok: miditok.MusicTokenizer) -> tuple[list[Slot], list[int]]:
    """The kept notes as forced token groups per (bar, position), and each bar's TimeSig token id."""
    ids = to_tokens(kept, tok)
    slots: dict[tuple[int, int], Slot] = {}
    ts_ids: list[int] = []
    bar, pos, program = -1, 0, 0
    note: list[int] = []
    for i in ids.tolist():
        name = tok[int(i)]
        kind, _, value = name.partition("_")
        if kind == "Bar":
            bar += 1
            ts_ids.append(ts_ids[-1] if ts_ids else -1)
        elif kind == "TimeSig":
            ts_ids[bar] = int(i)
        elif kind == "Position":
            pos = int(value)
        elif kind == "Program":
            program = int(value)
        elif kind == "Pitch":
            note = [tok.vocab[f"Program_{program}"], int(i)]
        elif kind in ("Velocity", "Duration") and note:
            note.append(int(i))
            if kind == "Duration":
                slots.setdefault((bar, pos), Slot(bar, pos, [])).tokens.extend(note)
                note = []
    return [slots[k] for k in sorted(slots)], ts_ids


@dataclass
class Forcer:
    """Puts kept notes into each row's stream as the model reaches their times (see the module's docstring)."""

    grammar: Grammar
    tok: miditok.MusicTokenizer
    slots: list[Slot]
    ts_ids: list[int]  # each bar's TimeSig (the last one holds after)
    kept_programs: list[int]
    rows: int
    #: no parallel fifths or octaves between two voices (told apart by program): see :meth:`parallels`
    avoid_parallels: bool = False
    next_slot: list[int] = field(default_factory=list)
    queue: list[list[int]] = field(default_factory=list)
    #: per row, per program: its last two pitches struck and where the last was struck ((bar, position), pitch)
    voices: list[dict[int, list]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if tokenizer_name(self.tok) != "REMI" or self.tok.is_trained:
            raise ConfigError("keeping tracks needs a run with REMI tokens without BPE (the transformer's default)")
        self.next_slot = [0] * self.rows
        self.queue = [[] for _ in range(self.rows)]
        self.voices = [{} for _ in range(self.rows)]
        vocab, dev = self.grammar.vocab_size, self.grammar.device
        names = [self.tok[i] for i in range(len(self.tok))]
        ban = np.zeros(vocab, dtype=bool)
        for p in self.kept_programs:
            ban[self.tok.vocab[f"Program_{p}"]] = True
        self.ban = torch.as_tensor(ban, device=dev)
        pitch = np.zeros(vocab, dtype=bool)
        pitch[[i for i, n in enumerate(names) if n.startswith("Pitch_")]] = True
        self.pitch = torch.as_tensor(pitch, device=dev)
        timesig = np.zeros(vocab, dtype=bool)
        timesig[[i for i, n in enumerate(names) if n.startswith("TimeSig_")]] = True
        self.timesig = torch.as_tensor(timesig, device=dev)
        self.kept = torch.as_tensor(self.kept_programs, dtype=torch.long, device=dev)
        self.position_id = {int(n.split("_")[1]): i for i, n in enumerate(names) if n.startswith("Position_")}
        self.pitch_of = {i: int(n.split("_")[1]) for i, n in enumerate(names) if n.startswith("Pitch_")}
        self.pitch_id = {p: i for i, p in self.pitch_of.items()}
        self.bar_id = self.tok.vocab["Bar_None"]
        self.last_bar = max((s.bar for s in self.slots), default=-1)

    def done_forcing(self, r: int) -> bool:
        return self.next_slot[r] >= len(self.slots) and not self.queue[r]

    def mask(self, s: GrammarState) -> torch.Tensor:
        """``(B, V)``: what the model may write besides the grammar's rules."""
        m = ~self.ban[None, :].expand(s.bars.shape[0], -1)
        under_kept = (s.cur_program[:, None] == self.kept[None, :]).any(dim=1)
        m = m & ~(under_kept[:, None] & self.pitch[None, :])
        if self.avoid_parallels:
            for r, program in enumerate(s.cur_program.tolist()):
                banned = self.parallels(r, program, (int(s.bars[r]), int(s.position[r])))
                if banned:
                    m[r, [self.pitch_id[p] for p in banned if p in self.pitch_id]] = False
        if self.ts_ids:  # each row's bar: its own TimeSig only
            ts = torch.as_tensor(self.ts_ids, device=m.device)[(s.bars - 1).clamp(0, len(self.ts_ids) - 1)]
            own = torch.zeros_like(m)
            rows = torch.nonzero(ts >= 0).flatten()
            own[rows, ts[rows]] = True
            m &= ~self.timesig[None, :] | own | (ts < 0)[:, None]
        return m

    def parallels(self, r: int, program: int, now: tuple[int, int]) -> list[int]:
        """The pitches that voice ``program`` may not strike now in row ``r``: those that would move it in
        parallel fifths or octaves (unisons and compound intervals too: modulo 12) with a voice struck at this
        time, both voices moving the same way from a fifth or an octave between their previous notes."""
        mine = self.voices[r].get(program)
        if program in self.kept_programs or not mine:
            return []
        before = [pitch for when, pitch in mine if when != now]  # a chord of this voice: what came before it
        if not before:
            return []
        banned: list[int] = []
        prev_p = before[0]
        for q, other in self.voices[r].items():
            if q == program or len(other) < 2 or other[0][0] != now:
                continue  # a voice that did not move now makes no parallel with this one
            cur_q, prev_q = other[0][1], other[1][1]
            interval = abs(prev_p - prev_q) % 12  # 7: a fifth (or twelfth), 0: a unison or octave
            if interval not in (0, 7) or cur_q == prev_q:
                continue
            step_q = np.sign(cur_q - prev_q)
            for x in range(max(cur_q - 48, 0), min(cur_q + 49, 128)):
                if abs(x - cur_q) % 12 == interval and x != prev_p and np.sign(x - prev_p) == step_q:
                    banned.append(x)
        return banned

    def note(self, r: int, program: int, pitch: int, now: tuple[int, int]) -> None:
        """Remember that voice ``program`` struck ``pitch`` at ``now`` in row ``r`` (the latest three times; of a
        chord in one voice at one time, the highest note)."""
        mem = self.voices[r].setdefault(program, [])
        if mem and mem[0][0] == now:
            mem[0] = (now, max(mem[0][1], pitch))
        else:
            mem.insert(0, (now, pitch))
            del mem[3:]

    def force(self, s: GrammarState, tok: torch.Tensor, done: torch.Tensor) -> torch.Tensor:
        """The tokens to write: the model's, or the kept notes' where it would pass them."""
        out = self._force(s, tok, done)
        if self.avoid_parallels:  # the voices' memory, from the tokens written (a Program token changes voice)
            for r, t in enumerate(out.tolist()):
                if t in self.pitch_of and not bool(done[r]):
                    now = (int(s.bars[r]), int(s.position[r]))
                    self.note(r, int(s.cur_program[r]), self.pitch_of[t], now)
        return out

    def _force(self, s: GrammarState, tok: torch.Tensor, done: torch.Tensor) -> torch.Tensor:
        out = tok.clone()
        for r in range(tok.shape[0]):
            if bool(done[r]):
                continue
            if self.queue[r]:
                out[r] = self.queue[r].pop(0)
                continue
            if self.next_slot[r] >= len(self.slots):
                continue
            slot = self.slots[self.next_slot[r]]
            t = int(tok[r])
            bar, pos = int(s.bars[r]) - 1, int(s.position[r])
            name = self.tok[t] if t < len(self.tok) else ""
            moves_on = name == "Bar_None" or (name.startswith("Position_") and int(name[9:]) >= slot.position)
            passes = bar > slot.bar or (bar == slot.bar and moves_on)
            if passes and pos < slot.position:
                out[r] = self.position_id[slot.position]
                self.queue[r] = list(slot.tokens)
                self.next_slot[r] += 1
            elif passes:  # already at the slot's position
                out[r] = slot.tokens[0]
                self.queue[r] = list(slot.tokens[1:])
                self.next_slot[r] += 1
        return out

    def finished(self, s: GrammarState) -> torch.Tensor:
        """``(B,)``: every kept note written and the row past the kept notes' last bar."""
        past = (s.bars - 1) > self.last_bar
        forced = torch.as_tensor([self.done_forcing(r) for r in range(self.rows)], device=s.bars.device)
        return past & forced


@dataclass(frozen=True)
class Keep:
    """Which tracks of a piece are kept (``track`` values), and the program the model reads them under (None:
    their own; e.g. a piano melody given to a chorale model as its soprano's violin)."""

    tracks: tuple[int, ...]
    as_program: int | None = None
    #: forbid the written voices parallel fifths and octaves with each other and with the kept ones (harmonize)
    avoid_parallels: bool = False

    def is_kept(self, piece: Notes) -> np.ndarray:
        return np.isin(piece.notes["track"], self.tracks)

    def mapped(self, piece: Notes) -> Notes:
        """The piece as the model reads it: the kept tracks under ``as_program``."""
        if self.as_program is None:
            return piece
        out = piece.copy()
        out.notes["program"][self.is_kept(piece)] = self.as_program
        return out

    def programs(self, seen: Notes) -> list[int]:
        """The kept tracks' programs as the model reads them."""
        kept = seen.notes[self.is_kept(seen) & ~seen.notes["is_drum"]]
        return sorted({int(p) for p in kept["program"]})

    def generated(self, made: Notes, seen: Notes) -> Notes:
        """What the model wrote: the notes of a decoded stream not under a kept program."""
        return made[~np.isin(made.notes["program"], self.programs(seen)) | made.notes["is_drum"]]

    def forcer(
        self, seen: Notes, tok: miditok.MusicTokenizer, grammar: Grammar, rows: int, bars: tuple[int, int] | None = None
    ) -> Forcer:
        """The forcer for the kept notes of ``seen`` (only those in bars ``a <= bar < b``, counted from ``a``)."""
        kept = seen[self.is_kept(seen)]
        if len(kept) == 0:
            raise ConfigError(f"{seen.source or 'the piece'}: the tracks to keep have no notes")
        slots, ts_ids = kept_slots(kept, tok)
        if bars is not None:
            a, b = bars
            slots = [Slot(s.bar - a, s.position, s.tokens) for s in slots if a <= s.bar < b]
            ts_ids = ts_ids[a : b + 1] or ts_ids[-1:]
        return Forcer(grammar, tok, slots, ts_ids, self.programs(seen), rows, self.avoid_parallels)
