"""A decoder-only Transformer over MidiTok tokens, as a family: it continues a primer and fills in bars.

``model.py`` the network (readable in one sitting), ``task.py`` token windows and fill-in-the-middle training,
``grammar.py`` what token may come next, ``sample.py`` generation through the KV cache. The tokenizer and the
token ids of a dataset come from ``representations/tokens.py``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from miditok import MusicTokenizer
from safetensors.torch import load_file

from ...dataset import Dataset
from ...errors import CheckpointError, ConfigError, DatasetError
from ...io import read
from ...notes import Notes, make_tempo_map
from ...representations.chords import ChordVocab, parse_progression, progression_rows, tone_masks
from ...representations.controls import ControlBins, ControlVocab, control_tokens, window_attributes
from ...representations.tokens import (
    TokenizerSpec,
    chord_width_qn,
    describe_tokenizer,
    from_tokens,
    grid_steps,
    load_tokenizer,
    note_counts,
    save_tokenizer,
    set_chord_window,
)
from ...training.checkpoint import load_tensors, load_weights
from ...training.stores import evenly_spread
from ...training.trainer import TrainConfig, native_bf16
from ...utils import eval_mode
from ..base import Family, GenerateOptions, Run, TaskBundle, seeded_generator
from .data import TokenCache, learn_bpe
from .grammar import Grammar
from .keep import Keep, parse_tracks
from .model import MusicTransformer, TransformerConfig
from .perform import chord_shapes, grid_offsets, performed
from .sample import continue_piece, continue_rows, infill_piece, keep_tracks_piece
from .spec import DEFAULT_CHORD_STRICTNESS, DEFAULT_GUIDANCE, TransformerOptions, TransformerSpec
from .task import (
    TOKENIZER_FILE,
    ChordSetup,
    ControlSetup,
    Sentinels,
    TokenWindows,
    TransformerTask,
    bars_between,
    nll_sums,
    stack,
    with_prefix,
)

N_PRIMERS = 256  # bar-aligned training excerpts kept in a run, to start generation without the dataset
PRIMER_TOKENS = 32
MAX_LIKELIHOOD_WINDOWS = 256  # windows of the context scored for held-out bits per note (about 35,000 notes)


def spec_of(cfg: TransformerConfig) -> TokenizerSpec:
    return TokenizerSpec(
        cfg.tokenization, cfg.steps_per_quarter, cfg.velocity_bins, cfg.use_tempos, cfg.use_programs, cfg.chord_window
    )


def sentinels_of(cfg: TransformerConfig, n_tokens: int) -> Sentinels:
    return Sentinels(n_tokens, cfg.fim_max_bars, pad=0)  # MidiTok's PAD_None is id 0


def tokenizer_size(cfg: TransformerConfig) -> int:
    """The tokenizer's vocabulary: the base one, or the BPE size asked for (merges learned on the data)."""
    return cfg.bpe_vocab or len(spec_of(cfg).build())


def vocab_of(cfg: TransformerConfig, n_tokens: int) -> tuple[Sentinels, ControlVocab | None]:
    """The model's ids: the tokenizer's, the sentinels after them, then the control tokens (where trained with)."""
    s = sentinels_of(cfg, n_tokens)
    return s, (ControlVocab(s.vocab_size) if cfg.controls else None)


def chord_vocab_of(cfg: TransformerConfig, n_tokens: int) -> ChordVocab | None:
    """The chord tokens' ids, after the control tokens (where the run learns chords)."""
    s, c = vocab_of(cfg, n_tokens)
    return ChordVocab(s.vocab_size + (c.size if c else 0)) if cfg.has_chords else None


def model_vocab_size(cfg: TransformerConfig, n_tokens: int) -> int:
    s, c = vocab_of(cfg, n_tokens)
    chords = chord_vocab_of(cfg, n_tokens)
    return s.vocab_size + (c.size if c else 0) + (chords.size if chords else 0)


def control_bins(windows: TokenWindows, rng: np.random.Generator, n: int = 2000) -> ControlBins:
    """The training data's tercile splits of density, polyphony and range, over ``n`` random training windows."""
    cache, attrs = windows.cache, []
    p = windows.lengths / windows.lengths.sum()
    for k in rng.choice(len(windows.pieces), size=n, p=p):
        piece, length = int(windows.pieces[k]), int(windows.lengths[k])
        lo = int(rng.integers(max(length - windows.length, 0) + 1))
        bars = cache.piece_bars(piece)
        stats = cache.piece_bar_stats(piece)[bars_between(bars, lo, lo + windows.length)]
        attrs.append(window_attributes(stats))
    return ControlBins.from_attributes(attrs)


