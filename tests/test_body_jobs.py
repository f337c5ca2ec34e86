"""`facealign body --jobs N`: the body batch on the photo batch's local engine (worker processes) gives the same
results.jsonl as one process, in input order, with a broken input failing alone; generated photos only."""
from __future__ import annotations

import json

import cv2
import numpy as np

from tests.test_body_runtime import person_photo


def _run(tmp_path, name: str, photos: list[str], boxes, extra: list[str]) -> tuple[int, list[dict]]:
    from facealign.cli.main import main

    out = tmp_path / name
    code = main(["body", *photos, "--out", str(out), "--boxes", str(boxes), "--quiet", "--no-overlays", *extra])
    return code, [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]


def test_body_jobs_match_one_process(tmp_path):
    photos = []
    for i in range(4):
        p = tmp_path / f"p{i}.png"
        img = person_photo()
        cv2.imwrite(str(p), np.roll(img, 7 * i, axis=1))
        photos.append(str(p))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    photos.insert(2, str(bad))
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps({p: [[30, 10, 130, 235]] for p in photos}))
    code1, one = _run(tmp_path, "one", photos, boxes, [])
    code2, two = _run(tmp_path, "two", photos, boxes, ["--jobs", "2", "--threads", "1"])
    assert code1 == code2 == 1
    assert [r["image"] for r in two] == photos == [r["image"] for r in one]
    assert two[2]["error"] and two[2]["bodies"] == [] and "faces" not in two[2]
    for a, b in zip(one, two):
        assert a == b
    assert all(len(r["bodies"]) == 1 for k, r in enumerate(two) if k != 2)


def test_body_options_check_engine_settings():
    import pytest

    from facealign.jobs.body import BodyOptions
    from facealign.jobs.options import OptionsError

    for bad in ({"jobs": 0}, {"engine": "spark"}, {"address": "auto"}, {"passes": 0}):
        with pytest.raises(OptionsError):
            BodyOptions(out="x", **bad).validate()


def test_body_resume_skips_done_inputs(tmp_path):
    """`body --resume` (the photo batch's resume rule): inputs done before are skipped, a failed one and one whose
    crop went missing are redone, results.jsonl keeps one line per input in input order; other output options are
    refused."""
    import pytest

    from facealign.jobs.body import BodyOptions, run_body
    from facealign.jobs.options import OptionsError

    photos = []
    for i in range(2):
        p = tmp_path / f"p{i}.png"
        cv2.imwrite(str(p), np.roll(person_photo(), 7 * i, axis=1))
        photos.append(str(p))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    photos.insert(1, str(bad))
    boxes = {p: [[30, 10, 130, 235]] for p in photos}
    out = tmp_path / "out"

    def run(**kw):
        summary = run_body(photos, BodyOptions(out=str(out), boxes=boxes, **kw), progress=False)
        return summary, [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]

    first, recs = run()
    assert (first.images, first.skipped, first.failed) == (3, 0, 1)
    again, recs2 = run(resume=True)
    assert (again.images, again.skipped, again.failed) == (1, 2, 1)  # only the failed input was tried again
    assert recs2 == recs
    crop = out / recs[0]["bodies"][0]["crops"]["upper_body"]
    crop.unlink()
    third, recs3 = run(resume=True)
    assert (third.images, third.skipped) == (2, 1) and crop.is_file()  # its crop went missing: redone
    assert [r["image"] for r in recs3] == photos and recs3 == recs
    with pytest.raises(OptionsError):
        run(resume=True, size=128)
