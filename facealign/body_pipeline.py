"""BodyAligner: the body stage beside FaceAligner. Faces first (the person hangs below each face), then the 14
joints of each person, then upper-body and full-body crops.

    import facealign
    ba = facealign.BodyAligner()
    faces, bodies = ba.detect(image)                 # or ba.detect(image, boxes=person_boxes)
    crops = ba.align(image, bodies, faces)           # [{"upper_body": AlignedBody, "full_body": ... or None}]

Where the people come from: given person boxes; else one box below each detected face
(facealign.alignment.body_frames.body_box_from_face); else, for a photo without a face, the whole photo (kept
when the network is sure of a person there). Each body is linked to its face (``Body.face``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from facealign.alignment.body_points import REFINE_PASSES
from facealign.body.frames import FRAMES, AlignedBody, align_body
from facealign.body.people import find_bodies
from facealign.stages import build_model
from facealign.types import Body, Face

BODY_THREADS = 1  # the body network's intra-op threads (a second pool beside the face models' competes for cores)


class BodyAligner:
    """Find people and their 14 body joints, and cut upper-body and full-body crops.

    Args:
        model: a registered body model name or ONNX file of the same contract, or None for the default.
        faces: the FaceAligner that finds faces (None: built by facealign.pipeline.build_aligner on first use;
            False: no faces, so people come only from given boxes or the whole photo).
        threads: onnxruntime intra-op threads of the body network.
        tta: average the body network over the crop and its mirror image (twice the network time).
        passes: body network passes per person: the first on the person box, each further one on the box of the
            joints found (facealign.alignment.body_points.REFINE_PASSES; 1: no refinement; docs/body.md).
    """

    def __init__(self, model: str | None = None, faces: Any = None, threads: int | None = BODY_THREADS,
                 tta: bool = False, passes: int = REFINE_PASSES) -> None:
        self._model_arg = model
        self._faces_arg = faces
        self.threads = threads
        self.tta = tta
        self.passes = passes
        self._model = None

    @property
    def model(self):
        """The body keypoint runtime (facealign.body.onnx_body.ONNXBody), built on first use."""
        if self._model is None:
            self._model = build_model(self._model_arg, "body", threads=self.threads, flip_tta=self.tta,
                                      passes=self.passes)
        return self._model

    @property
    def face_aligner(self):
        """The FaceAligner that finds faces, or None when faces are off."""
        if self._faces_arg is False:
            return None
        if self._faces_arg is None:
            from facealign.pipeline import build_aligner

            self._faces_arg = build_aligner()
        return self._faces_arg

    def detect(self, image: np.ndarray, boxes: np.ndarray | None = None, faces: list[Face] | None = None
               ) -> tuple[list[Face], list[Body]]:
        """(faces, bodies) of a BGR uint8 photo. ``boxes`` (N, 4): person boxes to use (joints found in each,
        linked to a face when one sits at its head); ``faces``: faces already found (else the face aligner's)."""
        if faces is None:
            fa = self.face_aligner
            faces = fa.detect(image) if fa is not None else []
        bodies = find_bodies(self.model, image, faces, boxes)
        return faces, bodies

    def align(self, image: np.ndarray, bodies: list[Body], faces: list[Face] | None = None,
              frames: tuple[str, ...] = FRAMES, size: int | None = None) -> list[dict[str, AlignedBody | None]]:
        """For each body, its crop in each of ``frames`` ("upper_body": eyes of its face and shoulders, or head
        top, neck and shoulders; "full_body": None when hips and ankles were not found). ``size``: crop width."""
        faces = faces or []
        out = []
        for b in bodies:
            face = faces[b.face] if b.face is not None and b.face < len(faces) else None
            out.append({f: align_body(image, b, f, face, size) for f in frames})
        return out