def run_tokenizer(run: Run, cfg: TransformerConfig) -> MusicTokenizer:
    """The tokenizer that ``run`` was trained with (its ``tokenizer.json``), for training that continues it or
    starts from it: a model reads the ids it learned. A ConfigError naming both tokenizers where ``cfg``'s
    tokenizer settings would tokenize the data otherwise. ``cfg.chord_window`` may differ from the run's: it moves
    played notes on the grid before encoding and leaves the ids' meaning alone, so the tokenizer returned snaps as
    ``cfg`` says (its ``tokenizer.json`` in the new run records that)."""
    tok = load_tokenizer(run.path / TOKENIZER_FILE)
    set_chord_window(tok, cfg.chord_window)
    base = spec_of(cfg).build()
    ours, theirs = json.loads(save_tokenizer(base)), json.loads(save_tokenizer(tok))
    keys = sorted(set(ours["config"]) | set(theirs["config"]))
    differs = [k for k in keys if ours["config"].get(k) != theirs["config"].get(k)]
    if ours["tokenization"] != theirs["tokenization"]:
        differs.insert(0, "tokenization")
    trained = bool(getattr(tok, "is_trained", False))
    if not differs and (trained != bool(cfg.bpe_vocab) or len(tok) > tokenizer_size(cfg) or len(tok) < len(base)):
        differs.append("bpe_vocab")
    if differs:
        raise ConfigError(
            f"{run.path / TOKENIZER_FILE}: the run's tokenizer differs from the one the data would be tokenized with "
            f"here (in {', '.join(differs[:4])}): the run's is {describe_tokenizer(tok)}, these settings give "
            f"{describe_tokenizer(base)}; a model reads only the ids it learned, so training from a run keeps its "
            "tokenizer: leave the tokenizer settings (tokenization, steps_per_quarter, velocity_bins, use_tempos, "
            "use_programs, bpe_vocab) out of --set"
        )
    return tok


