"""The same contract for every registered model (as timm runs the same tests over its registry): each is built by
facealign.stages.build_model into its runtime class and checked for output shapes, determinism and its crop rule.
A new entry in facealign/models/models.json is tested here without a new test; a new kind needs its contract below.
"""
import cv2
import numpy as np
import pytest

from facealign.alignment.crop import crop_transform
from facealign.alignment.points import tight_box
from facealign.alignment.templates import MEAN68
from facealign.runtime import registry
from facealign.runtime.session import create_session
from facealign.samples import sample_path
from facealign.stages import BUILDERS, build_model

SPECS = registry.list_models()


def test_registry_is_not_empty_and_names_are_unique():
    assert SPECS
    assert len({s.name for s in SPECS}) == len(SPECS)
    for kind in {s.kind for s in SPECS}:
        assert registry.default(kind).kind == kind


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_model_file_is_shipped_and_small(spec):
    assert spec.path.is_file(), f"registered model {spec.name} has no file {spec.path}"
    assert spec.path.stat().st_size < 5 * 1024 * 1024


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_model_builds_and_meets_the_contract_of_its_kind(spec):
    assert spec.kind in BUILDERS, f"no runtime class for kind {spec.kind!r}"
    assert spec.kind in CONTRACTS, f"no contract test for kind {spec.kind!r}: add one to CONTRACTS"
    CONTRACTS[spec.kind](spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_an_onnx_file_of_the_contract_builds_like_the_registered_name(spec):
    """A training export is evaluated exactly as a shipped model: the file is described by the kind's default spec."""
    by_file = build_model(spec.path, spec.kind, threads=1)
    by_name = build_model(spec.name, spec.kind, threads=1)
    assert type(by_file) is type(by_name)


def _face_image() -> tuple[np.ndarray, np.ndarray]:
    """The packaged sample and the box of its face (tight-68 convention, found by the shipped pipeline)."""
    img = cv2.imread(str(sample_path()))
    return img, np.array([178.7, 85.61, 270.69, 174.04])


def _landmarks_contract(spec):
    model = build_model(spec.name, "landmarks", threads=1)
    assert model.name == spec.name
    # crop rule: the registered crop side and scale, the shared crop transform
    assert model.size == spec.input_size and model.crop_scale == spec.options["crop_scale"]
    img, box = _face_image()
    boxes = np.stack([box, tight_box(MEAN68 * 40 + 60)])
    crops, mats = model.crops(img, boxes, np.array([0.0, 10.0]))
    assert crops.shape == (2, spec.input_size, spec.input_size, 3) and crops.dtype == np.uint8
    np.testing.assert_allclose(mats[1], crop_transform(boxes[1], spec.input_size, 10.0, spec.options["crop_scale"]))
    lm, sc = model.predict(img, boxes)
    assert lm.shape == (2, 68, 2) and sc.shape == (2, 68)
    assert np.isfinite(lm).all() and ((sc >= 0) & (sc <= 1)).all()
    lm2, sc2 = model.predict(img, boxes)
    assert np.array_equal(lm, lm2) and np.array_equal(sc, sc2)  # deterministic
    # the face's points lie in its box (a loose check that crop and inverse transform agree)
    c = lm[0].mean(0)
    assert box[0] < c[0] < box[2] and box[1] < c[1] < box[3]
    outs = {o.name for o in create_session(spec.path, threads=1).get_outputs()}
    assert {"landmarks", "scores"} <= outs and "features" not in outs  # the unused features output is gone


def _detector_contract(spec):
    det = build_model(spec.name, "detector", threads=1)
    assert det.det_size in (None, spec.input_size)  # None: the detector picks its working size per image
    assert det.score_threshold == spec.options.get("score_threshold", det.score_threshold)
    img, box = _face_image()
    faces = det.detect(img)
    assert faces and all(f.box.shape == (4,) and 0 <= f.score <= 1 and f.landmarks5.shape == (5, 2) for f in faces)
    assert [f.score for f in faces] == sorted((f.score for f in faces), reverse=True)
    assert np.abs(faces[0].box - box).max() < 15  # the astronaut's face first
    again = det.detect(img)
    assert all(np.array_equal(a.box, b.box) and a.score == b.score for a, b in zip(faces, again))
    assert det.detect(np.zeros((16, 16, 3), np.uint8)) == []  # below the minimum side: nothing, no error


def _temporal_contract(spec):
    model = build_model(spec.name, "temporal", threads=1)
    assert model.window == spec.input_size
    assert (model.past, model.future) == (spec.options["past"], spec.options["future"])
    rng = np.random.default_rng(0)
    base = MEAN68 * 80 + 100
    lm = base[None, None] + rng.normal(0, 1.0, (3, model.window, 68, 2))
    sc = rng.uniform(0.5, 1.0, (3, model.window, 68))
    out = model.refine(lm, sc)
    assert out.shape == (3, 68, 2) and np.isfinite(out).all()
    assert np.array_equal(out, model.refine(lm, sc))  # deterministic
    assert np.abs(out - lm[:, model.past]).max() < 0.3 * 80  # bounded correction of the current frame


def _body_contract(spec):
    from facealign.alignment.body_points import body_crop_transform

    model = build_model(spec.name, "body", threads=1)
    assert model.size == spec.input_size and model.crop_scale == spec.options["crop_scale"]
    img, _ = _face_image()
    boxes = np.array([[120.0, 40.0, 330.0, 511.0], [0.0, 0.0, img.shape[1] - 1.0, img.shape[0] - 1.0]])
    crops, mats = model.crops(img, boxes, np.array([0.0, 10.0]))
    assert crops.shape == (2, spec.input_size, spec.input_size, 3) and crops.dtype == np.uint8
    np.testing.assert_allclose(mats[1], body_crop_transform(boxes[1], spec.input_size, 10.0, spec.options["crop_scale"]))
    kp, sc = model.predict(img, boxes)
    assert kp.shape == (2, 14, 2) and sc.shape == (2, 14)
    assert np.isfinite(kp).all() and ((sc >= 0) & (sc <= 1)).all()
    kp2, sc2 = model.predict(img, boxes)
    assert np.array_equal(kp, kp2) and np.array_equal(sc, sc2)  # deterministic


CONTRACTS = {"landmarks": _landmarks_contract, "detector": _detector_contract, "temporal": _temporal_contract,
             "body": _body_contract}
