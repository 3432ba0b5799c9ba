"""English prose offline, for character-level language modelling.

The default text is the Jargon File 4.4.7 (Eric S. Raymond et al., public domain),
shipped by the Debian package ``jargon-text`` as
``/usr/share/doc/jargon-text/jargon.txt.gz``: 1.68 million characters of English
prose (essays on hacker culture, then some 2300 glossary entries written as running
text), 1.50 million after whitespace is collapsed. Any other UTF-8 text file (plain or
gzip) can be given instead.
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from crackle._validation import check_int, param_error

__all__ = ["JARGON_FILE", "CharVocab", "TextCorpus", "load_text"]

#: Where the Debian package ``jargon-text`` installs the Jargon File.
JARGON_FILE = Path("/usr/share/doc/jargon-text/jargon.txt.gz")
#: The Jargon File's body starts here (what comes before is a table of contents).
_JARGON_START = "Chapter 1. Hacker Slang and Hacker Culture"
#: Index 0 of every vocabulary: the stand-in for characters left out of it.
UNKNOWN = "\x00"


@dataclass(frozen=True)
class CharVocab:
    """A character vocabulary: index 0 is the unknown character, then ``chars``.

    Attributes
    ----------
    chars : tuple of str
        The known characters, most frequent first (ties in code-point order).
    """

    chars: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.chars)})

    def __len__(self) -> int:
        return len(self.chars) + 1

    def encode(self, text: str) -> NDArray[np.int64]:
        """Indices of the characters of ``text`` (0 for characters not in the vocabulary).

        Examples
        --------
        >>> v = CharVocab(("a", "b"))
        >>> v.encode("abc").tolist(), v.decode([2, 1, 0])
        ([1, 2, 0], 'ba\\x00')
        """
        get = self._index.get
        return np.fromiter((get(c, 0) for c in text), dtype=np.int64, count=len(text))

    def decode(self, indices: ArrayLike) -> str:
        """The text of an index sequence (index 0 gives :data:`UNKNOWN`)."""
        table = (UNKNOWN, *self.chars)
        idx = np.asarray(indices, dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= len(table)):
            raise param_error(
                "indices", "CharVocab.decode", f"in [0, {len(table) - 1}]", "an index out of range"
            )
        return "".join(table[i] for i in idx.tolist())

    def to_dict(self) -> dict[str, Any]:
        return {"chars": "".join(self.chars), "size": len(self)}


@dataclass(frozen=True)
class TextCorpus:
    """A text and its character vocabulary.

    Attributes
    ----------
    text : str
        The text after the stated cleaning.
    vocab : CharVocab
        Characters that occur at least ``min_count`` times.
    source : str
        Where it came from.
    n_unknown : int
        Characters of ``text`` outside the vocabulary (encoded as 0).
    """

    text: str = field(repr=False)
    vocab: CharVocab
    source: str
    n_unknown: int = 0

    def encode(self) -> NDArray[np.int64]:
        """The whole text as indices, shape (len(text),)."""
        return self.vocab.encode(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "n_chars": len(self.text),
            "n_unknown": self.n_unknown,
            "vocab": self.vocab.to_dict(),
        }


def _read(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError) as exc:
            raise param_error("path", "load_text", "a readable gzip file", str(path)) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise param_error("path", "load_text", "a UTF-8 text file", str(path)) from exc


def load_text(
    path: str | Path | None = None,
    *,
    start: str | None = None,
    collapse_whitespace: bool = True,
    min_count: int = 1,
    max_chars: int | None = None,
) -> TextCorpus:
    """English prose for character-level language modelling, read offline.

    Parameters
    ----------
    path : str or Path, optional
        A UTF-8 text file, plain or gzip. Default: the Jargon File of the Debian
        package ``jargon-text`` (:data:`JARGON_FILE`), from its first chapter on.
    start : str, optional
        Keep the text from the first occurrence of this string, white space matching
        any white space (default for the
        Jargon File: its first chapter heading, which skips the table of contents;
        none for other files).
    collapse_whitespace : bool
        Replace every run of white space (line breaks, indentation) by one space.
    min_count : int
        Characters seen fewer times than this are left out of the vocabulary and
        encoded as 0 (counted in ``n_unknown``); 1 keeps every character.
    max_chars : int, optional
        Keep only the first ``max_chars`` characters (after cleaning).

    Returns
    -------
    TextCorpus

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("Hello,\\n   hello  world.")
    >>> c = load_text(p)
    >>> c.text, len(c.vocab), c.vocab.decode(c.encode()) == c.text
    ('Hello, hello world.', 12, True)
    """
    func = "load_text"
    min_count = check_int(min_count, "min_count", func, low=1)
    if max_chars is not None:
        max_chars = check_int(max_chars, "max_chars", func, low=1)
    if path is None:
        src = JARGON_FILE
        if not src.is_file():
            raise FileNotFoundError(
                f"the default text {src} is missing: install the Debian package "
                "(apt-get install jargon-text) or pass path=FILE"
            )
        start = _JARGON_START if start is None else start
    else:
        src = Path(path)
        if not src.is_file():
            raise FileNotFoundError(f"no text file at {src}")
    text = _read(src)
    if start is not None:
        # Any run of white space in ``start`` matches any run in the text (the Jargon
        # File's headings use non-breaking spaces).
        found = re.search(r"\s+".join(map(re.escape, start.split())), text)
        if found is None:
            raise param_error("start", func, f"a string found in {src}", start)
        text = text[found.start() :]
    if collapse_whitespace:
        text = re.sub(r"\s+", " ", text).strip()
    if max_chars is not None:
        text = text[:max_chars]
    if not text:
        raise param_error("path", func, "a file with some text", f"no text in {src}")
    counts = Counter(text)
    kept: Sequence[str] = sorted(
        (c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c)
    )
    n_unknown = sum(n for c, n in counts.items() if n < min_count)
    return TextCorpus(text, CharVocab(tuple(kept)), str(src), n_unknown)