class TransformerFamily(TransformerSpec, Family):
    def build_model(self, cfg: TransformerConfig) -> MusicTransformer:
        want = model_vocab_size(cfg, tokenizer_size(cfg))
        # filled in here, so that config.json records it; and grown where a run without chord tokens is continued
        # with them (--init RUN --set chords=true: the chord tokens come after every id the run knows)
        if not cfg.vocab_size or (cfg.has_chords and cfg.vocab_size == want - ChordVocab(0).size):
            cfg.vocab_size = want
        return MusicTransformer(cfg)

    def load_start(self, model: MusicTransformer, path: Path) -> None:
        """The run's weights; where this model has more token ids than the run (chord tokens added after them), the
        run's embedding rows for the ids it knows, and the new rows as a new model's (the output is tied to it)."""
        try:
            tensors = load_file(str(path))
        except Exception:  # a missing or corrupt file: load_weights says which
            load_weights(model, path)
            return
        theirs, ours = tensors.get("embed.weight"), model.embed.weight
        if theirs is not None and theirs.shape[0] < ours.shape[0] and theirs.shape[1:] == ours.shape[1:]:
            grown = ours.detach().clone()
            grown[: theirs.shape[0]] = theirs.to(grown.dtype)
            tensors["embed.weight"] = grown
            tensors.pop("head.weight", None)  # tied: the embedding's
        load_tensors(model, tensors, path)  # the file read once: as it is, or with the embedding grown

    def build_task(
        self,
        model: MusicTransformer,
        cfg: TransformerConfig,
        train_cfg: TrainConfig,
        ds: Dataset,
        device: torch.device,
        start: Run | None = None,
    ) -> TaskBundle:
        if start is not None and (start.path / TOKENIZER_FILE).is_file():
            tok = run_tokenizer(start, cfg)  # the run's own tokenizer (its BPE merges too), not one of this data
        else:
            tok = spec_of(cfg).build()
            if cfg.bpe_vocab:
                learn_bpe(ds, tok, cfg.bpe_vocab)
        cache = TokenCache.build(ds, tok, progress=False)
        s, cv = vocab_of(cfg, tokenizer_size(cfg))
        chords = chord_vocab_of(cfg, tokenizer_size(cfg))
        if model_vocab_size(cfg, tokenizer_size(cfg)) != cfg.vocab_size:
            raise ConfigError(
                f"transformer: the model's vocabulary ({cfg.vocab_size}) does not match its tokenizer's "
                f"({model_vocab_size(cfg, tokenizer_size(cfg))}); start a new run"
            )
        length = cfg.context + 1
        train = TokenWindows(cache, ds.indices("train"), length)
        val = TokenWindows(cache, ds.indices("validation"), length)
        if train.tokens < length or not val.tokens:
            raise DatasetError(
                f"{ds.root}: {train.tokens} training and {val.tokens} validation tokens; the transformer needs at "
                f"least one window of {length} training tokens and some validation pieces"
            )
        rng = np.random.default_rng(train_cfg.seed)
        primers = []
        for k in rng.permutation(len(train.pieces)):
            piece = int(train.pieces[k])
            bars = cache.piece_bars(piece)
            ids = cache.piece(piece)
            fits = bars[bars + PRIMER_TOKENS <= ids.size]
            if fits.size:
                b = int(fits[rng.integers(fits.size)])
                primers.append(ids[b : b + PRIMER_TOKENS])
            if len(primers) == N_PRIMERS:
                break
        arrays = {"primers": np.stack(primers).astype(np.int64)} if primers else {}
        arrays.update(timing_model(ds, train.pieces, tok))  # played music: played as the data's (perform.py)
        arrays["programs"] = program_table([ds[int(i)] for i in train.pieces[evenly_spread(len(train.pieces), 200)]])
        controls = None
        if cv is not None:
            bins = control_bins(train, np.random.default_rng(train_cfg.seed))
            arrays["control_bins"] = bins.to_array()
            controls = ControlSetup(cv, bins, cfg.control_dropout, cfg.control_none)
        task = TransformerTask(
            model,
            train,
            val,
            s,
            note_counts(tok),
            train_cfg,
            device,
            fim_rate=cfg.fim_rate,
            fim_max_bars=cfg.fim_max_bars,
            grad_accum=cfg.grad_accum,
            tokenizer_json=save_tokenizer(tok),
            compile=cfg.compile,
            controls=controls,
            fim_order=cfg.fim_order,
            chords=ChordSetup(chords, cfg.chord_dropout, cfg.chord_none) if chords else None,
        )
        info = {
            "controls": {kind: controls.bins.describe(kind) for kind in ("density", "polyphony", "range")}
            if controls
            else "none",
            "tokens": {"train": train.tokens, "validation": val.tokens},
            "tokenizer_vocab": len(tok),
            "parameters": model.num_parameters(),
        }
        return TaskBundle(task, info, arrays, files={TOKENIZER_FILE: save_tokenizer(tok)})

    def generate(
        self, model: MusicTransformer, run: Run, opts: TransformerOptions, device: torch.device
    ) -> list[Notes]:
        """The pieces of :meth:`pieces`, each with its own seed in its metadata (``--seed SEED -n 1`` writes it
        alone)."""
        made = self.pieces(model, run, opts, device)
        return [p.with_metadata(seed=str(opts.seed + i)) for i, p in enumerate(made)]

    def pieces(
        self, model: MusicTransformer, run: Run, opts: TransformerOptions, device: torch.device
    ) -> list[Notes]:
        """``opts.n`` continuations of the primer (or of bar-aligned training excerpts kept in the run) by
        ``opts.length`` notes, or, with ``infill_bars``, the primer with those bars generated anew."""
        cfg = model.cfg
        tok = load_tokenizer(run.path / TOKENIZER_FILE)
        grammar = Grammar(tok, cfg.vocab_size, device)
        sampling = {
            "temperature": opts.temperature,
            "top_k": opts.top_k,
            "top_p": opts.top_p,
            # one generator per piece, seeded seed, seed + 1, ...: piece i of a batch is what --seed (seed + i) -n 1
            # writes (up to the rounding of a batched matrix product)
            "generator": [seeded_generator(opts.seed + i, device) for i in range(opts.n)],
            "bf16": native_bf16(device),  # bf16 weights where the hardware computes them natively
            "compile": opts.compile,
        }
        sampling["humanize"] = PerPiece(*timing_of(run), opts.seed, opts.n)
        asked = opts.controls()
        _, cv = vocab_of(cfg, cfg.bpe_vocab or len(tok))
        if asked and cv is None:
            raise ConfigError(
                f"{run.path}: this run was trained without attribute controls (--key, --tempo, --density, ...); "
                "train a new one (the transformer presets have them) or leave them out"
            )
        prefix = control_tokens(asked, cv) if cv is not None else []
        sampling["prefix"] = prefix
        guidance = DEFAULT_GUIDANCE if opts.guidance is None else opts.guidance
        if guidance <= 0:
            raise ConfigError(f"--guidance {guidance}: a positive weight (1: none; 3-5: closer to the controls)")
        if (asked or opts.chords is not None) and guidance != 1.0 and cv is not None:
            sampling.update(guidance=guidance, free_head=[cv.start])
        sampling.update(self._bars_and_chords(run, cfg, tok, opts))
        if opts.bars is not None and (opts.keep_tracks is not None or opts.infill_bars is not None):
            raise ConfigError("--bars: the kept tracks or the bars to fill say how long the piece is; leave it out")
        if opts.chords is not None and opts.infill_bars is not None:
            raise ConfigError("--chords goes with starting, continuing or keeping tracks; not with --infill-bars (yet)")
        if opts.chords is not None and opts.keep_tracks is not None and not prefix:
            raise ConfigError(f"{run.path}: --chords with --keep-tracks needs a run with attribute controls")
        keep = None
        if opts.keep_tracks is not None:
            if opts.primer is None:
                raise ConfigError("--keep-tracks needs --primer FILE: the piece whose tracks are kept")
            piece = read(opts.primer)
            keep = Keep(tuple(parse_tracks(opts.keep_tracks, piece)), opts.keep_as, opts.avoid_parallels)
            if opts.infill_bars is None:
                return keep_tracks_piece(model, tok, grammar, piece, keep, opts.n, **sampling)
        if opts.infill_bars is not None:
            if opts.primer is None:
                raise ConfigError("--infill-bars needs --primer FILE: the piece whose bars are filled in")
            piece = read(opts.primer)
            sampling["keep"] = keep
            return infill_piece(
                model,
                tok,
                grammar,
                sentinels_of(cfg, cfg.bpe_vocab or len(tok)),
                piece,
                opts.infill_bars,
                opts.n,
                **sampling,
            )
        if opts.primer is not None:
            return continue_piece(model, tok, grammar, read(opts.primer), opts.n, opts.length, **sampling)
        if opts.chords is not None and not prefix:
            raise ConfigError(f"{run.path}: --chords needs a run with attribute controls to start from nothing; give "
                              "--primer FILE to continue")  # fmt: skip
        if asked or opts.chords is not None:  # from the controls alone: a training excerpt would choose the key and
            # the rest itself, and its first bar its chords
            made = from_controls(model, tok, grammar, [prefix] * opts.n, opts.length, **sampling)
            if opts.tempo is not None:  # the tempo asked, where the model wrote no change of its own (a chorale's)
                qpm = float(opts.tempo)
                made = [p if len(p.tempos) > 1 else at_tempo(p, qpm) for p in made]
            return made
        pool = run.array("primers")
        pick = [int(np.random.default_rng(opts.seed + i).integers(len(pool))) for i in range(opts.n)]
        tails = pool[pick]
        primers = [from_tokens(t, tok) for t in tails]
        return continue_rows(model, tok, grammar, tails, primers, [0.0] * opts.n, opts.length, **sampling)


    @staticmethod
    def _bars_and_chords(run: Run, cfg: TransformerConfig, tok: MusicTokenizer, opts: TransformerOptions) -> dict:
        """The sampling settings of ``--bars`` (new bars instead of notes) and ``--chords`` (each new bar's chord
        tokens, the progression repeated), checked."""
        out: dict[str, object] = {}
        if opts.bars is None and opts.chords is None:
            return out
        if cfg.tokenization != "REMI":
            raise ConfigError(f"{run.path}: --bars and --chords count REMI's bar tokens; this run uses "
                              f"{cfg.tokenization}")  # fmt: skip
        if opts.bars is not None:
            if opts.bars < 1:
                raise ConfigError(f"--bars {opts.bars}: at least one bar")
            out["bars"] = opts.bars
        if opts.chords is not None:
            vocab = chord_vocab_of(cfg, cfg.bpe_vocab or len(tok))
            if vocab is None:
                raise ConfigError(f"{run.path}: this run was trained without chord controls (--chords); train a new "
                                  "one (the transformer presets have them) or leave --chords out")  # fmt: skip
            progression = parse_progression(opts.chords)
            rows = progression_rows(progression, len(progression))
            out["chords"] = [vocab.bar_tokens(row) for row in rows]
            out["chord_none"] = vocab.none
            # the run's own default where it has one (a shipped model's, chosen on its validation split: a melody
            # needs its passing notes, where chorale voices keep to the chord), else the house's
            own = (run.config.get("generation") or {}).get("chord_strictness", DEFAULT_CHORD_STRICTNESS)
            strict = float(own) if opts.chord_strictness is None else float(opts.chord_strictness)
            if not strict >= 0:
                raise ConfigError(f"--chord-strictness {opts.chord_strictness}: a number of nats, 0 or more")
            if strict and cfg.bpe_vocab:
                raise ConfigError(f"{run.path}: --chord-strictness reads pitch tokens, which this run's BPE merges; "
                                  "give --chord-strictness 0")  # fmt: skip
            out["chord_tones"], out["chord_strictness"] = tone_masks(rows), strict
        return out

    def generate_controlled(
        self,
        model: MusicTransformer,
        run: Run,
        requests: list[dict[str, object]],
        opts: GenerateOptions,
        device,
        guidance: float | None = None,
    ) -> list[Notes]:
        """One piece of ``opts.length`` notes per request (control values, as :func:`parse_controls` gives them; an
        empty request: unconditioned), from the controls alone (``evaluate --controls``)."""
        cfg = model.cfg
        tok = load_tokenizer(run.path / TOKENIZER_FILE)
        _, cv = vocab_of(cfg, cfg.bpe_vocab or len(tok))
        if cv is None:
            raise ConfigError(f"{run.path}: this run was trained without attribute controls")
        offsets, shapes = timing_of(run)
        rng = np.random.default_rng(opts.seed)
        return from_controls(
            model,
            tok,
            Grammar(tok, cfg.vocab_size, device),
            [control_tokens(r, cv) for r in requests],
            opts.length,
            temperature=opts.temperature,
            top_k=opts.top_k,
            top_p=opts.top_p,
            generator=seeded_generator(opts.seed, device),
            bf16=native_bf16(device),
            humanize=lambda notes: performed(notes, offsets, rng, shapes),
            guidance=DEFAULT_GUIDANCE if guidance is None else guidance,
            free_head=[cv.start],
        )

    @torch.no_grad()
    def likelihood(
        self, model: MusicTransformer, run: Run, ds: Dataset, split: str, device: torch.device, max_windows: int
    ) -> dict[str, float]:
        """Loss per token and bits per note of ``split`` in continuation windows of the context (at most
        ``max_windows``, evenly spread), tokenized with the run's own tokenizer (its token cache is built once)."""
        tok = load_tokenizer(run.path / TOKENIZER_FILE)
        cache = TokenCache.build(ds, tok, progress=False)
        windows = TokenWindows(cache, ds.indices(split), model.cfg.context + 1)
        spots = windows.fixed(min(max_windows, MAX_LIKELIHOOD_WINDOWS))
        notes_per_id = torch.as_tensor(note_counts(tok), device=device)
        s, cv = vocab_of(model.cfg, model.cfg.bpe_vocab or len(tok))
        first_control = cv.start if cv else None
        prefix = [cv.start] if cv else []  # unconditioned, as validation reads it
        nats = tokens = notes = 0.0
        with eval_mode(model):
            for k in range(0, len(spots), 8):
                rows = [with_prefix(windows.window(p, o), prefix, windows.length) for p, o in spots[k : k + 8]]
                batch = stack(rows, windows.length, s.pad, device)
                part = nll_sums(model, batch, s.pad, notes_per_id, first_control)
                nats, tokens, notes = nats + part[0], tokens + part[1], notes + part[2]
        if not tokens:
            return {}
        return {"bits_per_note": nats / max(notes, 1) / math.log(2), "nats_per_token": nats / tokens, "notes": notes}


