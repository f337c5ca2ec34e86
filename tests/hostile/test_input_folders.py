"""Folder expansion: every photo extension, links to folders followed (loops once), the job's output folder
never taken as input, odd entries reported instead of skipped silently."""
from __future__ import annotations

import os

from facealign.io.images import IMAGE_EXTENSIONS, ImageError, load_image
from facealign.io.inputs import expand_inputs


def _touch(p, data=b"x"):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def _paths(items):
    return [os.path.relpath(i.path) if not os.path.isabs(i.path) else i.path for i in items]


def test_folder_takes_every_photo_extension(tmp_path):
    names = ["a.avif", "b.jfif", "c.jpe", "d.heic", "e.JPG", "f.heif", "g.jp2", "h.tiff"]
    for n in names:
        _touch(tmp_path / n)
    _touch(tmp_path / "notes.txt")
    got = sorted(os.path.basename(i.path) for i in expand_inputs([str(tmp_path)]))
    assert got == sorted(names)
    assert {".avif", ".jfif", ".jpe", ".heic"} <= IMAGE_EXTENSIONS


def test_a_folder_avif_loads_like_a_single_one(tmp_path):
    import numpy as np
    import pytest
    from PIL import Image, features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF codec")
    Image.fromarray(np.full((32, 48, 3), 120, np.uint8)).save(tmp_path / "p.avif")
    (item,) = expand_inputs([str(tmp_path)])
    assert load_image(item.path).pixels.shape == (32, 48, 3)


def test_symlinked_sub_folder_is_followed(tmp_path):
    real = tmp_path / "elsewhere"
    _touch(real / "in_link.jpg")
    root = tmp_path / "photos"
    _touch(root / "top.jpg")
    (root / "linked").symlink_to(real, target_is_directory=True)
    got = sorted(os.path.relpath(i.path, root) for i in expand_inputs([str(root)]))
    assert got == ["linked/in_link.jpg", "top.jpg"]


def test_symlink_loop_is_searched_once(tmp_path):
    root = tmp_path / "photos"
    _touch(root / "sub" / "x.jpg")
    (root / "sub" / "back").symlink_to(root, target_is_directory=True)  # sub/back -> photos: a loop
    (root / "again").symlink_to(root / "sub", target_is_directory=True)  # a second way into sub
    items = expand_inputs([str(root)])
    assert len(items) == 1 and items[0].path.endswith("x.jpg") and items[0].error is None


def test_output_folder_is_never_an_input(tmp_path):
    root = tmp_path / "photos"
    _touch(root / "a.jpg")
    out = root / "out"  # `align photos --out photos/out`, run twice: its crops and overlays are not inputs
    _touch(out / "crops" / "a_0.png")
    _touch(out / "overlays" / "a.jpg")
    assert [os.path.basename(i.path) for i in expand_inputs([str(root)], exclude=[out])] == ["a.jpg"]
    # the same through a glob, and through another spelling of the output folder (a link to it)
    (tmp_path / "alias").symlink_to(out, target_is_directory=True)
    got = expand_inputs([str(root / "**" / "*.*")], exclude=[str(tmp_path / "alias")])
    assert [os.path.basename(i.path) for i in got] == ["a.jpg"]
    # a file named explicitly is taken even there
    assert len(expand_inputs([str(out / "overlays" / "a.jpg")], exclude=[out])) == 1


def test_output_folder_given_as_the_input_folder(tmp_path):
    out = tmp_path / "out"
    _touch(out / "crops" / "a_0.png")
    (item,) = expand_inputs([str(out)], exclude=[out])
    assert item.error == "folder contains no images"


def test_odd_entries_are_reported_not_skipped(tmp_path):
    root = tmp_path / "photos"
    _touch(root / "ok.jpg")
    (root / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    os.mkfifo(root / "pipe.jpg")
    items = {os.path.basename(i.path): i for i in expand_inputs([str(root)])}
    assert set(items) == {"ok.jpg", "gone.jpg", "pipe.jpg"}
    errors = {}
    for n in ("gone.jpg", "pipe.jpg"):
        try:
            load_image(items[n].path)
        except ImageError as e:
            errors[n] = str(e)
    assert errors == {"gone.jpg": "file not found (broken symbolic link)",
                      "pipe.jpg": "not a regular file (a named pipe (FIFO)); images are read from regular files only"}


def test_unreadable_sub_folder_is_reported(tmp_path, monkeypatch):
    root = tmp_path / "photos"
    _touch(root / "ok.jpg")
    (root / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):  # root reads every folder; a permission error is simulated
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    items = {os.path.basename(i.path): i.error for i in expand_inputs([str(root)])}
    assert items == {"ok.jpg": None, "locked": "cannot read folder: Permission denied"}


def test_glob_keeps_odd_matches_for_the_loader(tmp_path):
    _touch(tmp_path / "a.jpg")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "missing.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "dir.jpg").mkdir()
    got = sorted(os.path.basename(i.path) for i in expand_inputs([str(tmp_path / "*.jpg")]))
    assert got == ["a.jpg", "gone.jpg", "pipe.jpg"]


def test_output_file_is_never_an_input(tmp_path):
    # `merge photos --out photos/merged.png`, twice: the first run's result is not an input of the second
    _touch(tmp_path / "a.jpg")
    _touch(tmp_path / "merged.png")
    for arg in (str(tmp_path), str(tmp_path / "*.*")):
        got = [os.path.basename(i.path) for i in expand_inputs([arg], exclude=[tmp_path / "merged.png"])]
        assert got == ["a.jpg"]
