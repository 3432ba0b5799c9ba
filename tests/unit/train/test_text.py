"""crackle.train.text: English prose for character-level language modelling."""

import gzip

import numpy as np
import pytest

from crackle.train import JARGON_FILE, CharVocab, load_text


def test_cleaning_vocabulary_and_round_trip(tmp_path):
    path = tmp_path / "t.txt.gz"
    path.write_bytes(gzip.compress("Preface\n\nChapter\u00a01.  The  cat\n sat. Zq".encode()))
    c = load_text(path, start="Chapter 1.")
    assert c.text == "Chapter 1. The cat sat. Zq"
    assert c.vocab.decode(c.encode()) == c.text
    assert c.vocab.chars[0] == " "  # most frequent first
    rare = load_text(path, start="Chapter 1.", min_count=2)
    assert rare.n_unknown == sum(1 for ch in rare.text if rare.text.count(ch) < 2)
    assert (rare.encode() == 0).sum() == rare.n_unknown
    assert load_text(path, collapse_whitespace=False, max_chars=9).text == "Preface\n\n"


def test_vocab_encode_decode():
    v = CharVocab(("a", "b", "c"))
    assert len(v) == 4
    np.testing.assert_array_equal(v.encode("cab?"), [3, 1, 2, 0])
    with pytest.raises(ValueError, match=r"in \[0, 3\]"):
        v.decode([4])


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no text file"):
        load_text(tmp_path / "none.txt")
    path = tmp_path / "t.txt"
    path.write_text("some words")
    with pytest.raises(ValueError, match="'start' parameter of load_text"):
        load_text(path, start="absent")
    with pytest.raises(ValueError, match="'min_count'"):
        load_text(path, min_count=0)
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="UTF-8"):
        load_text(tmp_path / "bin")
    (tmp_path / "blank").write_text("   \n ")
    with pytest.raises(ValueError, match="no text"):
        load_text(tmp_path / "blank")


@pytest.mark.skipif(
    not JARGON_FILE.is_file(),
    reason="Debian package jargon-text not installed (apt-get install jargon-text)",
)
def test_the_jargon_file():
    c = load_text()
    assert c.text.startswith("Chapter 1. Hacker Slang and Hacker Culture This document")
    assert len(c.text) > 1_400_000
    assert ":Godwin's Law: prov." in c.text
    letters = sum(ch.isalpha() for ch in c.text) / len(c.text)
    assert letters > 0.7  # prose, not tables
