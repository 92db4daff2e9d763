"""How the Transformer generates: token by token through the KV cache, every token checked by the grammar.

:func:`sample_tokens` is the one loop: prefill the prompt, then sample one token per row at a time with the
shared logit filters (``sampling.py``) after the grammar's mask (``grammar.py``), until each row's stop rule
holds. Past the context, the window slides: the cache is rebuilt from the last three quarters of the sequence
(continuation only; an infilling prompt must fit).

:func:`continue_piece` and :func:`infill_piece` turn that into music: they tokenize a primer, build the prompt,
decode the new tokens and put the new notes into the piece, keeping the given notes as they were.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import miditok
import numpy as np
import torch

from ...errors import ConfigError
from ...grid import parse_bars
from ...notes import Notes
from ...progress import progress_bar
from ...representations.bars import bar_lines_qn
from ...representations.tokens import bar_starts, from_tokens, shift_ticks, to_tokens, tokenizer_name
from ...sampling import sample_logits
from ...utils import eval_mode
from .grammar import Grammar, GrammarState
from .keep import Forcer, Keep
from .model import MusicTransformer
from .task import Sentinels, fim_prompt

Stop = Callable[[GrammarState, torch.Tensor], torch.Tensor]  # (state, new tokens so far per row) -> done (B,)

#: the fewest rows that generate with bf16 weights (where the CPU has them natively): a matrix-vector product of
#: bf16 weights is slower than fp32's on the CPU (oneDNN), a matrix-matrix one faster. Measured 2026-12-02, 2-core
#: Intel Xeon with AMX, one thread, the benchmark's 6 x 256 model: fp32 / bf16 tokens per second 507 / 332 at one
#: row, 2,347 / 2,197 at 8, 3,215 / 3,452 at 16, 4,558 / 5,789 at 64 (docs/benchmarks.md)
BF16_MIN_ROWS = 16


class View:
    """One reading of the sequence being written: its pinned head (controls) and the music after it, in its own
    KV cache, sliding when the cache is full. Guided generation reads the music twice: with the controls asked for
    and with none."""

    def __init__(self, model: MusicTransformer, head: torch.Tensor, music: torch.Tensor) -> None:
        self.model, self.head, self.ctx = model, head, model.cfg.context
        self.cache = model.new_cache(head.shape[0], self.ctx)
        self.logits = model.prefill(torch.cat([head, music[:, -(self.ctx - 1 - head.shape[1]) :]], dim=1), self.cache)

    def advance(self, tok: torch.Tensor, history: list[torch.Tensor]) -> None:
        """Read one more token; past the context, start again from the head and the last three quarters."""
        if self.cache.pos >= self.ctx:
            keep = torch.cat(history, dim=1)[:, -((3 * self.ctx) // 4 - self.head.shape[1]) :]
            self.cache = self.model.new_cache(tok.shape[0], self.ctx)
            self.logits = self.model.prefill(torch.cat([self.head, keep], dim=1), self.cache)
        else:
            self.logits = self.model.decode(tok, self.cache)


#: the share of the strictness given to the chord's root as a bonus. 0: measured on the chorales' validation split
#: (strictness 4, 16 pieces a progression), a quarter raised the bars followed from 92.3% to 94.7% (sevenths are
#: heard as the triad on their third when the root sounds little) but lowered the overlap with real chorales from
#: 0.877 to 0.850 (roots doubled everywhere); kept as a knob for a model whose voicings leave the root out
ROOT_SHARE = 0.0


class ChordPlan:
    """Chord tokens given bar by bar as generation goes: after each new ``Bar`` token of a row, the next tokens of
    that row are the bar's chord tokens (``bars[k]`` for the ``k``-th bar begun after the prompt, repeated from the
    start when the piece runs longer), put in place of what was sampled there, as training put them after the
    bar's ``Bar`` token. They are given, never sampled: the grammar reads them as no event.

    ``tones`` (``(len(bars), 2, 12)``, :func:`~tunesmith.representations.chords.tone_masks`) and ``strictness``:
    each pitch outside the chord of the bar (and half bar, from the ``TimeSig`` of the bar being written) has
    ``strictness`` nats taken from its log-probability, and so has each duration that would hold a note past the
    last half bar whose chord has it; the root gets :data:`ROOT_SHARE` of it (:meth:`bias`). The chord tokens alone
    leave the model free to move through other chords between the strong beats and to hold notes into the next
    chord (docs/chords.md: 64% of bars read as asked for the chorales); this keeps the notes on the chord, as a
    player reading a chord chart does, and leaves the model the choice among them, their rhythm and voicing. With
    the ``grammar``, a piece over a progression keeps one metre: the first ``TimeSig`` (the prompt's, or the first
    bar's) is the only one allowed after it (the chorale model, free, moved from 4/4 to 3/4 in mid-piece, and the
    progression's bars with it)."""

    def __init__(
        self,
        bars: list[list[int]],
        state: GrammarState,
        grammar: Grammar | None = None,
        prompt: torch.Tensor | None = None,
        tones: np.ndarray | None = None,
        strictness: float = 0.0,
    ) -> None:
        self.bars = bars
        self.start = state.bars.clone()  # bars begun in the prompt
        self.seen = state.bars.clone()
        self.pending: list[list[int]] = [[] for _ in range(state.bars.shape[0])]
        self.strictness = float(strictness) if tones is not None and grammar is not None else 0.0
        self.metre: torch.Tensor | None = None
        if grammar is not None:  # a progression keeps one metre: the TimeSig of the prompt or of the first bar
            self.bar_ticks = grammar.bar_ticks
            self.metre = torch.full_like(state.bars, -1)
            default = 4 * grammar.ticks_per_quarter  # 4/4 until a TimeSig says otherwise
            self.bar_len = torch.full_like(state.bars, default)
            if prompt is not None and prompt.shape[1]:  # the last TimeSig of the prompt, per row
                ids = prompt.clamp(0, self.bar_ticks.shape[0] - 1)
                for r in range(prompt.shape[0]):
                    told = ids[r][self.bar_ticks[ids[r]] > 0]
                    if told.numel():
                        self.metre[r], self.bar_len[r] = told[-1], self.bar_ticks[told[-1]]
        if self.strictness:
            dev = state.bars.device
            self.roots = torch.as_tensor(np.asarray(tones) == 2, device=dev)
            self.tones = torch.as_tensor(np.asarray(tones) > 0, device=dev)
            pitched = (grammar.kind == 5) & grammar.melodic  # a melodic Pitch token (never a drum's)
            self.pc = torch.where(pitched, grammar.pitch % 12, -1)
            self.dur = grammar.dur_ticks
            self.position_ticks = grammar.position_ticks
            # hold[k, h, pc]: how many half bars from bar k's half h on have pc in their chord (cyclic, at most 8)
            flat = self.tones.reshape(-1, 12).long()
            hold, run = torch.zeros_like(flat), flat
            for j in range(1, 9):  # run: 1 where the next j half bars all have it
                hold += run
                run = run * flat.roll(-j, dims=0)
            self.hold = hold.reshape(self.tones.shape)
            self.last_pc = torch.full_like(state.bars, -1)  # the pitch class of each row's last Pitch token

    def bias(self, state: GrammarState, logits: torch.Tensor) -> torch.Tensor:
        """``logits (B, V)`` with ``strictness`` taken from every pitch outside the current bar's chord (rows in a
        bar of the prompt are left alone)."""
        if self.metre is not None:  # no other metre than the one the piece has
            other = (self.bar_ticks > 0)[None, :] & (torch.arange(logits.shape[1], device=logits.device)[None, :]
                                                     != self.metre[:, None]) & (self.metre >= 0)[:, None]  # fmt: skip
            logits = logits.masked_fill(other, float("-inf"))
        if not self.strictness:
            return logits
        k = state.bars - self.start - 1  # the bar being written, counted from the first after the prompt
        at_tick = state.position.clamp(min=0) * self.position_ticks  # in ticks of the beat, as bar_len and durations
        half = ((state.position >= 0) & (2 * at_tick >= self.bar_len)).long()
        at = (k.clamp(min=0) % self.tones.shape[0], half)
        chord = self.tones[at]  # (B, 12)
        off = ~chord[:, self.pc.clamp(min=0)] & (self.pc >= 0)[None, :] & (k >= 0)[:, None]
        # a duration that would sound the last pitch past its chord: from the note's position to the end of the
        # half bars that have it (none where the pitch is off the chord: then every duration is alike)
        half_len = self.bar_len // 2
        held = self.hold[at + (self.last_pc.clamp(min=0),)]
        room = held * half_len - (at_tick - half * half_len)
        too_long = (self.dur[None, :] > room[:, None]) & (held > 0)[:, None] & (self.last_pc >= 0)[:, None]
        off |= too_long & (self.dur[None, :] > 0) & (k >= 0)[:, None]
        root = self.roots[at][:, self.pc.clamp(min=0)] & (self.pc >= 0)[None, :] & (k >= 0)[:, None]
        return logits - self.strictness * off.to(logits.dtype) + ROOT_SHARE * self.strictness * root.to(logits.dtype)

    def force(self, state: GrammarState, tok: torch.Tensor, done: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The tokens to write, and ``(B,)`` where they are chord tokens (kept tracks' notes wait a step there)."""
        for r in torch.nonzero(state.bars > self.seen).flatten().tolist():  # a Bar token came last
            k = int(state.bars[r] - self.start[r]) - 1
            self.pending[r] = list(self.bars[k % len(self.bars)]) if self.bars else []
        self.seen = state.bars.clone()
        given = torch.zeros_like(done)
        rows = [r for r, p in enumerate(self.pending) if p and not bool(done[r])]
        if rows:
            tok = tok.clone()
            for r in rows:
                tok[r] = self.pending[r].pop(0)
                given[r] = True
        return tok, given

    def wrote(self, tok: torch.Tensor) -> None:
        """Follow the tokens written: the first ``TimeSig`` is the row's metre from then on; the last pitch."""
        if self.metre is None:
            return
        t = tok.clamp(0, self.bar_ticks.shape[0] - 1)
        metre = self.bar_ticks[t] > 0
        self.metre = torch.where(metre & (self.metre < 0), t, self.metre)
        self.bar_len = torch.where(metre, self.bar_ticks[t], self.bar_len)
        if self.strictness:
            self.last_pc = torch.where(self.pc[t] >= 0, self.pc[t], self.last_pc)


def bars_stop(n_bars: int, start_bars: torch.Tensor) -> Stop:
    """Done once ``n_bars`` bars after the prompt are written: at the ``Bar`` token that would begin the next."""

    def stop(state: GrammarState, produced: torch.Tensor) -> torch.Tensor:
        return state.bars - start_bars > n_bars

    return stop


@torch.no_grad()
def sample_tokens(
    model: MusicTransformer,
    grammar: Grammar,
    prompt: torch.Tensor,
    stop: Stop,
    *,
    max_new: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | list[torch.Generator] | None = None,
    slide: bool = True,
    state: GrammarState | None = None,
    bf16: bool = False,
    compile: bool = False,
    pinned: int = 0,
    forcer: Forcer | None = None,
    guidance: float = 1.0,
    free_head: list[int] | None = None,
    chords: list[list[int]] | None = None,
    chord_none: int | None = None,
    chord_tones: np.ndarray | None = None,
    chord_strictness: float = 0.0,
) -> list[list[int]]:
    """New tokens per row after ``prompt (B, T)``, until ``stop`` says a row is done or ``max_new`` tokens.
    A row's tokens end with the token that made it done. ``bf16``: generate with a bf16 copy of the weights
    where the hardware computes bf16 natively, for batches of :data:`BF16_MIN_ROWS` rows or more (1.3 times faster
    at 64 rows; fp32 is faster below: 1.5 times at one row; compiled, bf16 is the faster at any size). ``compile``:
    the prompt's pass and the decode step through ``torch.compile`` (:func:`~.model.compile_step`: 1.6 to 1.9 times
    the tokens per second, after 20-60 s of compiling, so for long or many pieces). ``pinned``: the prompt's
    first tokens (the controls) stay at the start of the window when it slides. ``forcer``: kept tracks' notes put
    into the stream as it goes (``keep.py``). ``guidance`` above 1 (with ``free_head``, the head of no control):
    classifier-free guidance (Ho & Salimans 2022): the log-probabilities with the controls pushed away from those
    without, ``free + guidance * (controlled - free)``; the model learned both, controls being dropped in training.
    ``chords``: each new bar's chord tokens, given after its ``Bar`` token (:class:`ChordPlan`); with guidance, the
    reading without them has ``chord_none`` in their place (so the chords are guided as the controls are);
    ``chord_tones`` and ``chord_strictness``: the notes kept to the chords' tones (:meth:`ChordPlan.bias`).
    """
    B, T = prompt.shape
    ctx = model.cfg.context
    if ctx <= T and not slide:
        raise ConfigError(f"the prompt ({T} tokens) does not fit the model's context of {ctx}")
    state = grammar.replay(prompt) if state is None else state
    out: list[list[int]] = [[] for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool, device=prompt.device)
    produced = torch.zeros(B, dtype=torch.long, device=prompt.device)
    model = model.for_generation(bf16 and (compile or B >= BF16_MIN_ROWS), compile=compile)
    plan = ChordPlan(chords, state, grammar, prompt, chord_tones, chord_strictness) if chords is not None else None
    guided = guidance != 1.0 and free_head is not None
    with eval_mode(model):
        music = prompt[:, pinned:]
        views = [View(model, prompt[:, :pinned], music)]
        if guided:
            free = torch.as_tensor([free_head] * B, dtype=torch.long, device=prompt.device).reshape(B, -1)
            views.append(View(model, free, music))
        history = [music[:, -ctx:]]
        free_history = history[:]  # the unguided reading's: CHORD_NONE where the chords were given
        # shown only once generating has taken 2 s: a count of tokens and their rate (where stop rules end rows,
        # ``max_new`` is only a bound, so there is no honest total)
        bar = progress_bar(desc=f"generating {B} piece(s)", unit="token", delay=2.0, leave=False)
        for _ in range(max_new):
            bar.update(1)
            allowed = grammar.mask(state)
            if forcer is not None:
                allowed &= forcer.mask(state)
            logits = views[0].logits.float()
            if guided:
                lc, lf = logits.log_softmax(-1), views[1].logits.float().log_softmax(-1)
                logits = lf + guidance * (lc - lf)
            free_logits = logits.masked_fill(~allowed, float("-inf"))
            if plan is not None:  # the chords' bias; where it leaves a row nothing (a kept track changes metre), none
                logits = plan.bias(state, logits).masked_fill(~allowed, float("-inf"))
                logits = torch.where(torch.isinf(logits).all(-1, keepdim=True), free_logits, logits)
            else:
                logits = free_logits
            tok = sample_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
            given = torch.zeros_like(done)
            if plan is not None:  # a new bar's chord tokens first, as training put them right after its Bar token
                tok, given = plan.force(state, tok, done)
            if forcer is not None:
                tok = forcer.force(state, tok, done | given)
            grammar.step(state, torch.where(done, grammar.noop, tok))  # a finished row's state stays as it ended
            if plan is not None:
                plan.wrote(tok)
            produced += (~done).long()
            for r in torch.nonzero(~done).flatten().tolist():
                out[r].append(int(tok[r]))
            done |= stop(state, produced)
            if bool(done.all()):
                break
            history.append(tok[:, None])
            if not slide and views[0].cache.pos >= ctx:
                break
            views[0].advance(tok, history)
            if guided:
                free_tok = torch.where(given, chord_none, tok) if chord_none is not None else tok
                free_history.append(free_tok[:, None])
                views[1].advance(free_tok, free_history)
        bar.close()
    return out


# ---------------------------------------------------------------------------------------------- music
def new_notes(whole: Notes, before: Notes) -> Notes:
    """The notes of ``whole`` that ``before`` does not hold (a multiset difference on pitch, times, program)."""

    def key(n: np.void) -> tuple:
        return (int(n["pitch"]), round(float(n["start_qn"]), 6), round(float(n["end_qn"]), 6), int(n["program"]))

    seen = Counter(key(n) for n in before.notes)
    keep = np.zeros(len(whole), dtype=bool)
    for i, n in enumerate(whole.notes):
        k = key(n)
        if seen[k]:
            seen[k] -= 1
        else:
            keep[i] = True
    return whole[keep]


def shifted(notes: Notes, offset_qn: float, like: Notes) -> Notes:
    """``notes`` moved by ``offset_qn`` quarter notes into the piece ``like``."""
    arr = notes.notes.copy()
    arr["start_qn"] += offset_qn
    arr["end_qn"] += offset_qn
    return like.with_qn_times(arr)


def token_time_qn(ids: np.ndarray, tok: miditok.MusicTokenizer, bars: np.ndarray, lines: np.ndarray, at: int) -> float:
    """Where token ``at`` of a piece lies, in quarter notes: a bar line for REMI (``at`` opens a bar), the time
    shifts before it otherwise."""
    if tokenizer_name(tok) == "REMI":
        k = int(np.searchsorted(bars, at, side="right")) - 1
        return float(lines[max(k, 0)])
    return float(shift_ticks(tok)[ids[:at]].sum()) / tok.time_division


def piece_bars(notes: Notes, tok: miditok.MusicTokenizer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A piece's token ids, the token index of each bar and each bar line in quarter notes (as many as bars)."""
    ids = to_tokens(notes, tok)
    if ids.size == 0:
        raise ConfigError(f"{notes.source or 'the primer'}: no notes the tokenizer can read (pitches 21-109)")
    bars = bar_starts(ids, tok, notes)
    end = float(notes.end_qn.max()) if len(notes) else 0.0
    lines = bar_lines_qn(notes, end)
    n = min(len(bars), len(lines))
    return ids, bars[:n], lines[:n]


def continuation_prompt(ids: np.ndarray, bars: np.ndarray, room: int) -> int:
    """Where a continuation's prompt starts: the earliest bar from which the rest fits ``room`` tokens (else the
    token ``room`` from the end)."""
    for b in bars:
        if ids.size - b <= room:
            return int(b)
    return max(ids.size - room, 0)


def notes_stop(length: int, grammar: Grammar, start_notes: torch.Tensor) -> Stop:
    def stop(state: GrammarState, produced: torch.Tensor) -> torch.Tensor:
        return (state.notes - start_notes >= length) & grammar.complete(state)

    return stop


def continue_tokens(
    model: MusicTransformer,
    grammar: Grammar,
    prompts: torch.Tensor,
    length: int,
    *,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator,
    bf16: bool = False,
    compile: bool = False,
    pinned: int = 0,
    guidance: float = 1.0,
    free_head: list[int] | None = None,
    bars: int | None = None,
    chords: list[list[int]] | None = None,
    chord_none: int | None = None,
    chord_tones: np.ndarray | None = None,
    chord_strictness: float = 0.0,
) -> list[list[int]]:
    """``length`` new notes after each prompt row (with the tokens that end notes still sounding, MIDILike), or
    ``bars`` new bars (REMI); the first ``pinned`` tokens of each row are its controls; ``chords``: each new bar's
    chord tokens (:class:`ChordPlan`)."""
    state = grammar.replay(prompts)
    if bars is not None:
        stop = bars_stop(bars, state.bars.clone())
        budget = bars * 400 + 64  # a bound only: the bars end it
    else:
        stop, budget = notes_stop(length, grammar, state.notes.clone()), length * 16 + 64
    out = sample_tokens(
        model,
        grammar,
        prompts,
        stop,
        max_new=budget,
        chords=chords,
        chord_none=chord_none,
        chord_tones=chord_tones,
        chord_strictness=chord_strictness,
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        generator=generator,
        state=state,
        bf16=bf16,
        compile=compile,
        pinned=pinned,
        guidance=guidance,
        free_head=free_head,
    )
    return [row + grammar.close(state, r) for r, row in enumerate(out)]


def continue_rows(
    model: MusicTransformer,
    tok: miditok.MusicTokenizer,
    grammar: Grammar,
    tails: np.ndarray,
    primers: list[Notes],
    offsets: list[float],
    length: int,
    *,
    humanize: Callable[[Notes], Notes] = lambda n: n,
    prefix: list[int] | np.ndarray | None = None,
    **sampling,
) -> list[Notes]:
    """Continue each row of ``tails (n, P)`` (the tokens of the last bars of ``primers[i]``, which start at
    ``offsets[i]`` quarter notes into it; P may be 0 where ``prefix`` is given) by ``length`` notes: each piece is
    its primer's notes as they were, then the new ones in time order. ``prefix``: control tokens before every row,
    or ``(n, C)`` a row's own."""
    device = model.head.weight.device
    heads = np.asarray(prefix if prefix is not None else [], dtype=np.int64)
    if heads.ndim == 1:  # one prefix for every row (else one per row, all of one length)
        heads = np.repeat(heads[None], len(tails), axis=0)
    prompts = torch.as_tensor(np.concatenate([heads, tails.astype(np.int64)], axis=1), device=device)
    rows = continue_tokens(model, grammar, prompts, length, pinned=heads.shape[1], **sampling)
    pieces = []
    for tail, row, primer, offset in zip(tails, rows, primers, offsets, strict=True):
        written = from_tokens(np.concatenate([tail, row]), tok)
        added = humanize(new_notes(written, from_tokens(tail, tok)))
        if not len(primer):  # from controls alone: the tempo and metre are the ones the model wrote (or was asked)
            primer = Notes(primer.notes, written.tempos, written.time_signatures, primer.source, primer.metadata)
        added = shifted(added, offset, primer).into_tracks(primer)  # the primer's tracks, by instrument
        whole = Notes.concatenate([primer, added.sorted()])
        pieces.append(whole.with_metadata(primer_notes=str(len(primer))))
    return pieces


def continue_piece(
    model: MusicTransformer,
    tok: miditok.MusicTokenizer,
    grammar: Grammar,
    primer: Notes,
    n: int,
    length: int,
    *,
    humanize: Callable[[Notes], Notes] = lambda n: n,
    prefix: list[int] | None = None,
    **sampling,
) -> list[Notes]:
    """``n`` continuations of ``primer`` by ``length`` notes each: the primer's notes as they were, then the new
    ones (generated after the primer's last bars that fit half the context; ``prefix``: control tokens)."""
    ids, bars, lines = piece_bars(primer, tok)
    start = continuation_prompt(ids, bars, model.cfg.context // 2)
    offset = token_time_qn(ids, tok, bars, lines, start)
    tails = np.repeat(ids[start:][None], n, axis=0)
    return continue_rows(
        model, tok, grammar, tails, [primer] * n, [offset] * n, length, humanize=humanize, prefix=prefix, **sampling
    )


def infill_piece(
    model: MusicTransformer,
    tok: miditok.MusicTokenizer,
    grammar: Grammar,
    sentinels: Sentinels,
    piece: Notes,
    bars_text: str,
    n: int,
    *,
    humanize: Callable[[Notes], Notes] = lambda n: n,
    prefix: list[int] | None = None,
    keep: Keep | None = None,
    **sampling,
) -> list[Notes]:
    """``n`` versions of ``piece`` whose bars ``bars_text`` (e.g. ``"5-8"``) are generated anew; every note that
    starts outside those bars is kept as it was. ``prefix``: control tokens before the prompt. ``keep``: tracks
    whose notes inside the bars are kept too (the model writes the others around them, ``keep.py``)."""
    a, b = parse_bars(bars_text)
    seen = keep.mapped(piece) if keep else piece  # the piece as the model reads it (kept tracks' programs mapped)
    ids, bars, lines = piece_bars(seen, tok)
    if b > len(bars) - 1:
        raise ConfigError(
            f"--infill-bars {bars_text}: {piece.source or 'the primer'} has {len(bars)} bars; the bars to fill must "
            f"have at least one bar after them (choose bars within 1-{max(len(bars) - 1, 0)})"
        )
    if b - a > sentinels.max_bars:
        raise ConfigError(f"--infill-bars {bars_text}: this model fills at most {sentinels.max_bars} bars at once")
    ctx = model.cfg.context
    prefix = prefix or []
    room = (ctx - len(prefix)) // 2  # half the context for the prefix and the suffix, half for the bars to write
    start, stop = int(bars[a]), int(bars[b])
    n_pre = min(room // 2, start)
    n_suf = min(room - n_pre, ids.size - stop)
    n_pre = min(room - n_suf, start)
    parts = fim_prompt(ids[start - n_pre : start], ids[stop : stop + n_suf], b - a, sentinels, model.cfg.fim_order)
    prompt = np.concatenate([np.asarray(prefix, dtype=np.int64), *parts]).astype(np.int64)
    device = model.head.weight.device
    prompts = torch.as_tensor(np.repeat(prompt[None], n, axis=0), dtype=torch.long, device=device)
    offset = float(lines[a])
    span_ticks = int(round((float(lines[b]) - offset) * tok.time_division))
    remi = tokenizer_name(tok) == "REMI"
    # the middle is read alone: a fresh grammar state (a bar opens it) and a stop at the next bar
    state = grammar.start(n)
    forcer = keep.forcer(seen, tok, grammar, n, bars=(a, b)) if keep else None

    def stop_rule(s: GrammarState, produced: torch.Tensor) -> torch.Tensor:
        if remi:
            ended = s.bars > b - a  # the token that opens the bar after the span
            return ended & forcer.finished(s) if forcer else ended
        return (s.ticks >= span_ticks) & grammar.complete(s)

    rows = sample_tokens(
        model,
        grammar,
        prompts,
        stop_rule,
        max_new=ctx - prompt.size - 1,
        slide=False,
        state=state,
        forcer=forcer,
        pinned=len(prefix),
        **sampling,
    )
    if not remi:
        offset = token_time_qn(ids, tok, bars, lines, start)
    lo, hi = float(lines[a]), float(lines[b])
    outside = (piece.start_qn < lo) | (piece.start_qn >= hi)
    kept = piece[outside | (keep.is_kept(piece) if keep else False)]
    out = []
    for r, row in enumerate(rows):
        middle = row[:-1] if remi and row and grammar.bar_count[row[-1]] > 0 else row
        middle = middle + grammar.close(state, r) if not remi else middle
        made = from_tokens(np.asarray(middle, dtype=np.int64), tok)
        made = shifted(humanize(keep.generated(made, seen) if keep else made), offset, piece)
        made = made[(made.start_qn >= lo - 1e-9) & (made.start_qn < hi - 1e-9)]
        made = made.into_tracks(piece, exclude=keep.tracks if keep else ())  # the voices' own tracks, names kept
        whole = Notes.concatenate([kept, made]).sorted()
        out.append(whole.with_metadata(infilled_bars=bars_text))
    return out


def keep_tracks_piece(
    model,
    tok: miditok.MusicTokenizer,
    grammar: Grammar,
    piece: Notes,
    keep: Keep,
    n: int,
    *,
    prefix: list[int] | None = None,
    humanize=lambda notes: notes,
    **sampling,
) -> list[Notes]:
    """``n`` versions of ``piece`` whose kept tracks are as they were and whose other parts are written anew, from
    its first bar to its kept notes' last."""
    seen = keep.mapped(piece)
    forcer = keep.forcer(seen, tok, grammar, n)
    head = list(prefix or [])
    start = [] if head else [tok.vocab["Bar_None"]]  # a prompt needs a token: controls, else the first Bar
    prompts = torch.as_tensor([head + start] * n, dtype=torch.long, device=model.head.weight.device)
    state = grammar.replay(prompts)
    budget = 16 * sum(len(s.tokens) for s in forcer.slots) + 64 * (forcer.last_bar + 2)
    rows = sample_tokens(
        model,
        grammar,
        prompts,
        lambda s, produced: forcer.finished(s),
        max_new=budget,
        state=state,
        pinned=len(head),
        forcer=forcer,
        **sampling,
    )
    kept = piece[keep.is_kept(piece)]
    out = []
    for row in rows:
        made = from_tokens(np.asarray(start + row, dtype=np.int64), tok)
        made = shifted(humanize(keep.generated(made, seen)), 0.0, piece)
        made = made.into_tracks(piece, exclude=keep.tracks)  # the voices' own tracks; new ones after the last
        whole = Notes.concatenate([kept, made]).sorted()
        out.append(whole.with_metadata(kept_tracks=",".join(str(t) for t in keep.tracks)))
    return out
