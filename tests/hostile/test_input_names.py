"""File names as the OS gives them: bytes that are not UTF-8, newlines, equal stems in different folders.

Names stay usable (the file is read), output names are unique per input path and the same in every run, and a
name printed on one line of output can neither break its encoding nor forge another line."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from facealign.io.images import load_image
from facealign.io.inputs import expand_inputs, output_name, output_names, printable

LATIN1 = b"caf\xe9"  # "café" in Latin-1: not valid UTF-8


def _jpeg(path_bytes: bytes) -> None:
    Image.fromarray(np.full((16, 16, 3), 99, np.uint8)).save(os.fsdecode(path_bytes), "JPEG")


def test_non_utf8_names_are_found_and_read(tmp_path):
    root = os.fsencode(tmp_path)
    os.mkdir(root + b"/" + LATIN1)
    _jpeg(root + b"/" + LATIN1 + b"/" + LATIN1 + b".jpg")
    _jpeg(root + b"/" + LATIN1 + b".jpg")
    items = expand_inputs([str(tmp_path)])
    assert len(items) == 2
    for i in items:
        assert os.fsencode(i.path).count(LATIN1) >= 1  # the original bytes come back
        assert load_image(i.path).pixels.shape == (16, 16, 3)
    names = output_names([i.path for i in items])
    assert len(set(names.values())) == 2
    for n in names.values():
        n.encode("ascii")  # a safe file name: no lone surrogates, no separators
        assert n.startswith("caf_") and "/" not in n


def test_printable_escapes_bytes_and_control_characters():
    bad = os.fsdecode(b"x/" + LATIN1 + b".jpg")
    assert printable(bad) == "x/caf\\xe9.jpg"
    printable(bad).encode("ascii")
    forged = "a.jpg: ok\nfacealign: error: b.jpg"
    assert printable(forged) == "a.jpg: ok\\nfacealign: error: b.jpg" and "\n" not in printable(forged)
    assert printable("tab\there\r\x1b[31mred") == "tab\\there\\r\\x1b[31mred"
    assert printable("back\\slash é 漢字 spaces ok.jpg") == "back\\\\slash é 漢字 spaces ok.jpg"


def test_names_are_unique_per_path_not_per_stem(tmp_path):
    a, b = str(tmp_path / "a" / "x.jpg"), str(tmp_path / "b" / "x.jpg")
    names = output_names([a, b])
    assert names[a] != names[b] and names[a].startswith("x_") and names[b].startswith("x_")


def test_names_are_the_same_in_every_run(tmp_path, monkeypatch):
    a, b = str(tmp_path / "a" / "x.jpg"), str(tmp_path / "b" / "x.jpg")
    # a --resume with another input list: b/x.jpg alone must not take the name a/x.jpg had
    first = output_names([a])
    second = output_names([b, str(tmp_path / "c.jpg")])
    assert first[a] != second[b]
    assert output_names([a, b])[a] == first[a] == output_name(a)
    # the same file spelled relative to another working folder gets the same name
    monkeypatch.chdir(tmp_path / "..")
    rel = os.path.relpath(a)
    assert output_name(rel) == first[a]
    assert output_name(os.path.join(os.path.dirname(rel), ".", "x.jpg")) == first[a]


def test_names_stay_short_and_readable(tmp_path):
    long = str(tmp_path / (("ä" * 300) + ".jpg"))
    n = output_name(long)
    assert len(n.encode()) < 255 and n.startswith("ä" * 10)
    assert output_name(str(tmp_path / "my photo (1).jpg")).startswith("my_photo__1__")
    assert output_name(str(tmp_path / "..hidden.jpg")).startswith("hidden_")


def test_a_rare_name_clash_gets_longer_names(tmp_path, monkeypatch):
    import facealign.io.inputs as inputs

    a, b = str(tmp_path / "a" / "x.jpg"), str(tmp_path / "b" / "x.jpg")
    real = inputs._path_hash
    monkeypatch.setattr(inputs, "_path_hash", lambda p, n: "0" * 8 if n == 8 else real(p, n))  # force a clash
    names = output_names([a, b, os.path.join(tmp_path, "a", ".", "x.jpg")])
    assert names[a] != names[b] and len(names[a]) == len("x_") + 24
    one = output_names([a, os.path.join(tmp_path, "a", ".", "x.jpg")])  # one file, two spellings: no clash
    assert set(one.values()) == {"x_00000000"}
