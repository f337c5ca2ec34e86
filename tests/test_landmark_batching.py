"""The landmark runtime runs crowds in chunks of MAX_BATCH faces: same numbers as one big batch."""
from __future__ import annotations

import numpy as np


def test_chunked_runs_equal_one_batch(monkeypatch):
    import facealign.landmarks.onnx_landmarks as mod

    model = mod.ONNXLandmarks(threads=1)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    c, s = rng.uniform(40, 300, (mod.MAX_BATCH * 2 + 3, 2)), rng.uniform(20, 80, (mod.MAX_BATCH * 2 + 3, 1))
    boxes = np.hstack([c - s / 2, c + s / 2])
    chunked, sc1 = model.predict(image, boxes)
    monkeypatch.setattr(mod, "MAX_BATCH", 10_000)
    whole, sc2 = model.predict(image, boxes)
    np.testing.assert_array_equal(chunked, whole)
    np.testing.assert_array_equal(sc1, sc2)
    assert chunked.shape == (len(boxes), 68, 2)
