"""The Transformer's data: the token ids of a dataset, computed once and kept beside it (:class:`TokenCache`), and
BPE merges learned on its training pieces (:func:`learn_bpe`).

The cache is the dataset's derived arrays (:class:`~tunesmith.dataset.PieceArrays`: disk, workers, reading) of
:func:`~tunesmith.representations.tokens.tokenize_piece`, in ``DATASET/tokens/<tokenizer key>/``, keyed by the
tokenizer's configuration: one memory-mapped file instead of re-tokenizing every epoch."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import miditok
import numpy as np

from ...dataset import Dataset, PieceArrays
from ...errors import ConfigError, DatasetError
from ...representations.bars import BAR_DTYPE
from ...representations.chords import BAR_CHORD_DTYPE
from ...representations.tokens import save_tokenizer, tokenize_piece, tokenizer_key
from ...scores import notes_to_score

#: 5: metres the tokenizer lacks as one of the same bar length (2/2 as 4/4); 4: each bar's chords; 3: the dataset's
#: derived arrays (each field with its own offsets); 2: bar_stats.npy
CACHE_VERSION = 5


class TokenCache:
    """Token ids of every piece of a dataset, memory-mapped, with each piece's bar starts, bar sums and chords."""

    def __init__(self, arrays: PieceArrays) -> None:
        self.arrays, self.root = arrays, arrays.root
        self.ids, self.offsets = arrays.data("ids"), arrays.offsets("ids")
        self.bars, self.bar_offsets = arrays.data("bars"), arrays.offsets("bars")
        self.bar_stats = arrays.data("bar_stats")
        self.chords = arrays.data("chords")
        self.meta = {**arrays.meta, "tokens": int(self.offsets[-1])}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def piece(self, i: int) -> np.ndarray:
        return self.arrays.piece("ids", i)

    def piece_bars(self, i: int) -> np.ndarray:
        return self.arrays.piece("bars", i)

    def piece_chords(self, i: int) -> np.ndarray:
        """Each bar's chords (``representations/chords.py``: ``BAR_CHORD_DTYPE``), as many as its bars."""
        return self.arrays.piece("chords", i)

    def piece_bar_stats(self, i: int) -> np.ndarray:
        """Each bar's sums for the attribute controls (``representations/bars.py``), as many as its bars."""
        return self.arrays.piece("bar_stats", i)

    @classmethod
    def folder(cls, ds: Dataset, tok: miditok.MusicTokenizer) -> Path:
        return ds.root / "tokens" / tokenizer_key(tok)

    @classmethod
    def build(
        cls,
        ds: Dataset,
        tok: miditok.MusicTokenizer,
        *,
        progress: bool = True,
        force: bool = False,
        workers: int | None = None,
    ) -> TokenCache:
        """The dataset's token cache for ``tok``: loaded when it is there and complete, else computed (every piece,
        in order, by ``workers`` processes: the cores, at most 8) and written atomically."""
        dtypes = {
            "ids": np.uint16 if len(tok) < 2**16 else np.int32,
            "bars": np.int64,
            "bar_stats": BAR_DTYPE,
            "chords": BAR_CHORD_DTYPE,
        }
        arrays = PieceArrays.build(
            ds, cls.folder(ds, tok), partial(tokenize_piece, tok=tok), dtypes, version=CACHE_VERSION,
            files={"tokenizer.json": save_tokenizer(tok)}, progress=progress, force=force, workers=workers,
            desc="tokenizing",
        )
        return cls(arrays)


def learn_bpe(ds: Dataset, tok: miditok.MusicTokenizer, vocab_size: int, *, max_pieces: int = 2000) -> None:
    """Learn BPE merges up to ``vocab_size`` on (up to ``max_pieces`` evenly spread) training pieces, in place."""
    idx = ds.indices("train")
    if idx.size == 0:
        raise DatasetError(f"{ds.root}: no training pieces to learn BPE on")
    pick = idx[np.linspace(0, idx.size - 1, min(idx.size, max_pieces)).round().astype(int)]
    if vocab_size <= len(tok):
        raise ConfigError(f"bpe_vocab {vocab_size} must exceed the base vocabulary's {len(tok)} tokens")

    def byte_strings():  # what MidiTok's own training iterator yields for a file: its bars, as byte strings
        for i in pick:
            piece = ds[int(i)]
            if len(piece):
                seq = tok.encode(notes_to_score(piece), encode_ids=False)
                bars = [b for b in (seq[0] if isinstance(seq, list) else seq).split_per_bars() if len(b)]
                out = tok._ids_to_bytes([b.ids for b in bars], as_one_str=True)
                yield [out] if isinstance(out, str) else out

    # MidiTok's trainer reads files (or such an iterator); the pieces are Notes already in memory
    tok.train(vocab_size=vocab_size, model="BPE", iterator=list(byte_strings()))
