"""Background patches: parts of a labelled photo away from its face (the negatives of detector training, and the
tiles of face-free mosaics in detector evaluation)."""
from __future__ import annotations

import numpy as np

MIN_PATCH = 24  # smallest side of a kept background patch (pixels)


def background_patch(image: np.ndarray, box: np.ndarray, min_side: int = MIN_PATCH) -> np.ndarray | None:
    """The largest strip of ``image`` left, right, above or below the face box grown by a quarter of its size
    (None when no strip has both sides >= ``min_side``)."""
    h, w = image.shape[:2]
    bw, bh = box[2] - box[0], box[3] - box[1]
    g = 0.25 * max(bw, bh)
    x1, y1 = int(np.floor(box[0] - g)), int(np.floor(box[1] - g))
    x2, y2 = int(np.ceil(box[2] + g)) + 1, int(np.ceil(box[3] + g)) + 1
    cands = [(0, 0, x1, h), (x2, 0, w, h), (0, 0, w, y1), (0, y2, w, h)]
    best, area = None, 0
    for a, b, c, d in cands:
        a, b, c, d = max(a, 0), max(b, 0), min(c, w), min(d, h)
        if c - a >= min_side and d - b >= min_side and (c - a) * (d - b) > area:
            best, area = (a, b, c, d), (c - a) * (d - b)
    if best is None:
        return None
    a, b, c, d = best
    return np.ascontiguousarray(image[b:d, a:c])
