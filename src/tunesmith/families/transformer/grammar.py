"""What token may come next: the tokenizer's grammar as a mask over the vocabulary, for a batch at once.

Sampling gives no probability to a token that the position does not allow, so every generated sequence decodes
to valid MIDI. The rules, from the weakest to the strongest:

* **token types** (every tokenization): MidiTok's own graph of which type may follow which (``Pitch`` is followed
  by ``Velocity``, then ``Duration``; ``Bar`` by ``TimeSig``; ...); for BPE tokens, the first base token of a
  candidate must be allowed after the last base token so far. Special tokens and the model's sentinels are never
  generated.
* **REMI positions**: within a bar, a ``Position`` must lie after the previous one (MidiTok's decoder would place
  a note earlier than the ones before it, and its own error count calls that an error).
* **one onset per pitch and time** (REMI, TSD): a pitch already struck at the current time is not struck again
  (two notes of one key at one time are one note of zero length once a MIDI player, or reader, pairs them).
* **MIDILike notes**: a ``NoteOff`` only for a sounding pitch and only after time has passed since its
  ``NoteOn`` (no zero-length notes), a ``NoteOn`` only for a pitch that is not sounding; :meth:`Grammar.close`
  ends the notes still sounding when generation stops (no dangling notes).

``Grammar.mask(state)`` is ``(B, V)`` booleans; ``state`` is advanced by ``Grammar.step(state, tokens)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import miditok
import numpy as np
import torch

from ...representations.tokens import base_tokens, shift_ticks, shift_value_ticks, token_types, tokenizer_name

N_PITCHES = 128
#: ``GrammarState.cur_program`` before a stream's first Program token
NO_PROGRAM = -2


@dataclass
class GrammarState:
    last_type: torch.Tensor  # (B,) type index of the last base token (-1: nothing yet, anything may start)
    position: torch.Tensor  # (B,) REMI: the position in the current bar (-1 after a Bar)
    sounding: torch.Tensor  # (B, 128) MIDILike: pitches on
    held: torch.Tensor  # (B, 128) MIDILike: pitches on for which time has passed since their NoteOn
    program: torch.Tensor  # (B, 128) MIDILike: the program that turned each pitch on
    onset: torch.Tensor  # (B, 128) MIDILike: the tick each sounding pitch was turned on
    struck: torch.Tensor  # (B, 128) REMI, TSD: pitches struck at the current time
    cur_program: torch.Tensor  # (B,) with programs: the last Program token's value (NO_PROGRAM before the first)
    ticks: torch.Tensor  # (B,) ticks of time shifts so far (TSD, MIDILike)
    bars: torch.Tensor  # (B,) Bar tokens so far (REMI)
    notes: torch.Tensor  # (B,) notes started so far


class Grammar:
    def __init__(self, tok: miditok.MusicTokenizer, vocab_size: int, device: torch.device) -> None:
        """``vocab_size``: the model's vocabulary (the tokenizer's ids and the sentinels after them)."""
        self.device = device
        self.vocab_size = vocab_size
        self.noop = int(tok.pad_token_id)  # what a finished row is stepped with: padding changes no state
        self.name = tokenizer_name(tok)
        self.bpe = bool(tok.is_trained)
        n_tok = len(tok)
        types, first, last = token_types(tok)
        self.types = types
        t = {name: i for i, name in enumerate(types)}
        graph = tok.tokens_types_graph
        allowed = np.zeros((len(types) + 1, vocab_size), dtype=bool)  # row len(types): the start (nothing yet)
        never = {"PAD", "BOS", "EOS", "MASK"}
        for a, name in enumerate(types):
            nexts = set(graph.get(name, ())) - never
            allowed[a, :n_tok] = [types[f] in nexts for f in first]
        allowed[len(types), :n_tok] = [types[f] not in never for f in first]
        # the very start: a piece begins at a bar (REMI) or with an event, never in the middle of a note
        mid_note = {"Velocity", "Duration"}
        allowed[len(types), :n_tok] &= [types[f] not in mid_note for f in first]
        if self.name == "REMI":
            allowed[len(types), :n_tok] &= [types[f] == "Bar" for f in first]
        self.allowed = torch.as_tensor(allowed, device=device)
        self.first = torch.as_tensor(first, device=device)
        self.last = torch.as_tensor(np.concatenate([last, np.full(vocab_size - n_tok, len(types))]), device=device)
        bases = base_tokens(tok)
        bases += [["PAD_None"]] * (vocab_size - n_tok)

        def count(kinds: tuple[str, ...]) -> torch.Tensor:
            return torch.as_tensor([sum(b.split("_")[0] in kinds for b in bs) for bs in bases], device=device)

        self.bar_count = count(("Bar",))
        self.note_count = count(("Pitch", "NoteOn", "PitchDrum", "DrumOn"))
        ticks = np.concatenate([shift_ticks(tok), np.zeros(vocab_size - n_tok, dtype=np.int64)])
        self.shift = torch.as_tensor(ticks, device=device)
        self.ticks_per_quarter = int(tok.time_division)
        # REMI positions (single base tokens only: BPE merges carry their own order)
        pos = np.full(vocab_size, -1, dtype=np.int64)
        kind = np.zeros(vocab_size, dtype=np.int64)  # MIDILike: 1 NoteOn, 2 NoteOff, 3 Program; 4 TimeShift
        pitch = np.zeros(vocab_size, dtype=np.int64)
        value = np.zeros(vocab_size, dtype=np.int64)
        # a TimeSig's bar, a Duration's note and a Position's place in the bar, in ticks of the metre's beat, tpq of
        # them a beat (sample.ChordPlan keeps notes within their chord): MidiTok counts REMI's positions and
        # durations in the time signature's beats (an eighth in 6/8, a quarter in 3/4), at its highest resolution
        bar_ticks = np.zeros(vocab_size, dtype=np.int64)
        dur_ticks = np.full(vocab_size, -1, dtype=np.int64)
        tpq = int(tok.time_division)
        self.position_ticks = max(tpq // max(tok.config.beat_res.values()), 1)
        for i, bs in enumerate(bases[:n_tok]):
            if len(bs) != 1:
                continue
            name, _, v = bs[0].partition("_")
            if name == "TimeSig":
                num, den = (int(x) for x in v.split("/"))
                bar_ticks[i] = num * tpq
            elif name == "Duration":
                dur_ticks[i] = shift_value_ticks(v, tpq)
            elif name == "Position":
                pos[i] = int(v)
            elif name in ("NoteOn", "DrumOn"):
                kind[i], pitch[i] = 1, int(v)
            elif name in ("NoteOff", "DrumOff"):
                kind[i], pitch[i] = 2, int(v)
            elif name in ("Pitch", "PitchDrum"):
                kind[i], pitch[i] = 5, int(v)
            elif name == "Program":
                kind[i], value[i] = 3, int(v)
            elif name in ("TimeShift", "Rest"):
                kind[i] = 4
        # drum notes (MidiTok: Program_-1, then PitchDrum / DrumOn / DrumOff) and the others
        drum = np.zeros(vocab_size, dtype=bool)
        melodic = np.zeros(vocab_size, dtype=bool)
        for i, bs in enumerate(bases[:n_tok]):
            name = bs[0].split("_")[0]
            drum[i] = name in ("PitchDrum", "DrumOn", "DrumOff")
            melodic[i] = name in ("Pitch", "NoteOn", "NoteOff")
        self.drum = torch.as_tensor(drum, device=device)
        self.melodic = torch.as_tensor(melodic, device=device)
        self.bar_ticks = torch.as_tensor(bar_ticks, device=device)
        self.dur_ticks = torch.as_tensor(dur_ticks, device=device)
        self.pos = torch.as_tensor(pos, device=device)
        self.kind = torch.as_tensor(kind, device=device)
        self.pitch = torch.as_tensor(pitch, device=device)
        self.value = torch.as_tensor(value, device=device)
        self.bar_type = t.get("Bar", -2)
        self.position_type = t.get("Position", -2)
        self.uses_programs = "Program" in t
        self.n_pitches = len({int(pitch[i]) for i in range(n_tok) if kind[i] == 5 and not drum[i]})
        self.n_types = len(types)
        # MIDILike's way to end a note: ids of NoteOff_p, Program_p and the shortest TimeShift
        self.note_off = {(int(pitch[i]), bool(drum[i])): i for i in range(n_tok) if kind[i] == 2}
        self.program_id = {int(value[i]): i for i in range(n_tok) if kind[i] == 3}
        shifts = [(int(ticks[i]), i) for i in range(n_tok) if kind[i] == 4 and ticks[i] > 0]
        self.shortest_shift = min(shifts)[1] if shifts else None
        # the types after which a sequence may stop (not inside a note's tokens); the last row is the start
        pending = {"Pitch", "Velocity", "Program", "NoteOn", "PitchDrum", "DrumOn", "Position", "Bar"}
        if self.name == "MIDILike":
            pending -= {"Velocity"}
        self.ends_between_notes = torch.as_tensor([name not in pending for name in types] + [True], device=device)
        longest = tok.config.additional_params.get("max_duration")
        self.max_ticks = None if longest is None else shift_value_ticks(str(longest), self.ticks_per_quarter)

    # ------------------------------------------------------------------------------------------------ state
    def start(self, batch: int) -> GrammarState:
        z = torch.zeros(batch, dtype=torch.long, device=self.device)
        zp = torch.zeros(batch, N_PITCHES, dtype=torch.bool, device=self.device)
        return GrammarState(
            last_type=torch.full((batch,), self.n_types, dtype=torch.long, device=self.device),
            position=z - 1,
            sounding=zp,
            held=zp.clone(),
            program=torch.zeros(batch, N_PITCHES, dtype=torch.long, device=self.device),
            onset=torch.zeros(batch, N_PITCHES, dtype=torch.long, device=self.device),
            struck=zp.clone(),
            cur_program=z + (NO_PROGRAM if self.uses_programs else 0),
            ticks=z.clone(),
            bars=z.clone(),
            notes=z.clone(),
        )

    def replay(self, tokens: torch.Tensor) -> GrammarState:
        """The state after the tokens ``(B, T)`` of a prompt (sentinels and padding are skipped)."""
        state = self.start(tokens.shape[0])
        for j in range(tokens.shape[1]):
            self.step(state, tokens[:, j])
        return state

    def step(self, s: GrammarState, tok: torch.Tensor) -> None:
        """Advance ``s`` by one token per row ``tok (B,)``."""
        is_word = self.last[tok] < self.n_types  # not a sentinel or padding
        s.last_type = torch.where(is_word, self.last[tok], s.last_type)
        s.bars += self.bar_count[tok]
        s.notes += self.note_count[tok]
        s.ticks += self.shift[tok]
        if self.name in ("REMI", "TSD"):
            # a Position token moves time only to another position: kept tracks' notes (keep.py) bring their own
            # Position tokens, which may name the position the stream is at, and must not let a pitch sound twice
            moved_to = self.pos[tok] >= 0
            if self.name == "REMI":
                moved_to &= self.pos[tok] != s.position
            moves = (self.shift[tok] > 0) | (self.bar_count[tok] > 0) | moved_to
            s.struck &= ~moves[:, None]
            hit = self.kind[tok] == 5
            rows = torch.arange(tok.shape[0], device=tok.device)
            s.struck[rows[hit], self.pitch[tok][hit]] = True
        if self.name == "REMI":
            new_bar = self.bar_count[tok] > 0
            s.position = torch.where(new_bar, torch.full_like(s.position, -1), s.position)
            p = self.pos[tok]
            s.position = torch.where(p >= 0, p, s.position)
        s.cur_program = torch.where(self.kind[tok] == 3, self.value[tok], s.cur_program)
        if self.name == "MIDILike":
            k, p = self.kind[tok], self.pitch[tok]
            rows = torch.arange(tok.shape[0], device=tok.device)
            on, off = k == 1, k == 2
            s.sounding[rows[on], p[on]] = True
            s.held[rows[on], p[on]] = False
            s.program[rows[on], p[on]] = s.cur_program[on]
            s.onset[rows[on], p[on]] = s.ticks[on]
            s.sounding[rows[off], p[off]] = False
            s.held[rows[off], p[off]] = False
            advanced = self.shift[tok] > 0
            s.held |= s.sounding & advanced[:, None]

    def mask(self, s: GrammarState) -> torch.Tensor:
        """``(B, V)``: True where the token is allowed next."""
        m = self.allowed[s.last_type]  # (B, V)
        if self.uses_programs:  # drum notes under the drum program only, other notes never under it
            drums = (s.cur_program == -1)[:, None]
            m = m & ~(self.drum[None, :] & ~drums) & ~(self.melodic[None, :] & drums)
            # no note before the stream's first Program token: MidiTok would give it program 0 (a piano note in a
            # string quartet, written by a chorale model whose chord tokens came between a Bar and its notes)
            if not self.bpe:  # (BPE merges Program tokens into others, whose values the grammar does not read)
                m = m & ~((self.drum | self.melodic)[None, :] & (s.cur_program == NO_PROGRAM)[:, None])
        if self.name in ("REMI", "TSD") and not self.bpe:
            again = torch.gather(s.struck, 1, self.pitch[None, :].expand(m.shape[0], -1))
            m = m & ~((self.kind == 5)[None, :] & again)
            # every pitch struck already: nothing that leads to another note at this time (a Program token)
            full = (s.struck.sum(dim=1) >= self.n_pitches)[:, None]
            m = m & ~(full & (self.kind == 3)[None, :])
        if self.name == "REMI" and not self.bpe:
            later = (self.pos[None, :] > s.position[:, None]) | (self.pos[None, :] < 0)
            m = m & later
        if self.name == "MIDILike":
            p = self.pitch[None, :].expand(m.shape[0], -1)
            sounding = torch.gather(s.sounding, 1, p)
            held = torch.gather(s.held, 1, p)
            m = m & ~((self.kind == 1)[None, :] & sounding) & ~((self.kind == 2)[None, :] & ~held)
            if self.max_ticks is not None:  # no time shift that holds a note past MidiTok's longest
                oldest = torch.where(s.sounding, s.onset, s.ticks[:, None]).min(dim=1).values
                room = self.max_ticks - (s.ticks - oldest)
                m = m & ~((self.kind == 4)[None, :] & (self.shift[None, :] > room[:, None]))
            if self.uses_programs:  # a NoteOff under the program that turned its pitch on
                prog = torch.gather(s.program, 1, p)
                m = m & ~((self.kind == 2)[None, :] & (prog != s.cur_program[:, None]))
        return m

    def close(self, s: GrammarState, row: int) -> list[int]:
        """Tokens that end row ``row``'s sounding notes (MIDILike), to append when generation stops."""
        if self.name != "MIDILike":
            return []
        pitches = torch.nonzero(s.sounding[row]).flatten().tolist()
        if not pitches:
            return []
        out: list[int] = []
        if not bool(s.held[row, pitches].all()) and self.shortest_shift is not None:
            out.append(self.shortest_shift)
        for p in pitches:
            program = int(s.program[row, p])
            if self.uses_programs:
                out.append(self.program_id[program])
            out.append(self.note_off[(p, self.uses_programs and program == -1)])
        return out

    def complete(self, s: GrammarState) -> torch.Tensor:
        """``(B,)``: whether the sequence so far ends between notes (not inside one note's tokens)."""
        return self.ends_between_notes[s.last_type]
