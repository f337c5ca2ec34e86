"""The 3D fit against MTFL's AFLW pose labels (five yaw classes): a confusion table of fitted yaw classes."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from facealign.data.mtfl import read_mtfl
from facealign.evaluation import pose_eval as pe


def _mtfl_landmarks(image: np.ndarray, p5: np.ndarray, aligner) -> np.ndarray | None:
    """68 points of the face with 5 labelled points, from the pipeline's landmark model (None if unavailable)."""
    from facealign.alignment.crop import box_from_five, roll_from_five

    box = box_from_five(p5)
    # the eye line gives the roll so the landmark crop comes out upright, as in the pipeline
    out = aligner.landmarks_for_boxes(image, box[None], np.array([roll_from_five(p5)]))
    first = out[0]
    lm = getattr(first, "landmarks", first)
    return None if lm is None else np.asarray(lm, dtype=np.float64).reshape(68, 2)


def evaluate_mtfl(path: Path, landmarks: str, frontal: float, profile: float) -> dict:
    """Confusion table of MTFL pose labels against the fitted yaw's class.

    ``landmarks``: "five" fits the 5 labelled points (pose only); "pipeline" fits 68 points from the landmark model.
    """
    from PIL import Image

    from facealign.face3d.fit import Face3DFitter
    from facealign.face3d.pose import angles_from_rotation

    fitter = Face3DFitter()
    aligner = None
    if landmarks == "pipeline":
        from facealign.pipeline import AlignerOptions, build_aligner

        try:
            aligner = build_aligner(AlignerOptions(threads=1, shared_pool=False))
            aligner.landmark_model  # load now: a missing model falls back to 5-point fits
        except (FileNotFoundError, ValueError) as e:
            sys.stderr.write(f"facealign eval pose: no landmark model ({e}); using 5-point fits\n")
            aligner = None
    labels, preds, yaws = [], [], []
    for sample in read_mtfl(path):
        img_path, p5, label = sample.image, sample.points, sample.attributes["pose"]
        if aligner is not None:
            import cv2

            image = cv2.imread(str(img_path))
            if image is None:
                continue
            lm = _mtfl_landmarks(image, p5, aligner)
            fit = fitter.fit(lm, (image.shape[1], image.shape[0]))
        else:
            with Image.open(img_path) as im:
                size = im.size
            fit = fitter.fit_five(p5, size)
        yaw = angles_from_rotation(fit.rotation)[0]
        labels.append(label)
        yaws.append(yaw)
        preds.append(pe.yaw_class(yaw, frontal, profile))
    m = pe.confusion(labels, preds)
    yaws_a, labels_a = np.array(yaws), np.array(labels)
    side_ok = ((labels_a < 3) & (yaws_a < 0)) | ((labels_a > 3) & (yaws_a > 0))
    return {
        "list": str(path),
        "landmarks": "68 (pipeline)" if aligner is not None else "5 (labelled, pose-only fit)",
        "n": len(labels),
        "confusion": m.tolist(),
        "accuracy": float(np.trace(m) / max(m.sum(), 1)),
        "side_accuracy": float(side_ok[labels_a != 3].mean()) if (labels_a != 3).any() else float("nan"),
        "mean_yaw_per_class": [float(yaws_a[labels_a == c].mean()) if (labels_a == c).any() else float("nan")
                               for c in range(1, 6)],
        "median_yaw_per_class": [float(np.median(yaws_a[labels_a == c])) if (labels_a == c).any() else float("nan")
                                 for c in range(1, 6)],
        "thresholds": [frontal, profile],
    }
