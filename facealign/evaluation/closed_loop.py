"""Closed-loop consistency of landmarks and aligned crops.

For one face with predicted landmarks ``pred`` (68 points):

1. align the face to a template with the predicted points (``fa.align``): crop image + transform T (image -> crop);
2. run the landmark model again on the crop, with the box the template implies (``box="template"``: the tight
   box of the template's 68 points, or box_from_five of its 5 points; ``box="mapped"``: the tight box of T(pred));
3. measure, normalised by the template's inter-ocular distance (68-point templates: outer eye corners 36-45;
   5-point templates: the eye centres):
   - ``consistency``: mean distance of the new points from T(pred): a model that is right (and equivariant)
     predicts the same points on the crop as on the original;
   - ``template``: mean distance of the new points from the template's own points (68 for mean68*, the
     5 points for arcface112): how well the crop lands where the template says, as seen by the model;
   - ``eye``: mean distance of the ground-truth eye centres mapped by T from the template's eye centres: how
     well the crop is aligned in truth (needs ground truth; None without it).

Rule-based templates without fixed points (``ffhq``) take T(pred) as their reference points, so only
``consistency`` and ``eye`` are measured there (``eye`` against the mapped predicted eye centres).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facealign.alignment.crop import box_from_five
from facealign.alignment.points import OUTER_EYE_CORNERS, five_from_68, tight_box
from facealign.alignment.templates import get_template, template_points
from facealign.alignment.transforms import apply


@dataclass
class TemplateReference:
    """What a template fixes in its crop: points (68 or 5, or None), eye centres, inter-ocular distance, box."""

    points: np.ndarray | None
    eyes: np.ndarray | None
    interocular: float | None
    box: np.ndarray | None


def template_reference(template: str, size: int | None = None) -> TemplateReference:
    """The fixed reference of ``template`` at ``size`` (defaults to the template's size)."""
    size = size or get_template(template).default_size
    try:
        pts, _ = template_points(template, size)
    except ValueError:
        return TemplateReference(None, None, None, None)  # rule-based template: no fixed points
    if len(pts) == 68:
        io = float(np.linalg.norm(pts[OUTER_EYE_CORNERS[0]] - pts[OUTER_EYE_CORNERS[1]]))
        return TemplateReference(pts, five_from_68(pts)[:2], io, tight_box(pts))
    return TemplateReference(pts, pts[:2], float(np.linalg.norm(pts[0] - pts[1])), box_from_five(pts))


def closed_loop_faces(
    fa,
    image: np.ndarray,
    faces: list,
    template: str = "arcface112",
    size: int | None = None,
    gt_eyes: list[np.ndarray | None] | None = None,
    box: str = "template",
) -> list[dict[str, float | None]]:
    """Closed-loop measures (see module doc) for ``faces`` (facealign.types.Face with ``landmarks``) of ``image``.

    ``fa`` is a FaceAligner (uses ``align`` and ``landmarks_for_boxes``); ``gt_eyes[i]`` is face i's
    ground-truth (2, 2) eye centres in the original image, or None. Returns one dict per face with keys
    ``consistency``, ``template``, ``eye`` (None where not measurable).
    """
    if box not in ("template", "mapped"):
        raise ValueError("box must be 'template' or 'mapped'")
    faces = [f for f in faces]
    if not faces:
        return []
    size = size or get_template(template).default_size
    ref = template_reference(template, size)
    aligned = fa.align(image, faces, template=template, size=size)
    out = []
    for i, (face, crop) in enumerate(zip(faces, aligned)):
        mapped = apply(crop.transform, face.landmarks)
        mapped5 = five_from_68(mapped)
        io = ref.interocular or float(np.linalg.norm(mapped5[0] - mapped5[1]))
        b = ref.box if (box == "template" and ref.box is not None) else tight_box(mapped)
        new_faces = fa.landmarks_for_boxes(crop.image, np.asarray(b, dtype=np.float64)[None])
        new = np.asarray(new_faces[0].landmarks, dtype=np.float64)
        res: dict[str, float | None] = {
            "consistency": float(np.linalg.norm(new - mapped, axis=1).mean() / io),
            "template": None,
            "eye": None,
        }
        if ref.points is not None:
            cmp = new if len(ref.points) == 68 else five_from_68(new)
            res["template"] = float(np.linalg.norm(cmp - ref.points, axis=1).mean() / io)
        eyes = None if gt_eyes is None else gt_eyes[i]
        if eyes is not None:
            target = ref.eyes if ref.eyes is not None else mapped5[:2]
            res["eye"] = float(np.linalg.norm(apply(crop.transform, eyes) - target, axis=1).mean() / io)
        out.append(res)
    return out
