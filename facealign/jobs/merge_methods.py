"""The shape-normalised (``warp``) and 3D (``3d``) fusion methods of the merge job (facealign.jobs.merge).

Both need every photo at once (a consensus decides which photos to leave out), so unlike ``mean`` they keep the
photos in memory: a merge of tens of photos, not thousands. Each photo's main face gets a 3D fit (weak
perspective): its pose weights the photo (warp) and its landmark residual tells a failed fit.

    warp: FILE = the unified face; FILE_sheet = the shape-normalised faces used.
    3d:   FILE = the unified face rendered at --pose (frontal by default); FILE_texture.png, FILE.obj and FILE.mtl =
          the textured mesh (model frame, cm; opens upright in MeshLab or Blender).
The JSON report says for every photo whether it was used and, if not, why; with its quality factors, its
consensus distance and its 3D fit residual and pose.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from facealign.jobs.options import OptionsError

MESH_METHODS = ("warp", "3d")


def parse_pose(text: str | tuple | list | None) -> tuple[float, float, float]:
    """``"yaw,pitch,roll"`` (degrees) or a 3-sequence -> a tuple; raises OptionsError when malformed."""
    if text is None:
        return (0.0, 0.0, 0.0)
    parts = text.split(",") if isinstance(text, str) else list(text)
    try:
        pose = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise OptionsError(f"--pose must be yaw,pitch,roll in degrees, not {text!r}") from None
    if len(pose) != 3 or not all(np.isfinite(pose)) or abs(pose[1]) > 90:
        raise OptionsError(f"--pose must be three finite angles yaw,pitch,roll (|pitch| <= 90), not {text!r}")
    return pose  # type: ignore[return-value]


def check_options(method: str, template: str, pose) -> None:
    """The rules of these methods, checked before any photo is read."""
    if method in MESH_METHODS and not template.startswith("mean68"):
        raise OptionsError(f"--method {method} needs a 68-point template (mean68...), not {template}")
    parse_pose(pose)
    if method != "3d" and pose is not None and tuple(parse_pose(pose)) != (0.0, 0.0, 0.0):
        raise OptionsError("--pose is only for --method 3d")


@dataclass
class MethodResult:
    """A fusion's pictures, the per-photo report and (3d) the textured mesh to write beside FILE."""

    count: int
    pictures: dict[str, np.ndarray]
    photos: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)
    mesh: tuple | None = None  # (vertices, uv, triangles, texture)

    def outputs(self) -> dict[str, np.ndarray]:
        """The pictures to write, by the suffix of their file stem ("": the main composite)."""
        return self.pictures

    def annotate(self, entries: list[dict[str, Any]]) -> None:
        """Add each photo's report to its input entry (the entries without an error, in order)."""
        ok = [e for e in entries if not e.get("error")]
        for e, p in zip(ok, self.photos):
            e.update(p)

    def write_extras(self, out: Path) -> list[Path]:
        """Write the textured mesh beside ``out`` (3d): the files of ``mesh_paths(out)``."""
        if self.mesh is None:
            return []
        from facealign.face3d.texture_io import write_textured_obj

        v, uv, tris, tex = self.mesh
        files = mesh_paths(out)
        paths = write_textured_obj(files["obj"], v, uv, tris, tex, texture_name=files["texture"].name)
        return list(paths.values())


def mesh_paths(out: str | Path) -> dict[str, Path]:
    """The textured mesh the 3d method writes beside ``out``: FILE.obj, FILE.mtl (the .obj's stem, as
    write_textured_obj names it) and FILE_texture.png. The merge job refuses an --out that would overwrite an
    input through any of them."""
    out = Path(out)
    return {"obj": out.with_suffix(".obj"), "mtl": out.with_suffix(".mtl"),
            "texture": out.with_name(out.stem + "_texture.png")}


def _collect(inputs: Iterator[Any]) -> tuple[list[str], list[np.ndarray], list[Any]]:
    """Materialise the aligned inputs: paths, photos and main faces (each given a 3D fit and pose)."""
    from facealign.face3d.fit import default_fitter
    from facealign.face3d.pose import pose_from_rotation

    paths, images, faces = [], [], []
    fitter = default_fitter()
    for a in inputs:
        if a.image is None or a.face.landmarks is None:
            continue
        f = a.face
        if f.fit is None:
            f.fit = fitter.fit(f.landmarks, (a.image.shape[1], a.image.shape[0]))
            f.pose = pose_from_rotation(f.fit.rotation)
        paths.append(a.path)
        images.append(a.image)
        faces.append(f)
    return paths, images, faces


def _photo_reports(result, faces: list[Any]) -> list[dict[str, Any]]:
    out = []
    for i, f in enumerate(faces):
        d = result.distance[i]
        rec: dict[str, Any] = {
            "used": bool(result.used[i]),
            "left_out": result.reasons[i],
            "quality": result.quality[i].to_json(),
            "consensus_distance": None if not np.isfinite(d) else round(float(d), 4),
            "fit_error": None if result.fit_error[i] is None else round(float(result.fit_error[i]), 4),
            "outlier_evidence": None if result.consensus is None else result.consensus.evidence_json(i),
        }
        if f.pose is not None:
            rec["pose"] = f.pose.to_json()
        out.append(rec)
    return out


def fuse_warp(inputs: Iterator[Any], opts) -> MethodResult | None:
    """Shape-normalised fusion (facealign.merge.warp) of the photos' main faces."""
    from facealign.merge.mean import contact_sheet
    from facealign.merge.warp import WarpOptions, warp_merge

    paths, images, faces = _collect(inputs)
    if not faces:
        return None
    r = warp_merge(images, faces, WarpOptions(size=opts.size, template=opts.template))
    used_faces = [w for w, u in zip(r.warped, r.used) if u]
    pictures = {"": r.image, "_sheet": contact_sheet([np.clip(w, 0, 255).astype(np.uint8) for w in used_faces])}
    info = {"method": "warp", "shape": "mean of the aligned shapes", "left_out": int(len(faces) - r.count)}
    return MethodResult(r.count, pictures, _photo_reports(r, faces), info)


def fuse_3d(inputs: Iterator[Any], opts) -> MethodResult | None:
    """3D texture fusion (facealign.merge.texture3d), rendered at ``opts.pose``, with the textured mesh."""
    from facealign.face3d.texture import load_atlas
    from facealign.merge.texture3d import Texture3DOptions, texture_merge

    paths, images, faces = _collect(inputs)
    if not faces:
        return None
    pose = parse_pose(getattr(opts, "pose", None))
    r = texture_merge(images, faces, Texture3DOptions(size=opts.size, template=opts.template, pose=pose))
    atlas = load_atlas(r.texture.shape[0])
    info = {"method": "3d", "pose": {"yaw": pose[0], "pitch": pose[1], "roll": pose[2]},
            "left_out": int(len(faces) - r.count),
            "texture_seen": round(float((r.coverage[atlas.mask] > 0.05).mean()), 4)}
    return MethodResult(r.count, {"": r.image}, _photo_reports(r, faces), info,
                        mesh=(r.vertices, atlas.uv, atlas.triangles, r.texture))