def program_table(pieces: list[Notes]) -> np.ndarray:
    """``(129, 2)``: per General MIDI program (128: drums), its notes in ``pieces`` and their mean pitch (what
    ``harmonize`` reads to choose the program a melody is given to the model as)."""
    out = np.zeros((129, 2))
    for p in pieces:
        prog = np.where(p.notes["is_drum"], 128, p.notes["program"]).astype(np.int64)
        np.add.at(out[:, 0], prog, 1)
        np.add.at(out[:, 1], prog, p.notes["pitch"].astype(np.float64))
    out[:, 1] = np.where(out[:, 0] > 0, out[:, 1] / np.maximum(out[:, 0], 1), 0.0)
    return out


def timing_model(ds: Dataset, pieces: np.ndarray, tok: MusicTokenizer) -> dict[str, np.ndarray]:
    """How a run with the tokenizer ``tok`` plays its notes off the grid, as the run's arrays: ``onset_offsets``
    (:func:`perform.grid_offsets`, chords as ``tok`` puts them on the grid) and, where ``tok`` snaps chords,
    ``chord_shapes`` (:func:`perform.chord_shapes`), fitted on 200 of the dataset's ``pieces`` (indices, evenly
    spread); none for music on the grid.

    Only snapped chords are spread whole: a snapped chord is a chord, but without snapping the notes on one grid
    step are whatever rounds together (a chord's part, two quick notes), and a whole real "chord" of that size
    spreads the model's own grid chords too wide. Measured on the 20-minute ``small`` runs (docs/transformer.md):
    snapped, the polyphony error falls from 0.004-0.018 to 0.000 at every evaluation seed; not snapped, it rises
    from 0.000-0.001 to 0.002-0.010."""
    played = [ds[int(i)] for i in pieces[evenly_spread(len(pieces), 200)]]
    steps, width = grid_steps(tok), chord_width_qn(tok)
    offsets = grid_offsets([p.start_qn for p in played], steps, width)
    if offsets is None:
        return {}
    shapes = chord_shapes([(p.start_qn, p.notes["pitch"]) for p in played], steps, width) if width > 0 else None
    return {"onset_offsets": offsets} | ({"chord_shapes": shapes} if shapes is not None else {})


