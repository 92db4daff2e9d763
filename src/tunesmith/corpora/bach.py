"""The built-in default corpus: J. S. Bach's chorales, as shipped inside music21's corpus.

About 410 four-part chorales (cantata and passion movements, and the chorales BWV 250-438), most as compressed
MusicXML. They come with the music21 package: nothing is downloaded and no network is used.

What music21's ``corpus.getComposer('bach')`` gives and this module filters out:

* Roman-numeral analyses (``.rntxt``, in ``choraleAnalyses``): no notes, and not a format :func:`read_score`
  reads.
* The same chorale in two formats (``bwv277.krn`` beside ``bwv277.mxl``): the MusicXML one is kept.
* Works that are not chorales (``bwv846.mxl``, the C major prelude of the Well-Tempered Clavier): a chorale is
  a file named ``bwv<N>...`` with N at most 438.
"""

from __future__ import annotations

import re
from pathlib import Path

#: Readable formats, in order of preference when one chorale comes in several.
_FORMATS = (".mxl", ".musicxml", ".xml", ".krn")
_LAST_CHORALE_BWV = 438  # BWV 250-438 are the four-part chorales; every higher number is something else
_BWV = re.compile(r"bwv(\d+)", re.IGNORECASE)


def bach_chorale_paths() -> list[Path]:
    """Paths of the Bach chorales in music21's corpus, sorted by file name, one file per chorale.

    Only score files :func:`tunesmith.io.score.read_score` reads are listed (``.mxl``, ``.musicxml``, ``.xml``,
    ``.krn``; not the ``.rntxt`` analyses); a chorale present in two formats is listed once, preferring
    ``.mxl``. Returns an empty list when music21's corpus has no Bach files.
    """
    from music21 import corpus

    best: dict[str, Path] = {}
    for entry in corpus.getComposer("bach"):
        p = Path(entry)
        ext = p.suffix.lower()
        if ext not in _FORMATS:
            continue
        m = _BWV.match(p.stem)
        if m is None or int(m.group(1)) > _LAST_CHORALE_BWV:
            continue
        key = p.stem.lower()
        if key not in best or _FORMATS.index(ext) < _FORMATS.index(best[key].suffix.lower()):
            best[key] = p
    return sorted(best.values(), key=lambda q: (q.name.lower(), q.name))
