"""End to end on the bundled public-domain photo, with the shipped models: align, pose, closed loop."""
import json

import cv2
import numpy as np

from facealign.alignment.points import five_from_68, tight_box
from facealign.alignment.transforms import apply
from facealign.alignment.templates import ARCFACE112
from facealign.cli.main import main
from facealign.io.results import read_results
from facealign.pipeline import FaceAligner

from helpers import SAMPLE

# the astronaut's face: box of the 68 points and eye centres, read off the photo by hand (0-based pixels)
FACE_BOX = np.array([177.0, 86.0, 268.0, 174.0])
EYES = np.array([[205.0, 101.0], [246.0, 101.0]])


def test_align_finds_the_one_face_and_its_landmarks(tmp_path):
    assert main(["align", str(SAMPLE), "--out", str(tmp_path), "-q"]) == 0
    (rec,) = read_results(tmp_path / "results.jsonl")
    assert (rec["width"], rec["height"], rec["error"]) == (512, 512, None)
    # the astronaut's face comes first; the shipped detector also fires on her 20 px name badge (a known false
    # positive the landmark check does not remove at that size): anything else must be that small
    f = rec["faces"][0]
    assert all(g["box"][2] - g["box"][0] < 25 for g in rec["faces"][1:])
    assert np.abs(np.array(f["box"]) - FACE_BOX).max() < 12
    five = np.array(f["landmarks5"])
    assert np.linalg.norm(five[:2] - EYES, axis=1).max() < 5
    crop = cv2.imread(str(tmp_path / f["crop"]))
    assert crop.shape == (112, 112, 3)
    assert len(list((tmp_path / "overlays").glob("astronaut_*.jpg"))) == 1


def test_closed_loop_on_the_aligned_crop():
    """Re-run on the aligned crop: the points land where the first pass's points were mapped (consistency)."""
    img = cv2.imread(str(SAMPLE))
    fa = FaceAligner()
    face = fa.detect(img)[0]
    (aligned,) = fa.align(img, [face], template="arcface112", size=224)
    mapped = apply(aligned.transform, face.landmarks)
    again = fa.landmarks_for_boxes(aligned.image, tight_box(mapped)[None])[0].landmarks
    iod = np.linalg.norm(mapped[36] - mapped[45])
    assert np.linalg.norm(again - mapped, axis=1).mean() / iod < 0.04
    # and the eyes sit on the template's eye points (the similarity fit spreads the residual over 5 points)
    eyes = five_from_68(again)[:2]
    assert np.linalg.norm(eyes - ARCFACE112[:2] * 2, axis=1).max() / iod < 0.12


def test_pose_command_adds_3d_to_every_face(tmp_path):
    assert main(["pose", str(SAMPLE), "--out", str(tmp_path), "-q", "--meshes", "--camera", "perspective"]) == 0
    (rec,) = read_results(tmp_path / "results.jsonl")
    f = rec["faces"][0]
    assert set(f) >= {"pose", "rotation", "translation", "camera", "landmarks3d", "identity", "expression"}
    assert abs(f["pose"]["yaw"]) < 20 and abs(f["pose"]["roll"]) < 15  # a near-frontal, upright portrait
    assert f["camera"]["model"] == "perspective" and f["camera"]["focal"] > 0
    assert np.array(f["landmarks3d"]).shape == (68, 3)
    (mesh,) = (tmp_path / "meshes").glob("astronaut_*_0.obj")
    obj = mesh.read_text()
    assert obj.count("\nv ") > 1000 and "\nf " in obj
    json.dumps(rec)  # serialisable as written