def timing_of(run: Run) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A run's timing model (:func:`timing_model`): its onsets' offsets and chord shapes, each None where the run
    has none (music on the grid; runs from before the model had it)."""
    out = []
    for name in ("onset_offsets", "chord_shapes"):
        try:
            out.append(run.array(name))
        except CheckpointError:
            out.append(None)
    return out[0], out[1]


class PerPiece:
    """Generated notes played off the grid as the training data's are (``perform.performed``), piece ``i`` of a
    batch with its own generator (seeded ``seed + i``), so that it does not depend on the pieces beside it."""

    def __init__(self, offsets: np.ndarray | None, shapes: np.ndarray | None, seed: int, n: int) -> None:
        self.offsets, self.shapes = offsets, shapes
        self.rngs = [np.random.default_rng(seed + i) for i in range(max(n, 1))]
        self.calls = 0

    def __call__(self, notes: Notes) -> Notes:
        rng = self.rngs[self.calls % len(self.rngs)]
        self.calls += 1
        return performed(notes, self.offsets, rng, self.shapes)


def at_tempo(piece: Notes, qpm: float) -> Notes:
    """``piece`` at one tempo, ``qpm`` quarter notes per minute (its notes' seconds recomputed)."""
    return Notes(piece.notes, make_tempo_map([0.0], [qpm]), piece.time_signatures, piece.source,
                 dict(piece.metadata)).with_qn_times(piece.notes.copy())  # fmt: skip


def from_controls(model, tok, grammar: Grammar, prefixes: list[list[int]], length: int, **sampling) -> list[Notes]:
    """A piece of ``length`` new notes after each control prefix, batched by prefix length (rows of one batch must
    be as long), in the order of ``prefixes``."""
    out: list[Notes | None] = [None] * len(prefixes)
    generator = sampling.pop("generator", None)
    sampling.pop("prefix", None)  # each row's own, from prefixes
    for size in sorted({len(p) for p in prefixes}):
        rows = [i for i, p in enumerate(prefixes) if len(p) == size]
        if isinstance(generator, list):
            sampling["generator"] = [generator[i] for i in rows]
        else:
            sampling["generator"] = generator
        heads = np.array([prefixes[i] for i in rows], dtype=np.int64)
        empty = np.zeros((len(rows), 0), dtype=np.int64)
        made = continue_rows(
            model, tok, grammar, empty, [Notes.empty()] * len(rows), [0.0] * len(rows), length, prefix=heads, **sampling
        )
        for i, piece in zip(rows, made, strict=True):
            out[i] = piece
    return [p for p in out if p is not None]


FAMILIES = [TransformerFamily()]
