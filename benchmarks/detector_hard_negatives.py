"""False faces on hard negatives and on the sample photo, for one or more detector models, as `facealign align` runs
(detector at its registered threshold + the landmark check 0.4):

    python benchmarks/detector_hard_negatives.py --model ssdlite-det --model runs/detector-scenes/best.onnx

- the packaged sample photo (one real face; the shipped detector also reported the astronaut's name badge): the
  faces found, their width and score;
- 100 face-free 640x480 mosaics of validation background patches (those of `facealign eval detector`, seed 7)
  with 4-10 rendered hard negatives each (text and single letters/digits, TV caption bars, badges, patterns,
  textures; seed 99, a different stream from training) and, for half, noise and JPEG: false faces per image,
  after the check and from the detector alone.
Rendered negatives resemble the training ones (same renderers, other seeds): the number measures what the detector
learnt of that kind, not generalisation to real captions.
"""
from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from facealign.data.crowd_scenes import add_negatives_and_degrade
from facealign.data.scenes import Scene
from facealign.evaluation.detector_eval import negative_images
from facealign.paths import data_root
from facealign.pipeline import FaceAligner
from facealign.samples import sample_path


def hard_images(n: int, seed: int = 99) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    empty = np.zeros((0, 4), np.float32)
    out = []
    for img in negative_images(data_root(), n):
        sc = Scene(img, empty, np.zeros((0, 5, 2), np.float32), empty)
        out.append(add_negatives_and_degrade(rng, sc, None, (4, 10), 0.5).image)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", required=True)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="")
    a = ap.parse_args(argv)
    cv2.setNumThreads(1)
    imgs = hard_images(a.n)
    sample = cv2.imread(str(sample_path()))
    rows = []
    for m in a.model:
        fa = FaceAligner(detector=m, threads=a.threads, landmark_threads=a.threads)
        sf = fa.detect(sample)
        raw = fa.detector.detect(sample)
        kept = sum(len(fa.detect(im)) for im in imgs)
        det = sum(len(fa.detector.detect(im)) for im in imgs)
        rows.append({"model": m, "sample_faces": len(sf),
                     "sample": [{"width": round(float(f.box[2] - f.box[0]), 1), "score": round(float(f.score), 3),
                                 "conf": round(float(f.landmark_scores.mean()), 3)} for f in sf],
                     "sample_detector_boxes": len(raw),
                     "hard_false_per_image": kept / len(imgs), "hard_detector_per_image": det / len(imgs)})
        print(json.dumps(rows[-1]), flush=True)
    print("| model | sample: faces kept (width px, score) | detector boxes on sample | hard negatives: false faces / image (align) | detector boxes / image |")
    print("|---|---|---|---|---|")
    for r in rows:
        desc = ", ".join(f"{s['width']:g} px {s['score']:.2f}" for s in r["sample"])
        print(f"| {r['model']} | {r['sample_faces']} ({desc}) | {r['sample_detector_boxes']} | "
              f"{r['hard_false_per_image']:.2f} | {r['hard_detector_per_image']:.2f} |")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
