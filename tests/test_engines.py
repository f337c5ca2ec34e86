"""Scale: --jobs N equals --jobs 1, interrupted runs resume exactly, the pool bounds memory, Ray equals local.

Worker processes and Ray actors cannot see monkeypatching, so the stand-in models reach them through
BatchOptions.extra["aligner_factory"] (tests/worker_fakes.py). The real-model test skips when the shipped
facealign/models/*.onnx files are absent.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import pytest

from facealign.cli.main import main
from facealign.jobs import photo
from facealign.jobs.batch import run_batch
from facealign.jobs.batch_options import BatchOptions
from facealign.jobs.engines.local import LocalEngine
from facealign.jobs.engines.ray_engine import ray_available
from facealign.io.inputs import expand_inputs, output_names
from facealign.io.results import read_results

from helpers import SAMPLE, squares_image

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FAKES = {"aligner_factory": "worker_fakes:fake_aligner"}


@pytest.fixture
def folder(tmp_path) -> Path:
    """Ten photos with 0-3 squares (faces for the stand-in detector), two with the same stem, and a broken file."""
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    for i in range(10):
        squares = [(10 + 7 * i, 20, 40 + i), (150, 30 + 5 * i, 50)][: i % 3]
        cv2.imwrite(str(d / f"p{i:02d}.png"), squares_image(squares))
    cv2.imwrite(str(d / "sub" / "p03.png"), squares_image([(60, 60, 70)]))  # same stem as p03.png: hashed names
    (d / "broken.jpg").write_bytes(b"not a jpeg")
    return d


def _run(folder: Path, out: Path, jobs: int, inputs: list[str] | None = None, resume: bool = False, **kw):
    opts = BatchOptions(out=str(out), extra=dict(FAKES), jobs=jobs, resume=resume, **kw)
    return run_batch(inputs or [str(folder)], opts, progress=False)


def _outputs(out: Path) -> tuple[list[dict], dict[str, bytes]]:
    files = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and p.name != "results.jsonl"}
    return read_results(out / "results.jsonl"), files


def test_jobs_2_gives_the_same_order_and_content_as_jobs_1(folder, tmp_path):
    s1 = _run(folder, tmp_path / "j1", jobs=1)
    s2 = _run(folder, tmp_path / "j2", jobs=2)
    assert (s1.images, s1.faces, s1.failed) == (s2.images, s2.faces, s2.failed) == (12, 10, 1)
    r1, f1 = _outputs(tmp_path / "j1")
    r2, f2 = _outputs(tmp_path / "j2")
    assert r1 == r2  # same lines in the same (input) order
    assert f1 == f2 and any(k.startswith("crops/") for k in f1)  # same crops and overlays, byte for byte


def test_interrupted_run_resumes_with_nothing_lost_or_duplicated(folder, tmp_path):
    (folder / "broken.jpg").unlink()  # failed inputs are retried on resume by design (a second line): not tested here
    _run(folder, tmp_path / "ref", jobs=2)
    ref, ref_files = _outputs(tmp_path / "ref")
    paths = [i.path for i in expand_inputs([str(folder)])]

    # 1) killed mid-write: 5 complete lines and half of the 6th survive, crops of later inputs may be missing
    out = tmp_path / "killed"
    _run(folder, out, jobs=2)
    raw = (out / "results.jsonl").read_bytes().splitlines(keepends=True)
    (out / "results.jsonl").write_bytes(b"".join(raw[:5]) + raw[5][: len(raw[5]) // 2])
    for p in (out / "crops").iterdir():
        if p.name.startswith(("p07", "p08", "p09")):
            p.unlink()
    s = _run(folder, out, jobs=2, resume=True)
    assert s.skipped == 5 and s.images == 6
    got, files = _outputs(out)
    assert [r["image"] for r in got] == paths and got == ref
    assert files == ref_files

    # 2) a run over the first half, then --resume over everything: every input once (file names may differ
    #    where stems clash, since the first run saw a different input list)
    out = tmp_path / "half"
    _run(folder, out, jobs=2, inputs=paths[: len(paths) // 2])
    s = _run(folder, out, jobs=2, resume=True)
    got, files = _outputs(out)
    assert s.skipped == len(paths) // 2
    assert sorted(r["image"] for r in got) == sorted(paths) and len(got) == len(set(r["image"] for r in got))
    assert sorted(got, key=lambda r: r["image"]) == sorted(ref, key=lambda r: r["image"])
    assert all(f["crop"] in files for r in got for f in r["faces"])


def test_the_pool_keeps_a_bounded_number_of_inputs_in_flight(tmp_path):
    for i in range(30):
        cv2.imwrite(str(tmp_path / f"x{i:02d}.png"), squares_image([(20, 20, 40)]))

    class Counting(list):
        pulled = 0

        def __iter__(self):
            for x in super().__iter__():
                Counting.pulled += 1
                yield x

    items = Counting(expand_inputs([str(tmp_path)]))
    names = output_names([i.path for i in items])
    opts = BatchOptions(out=str(tmp_path / "out"), extra=dict(FAKES), overlays=False)
    Counting.pulled = 0
    gen = LocalEngine(jobs=2).records(items, opts, names)
    next(gen), next(gen)
    time.sleep(1.0)  # a slow writer: the workers must not run ahead through the whole data set
    assert Counting.pulled <= 2 + 4 * 2 + 1  # consumed + the window + one waiting for a free slot
    assert len(list(gen)) == 28
    assert Counting.pulled == 30


def test_address_needs_the_ray_engine(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:  # a bad argument, as the argument parser reports one
        main(["align", str(tmp_path), "--out", str(tmp_path / "o"), "--address", "auto", "-q"])
    assert e.value.code == 2
    assert "--address needs --engine ray" in capsys.readouterr().err


MODELS = [REPO / "facealign" / "models" / f for f in ("detector_ssdlite.onnx", "landmarks_stfan112.onnx")]


@pytest.mark.skipif(not all(p.is_file() for p in MODELS),
                    reason="the shipped models facealign/models/detector_ssdlite.onnx and landmarks_stfan112.onnx are absent")
def test_jobs_with_the_shipped_models(tmp_path):
    from facealign.evaluation.speed import letterbox, mosaic

    img = cv2.imread(str(SAMPLE))
    d = tmp_path / "in"
    d.mkdir()
    cv2.imwrite(str(d / "one.jpg"), letterbox(img, 640, 480))
    cv2.imwrite(str(d / "many.jpg"), mosaic(img, 640, 480))
    cv2.imwrite(str(d / "small.png"), cv2.resize(img, (200, 200)))
    outs = []
    for jobs in (1, 2):
        out = tmp_path / f"j{jobs}"
        code = main(["align", str(d), "--out", str(out), "--jobs", str(jobs), "-q"])
        assert code == 0
        outs.append(_outputs(out))
    assert outs[0][0] == outs[1][0]
    assert sum(len(r["faces"]) for r in outs[0][0]) >= 3
    assert outs[0][1] == outs[1][1]


@pytest.fixture
def local_ray(monkeypatch):
    if not ray_available():
        pytest.skip("Ray is not installed (optional extra: pip install 'facealign[ray]')")
    import ray

    # Ray workers import the stand-in models from tests/ and facealign from the checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), str(REPO), os.environ.get("PYTHONPATH", "")]))
    ray.shutdown()
    yield ray
    ray.shutdown()


def test_ray_engine_gives_the_same_results_as_the_local_engine(folder, tmp_path, local_ray, monkeypatch):
    _run(folder, tmp_path / "local", jobs=1)
    opts = BatchOptions(out=str(tmp_path / "ray"), extra=dict(FAKES), jobs=2, engine="ray")
    s = run_batch([str(folder)], opts, progress=False)
    assert (s.images, s.failed) == (12, 1)
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")

    # relative paths mean what they mean on the driver
    monkeypatch.chdir(tmp_path)
    s = run_batch(["in"], BatchOptions(out="ray_rel", extra=dict(FAKES), engine="ray"), progress=False)
    rel = read_results(tmp_path / "ray_rel" / "results.jsonl")
    first = next(r for r in rel if r["faces"])
    assert s.images == 12 and first["image"].startswith("in/") and (tmp_path / "ray_rel" / first["faces"][0]["crop"]).is_file()

    # resume on the Ray engine: drop the last 4 lines, finish them
    path = tmp_path / "ray" / "results.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-4]))
    opts = BatchOptions(out=str(tmp_path / "ray"), extra=dict(FAKES), jobs=2, resume=True, engine="ray")
    s = run_batch([str(folder)], opts, progress=False)
    assert (s.images, s.skipped) == (5, 7)  # the 4 dropped inputs and the failed one (retried on resume, by design)
    got, files = _outputs(tmp_path / "ray")
    ref, ref_files = _outputs(tmp_path / "local")
    assert {r["image"]: r for r in got} == {r["image"]: r for r in ref} and files == ref_files


def test_batch_module_keeps_the_factory_hook():
    opts = BatchOptions(out="unused", extra=dict(FAKES))
    fa = photo.batch_aligner(opts)
    assert fa.detector.name == "bright-squares"
