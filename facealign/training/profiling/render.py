"""Turn a labelled face in 3D and draw it in the new view with its own photo texture (face profiling).

Steps for one face (``Profiler.prepare`` once, then ``Profiler.render`` per new view):
1. Fit the ICT-FaceKit model to the 68 points (facealign.face3d.Face3DFitter, weak perspective; its jaw points
   use the outline vertex picked per pose).
2. Correct the mesh so its 68 points project exactly onto the labels: the fit's residuals (label minus the
   projected model point; for the jaw, the outline vertex the fit used) are interpolated over the model surface
   in 3D (Gaussian radial basis, 1.5 cm) and added to every vertex in the camera's image plane. So the texture
   under each label is carried with it, and a zero turn gives the photo back.
3. New pose: yaw and pitch set (roll kept), the head turned about its own origin (ICT's, inside the head at about
   ear height), the face's box centre kept in place.
4. Face: the mesh (plus the caps over the eyes and mouth) is rasterised in the new view with a z-buffer; every
   pixel of a triangle that the photo saw (front-facing and not hidden there) samples the photo at the same
   barycentric point of the triangle's photo position (a per-triangle affine warp done as one remap). Triangles the
   photo did not see are filled from their surroundings (inpainting); back faces are left out.
5. Background and hair: a smooth thin-plate-spline warp (training/profiling/tps.py) from the mesh outline's move
   (outline vertices visible in the new view), with the image border fixed.
6. Points: ``points3d`` are the 68 semantic vertices (each where it is, hidden or not: x, y, depth in pixels);
   ``points2d`` follow 300-W: the inner points 17-67 as in 3D, the jaw points 0-16 on the visible outline, the
   outline vertex picked along each jaw point's contour line under the new pose ("landmark marching",
   facealign.face3d.contour).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from facealign.face3d import camera as cam
from facealign.face3d import contour
from facealign.face3d.fit import Face3DFitter, default_fitter
from facealign.face3d.pose import angles_from_rotation, rotation_from_angles
from facealign.face3d.texture import UV_PATH, surface_vertices
from facealign.face3d.texture_raster import interpolate_at, rasterize
from facealign.training.profiling.tps import background_maps

RBF_SIGMA = 1.5  # cm: reach of the label correction over the surface
RBF_RIDGE = 1e-3  # keeps coincident labels (closed lips) solvable
MIN_FACING = 0.0  # cosine to the camera below which a triangle counts as unseen in the photo
DEPTH_TOL = 0.03  # of the face width: z-buffer tolerance for "seen"
MAX_OUTLINE = 80  # outline control points of the background warp


@lru_cache(maxsize=1)
def surface_triangles() -> np.ndarray:
    """(F, 3) the decimated mesh's triangles plus the caps over the eye and mouth openings (into surface_vertices)."""
    with np.load(UV_PATH) as d:
        caps = d["cap_triangles"].astype(np.int64)
    return np.concatenate([default_fitter().model.triangles, caps])


@lru_cache(maxsize=1)
def outline_vertices() -> np.ndarray:
    """Vertices on the mesh's outer border (edges of one triangle only, the largest connected loop: not the
    rims of holes the caps leave open), sorted."""
    t = surface_triangles()
    e = np.sort(np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]]), axis=1)
    uniq, count = np.unique(e, axis=0, return_counts=True)
    edges = uniq[count == 1]
    # connected components of the border edges (union-find over their vertices)
    parent = {int(v): int(v) for v in np.unique(edges)}

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for a, b in edges:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[ra] = rb
    verts = np.array(sorted(parent))
    roots = np.array([root(int(v)) for v in verts])
    labels, sizes = np.unique(roots, return_counts=True)
    return verts[roots == labels[np.argmax(sizes)]]


def triangle_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit triangle normals (F, 3) oriented outwards (the face's front looks along +z in the model frame)."""
    p = vertices[triangles]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    if n[:, 2].sum() < 0:
        n = -n
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


@dataclass
class SourceFace:
    """A labelled face prepared for new views: its fit, the corrected mesh in the camera frame (cm, relative to
    the head origin) and what the photo saw of it."""

    image_size: tuple[int, int]  # (w, h)
    rotation: np.ndarray  # (3, 3) model -> camera
    scale: float  # pixels per cm
    origin: np.ndarray  # (2,) image position of the head origin
    verts: np.ndarray  # (V, 3) surface vertices, camera frame, corrected (the last 68 are the landmark vertices)
    contour: np.ndarray  # (C, 3) contour candidates, camera frame, corrected
    model_contour: np.ndarray  # (C, 3) contour candidates, model frame, uncorrected (for the outline choice)
    seen: np.ndarray  # (F,) bool: triangles the photo saw
    mask: np.ndarray  # (h, w) bool: photo pixels the mesh covers
    normals: np.ndarray  # (F, 3) triangle normals, model frame
    pose: tuple[float, float, float]  # (yaw, pitch, roll) of the fit
    fit_error: float  # RMS reprojection error of the fit (pixels)

    def project(self, p: np.ndarray) -> np.ndarray:
        """(n, 3) camera-frame points -> (n, 3) image x, y and depth (pixels)."""
        return np.column_stack([self.scale * p[:, :2] + self.origin, self.scale * p[:, 2]])


@dataclass
class View:
    """One synthesised view: the image and the points in both conventions (0-based pixels)."""

    image: np.ndarray  # (h, w, 3) uint8
    points2d: np.ndarray  # (68, 2): 300-W style, the jaw on the visible outline
    points3d: np.ndarray  # (68, 3): the semantic vertices, x, y and depth (pixels, larger is farther)
    yaw: float
    pitch: float
    roll: float
    face_mask: np.ndarray  # (h, w) bool: pixels drawn from the mesh


def _rbf_offsets(centres: np.ndarray, residual: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Gaussian RBF interpolation of ``residual`` (n, 2) given at model points ``centres`` (n, 3) to ``query``."""
    def k(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d2 = ((a[:, None] - b[None]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * RBF_SIGMA**2))

    kk = k(centres, centres) + RBF_RIDGE * np.eye(len(centres))
    coef = np.linalg.solve(kk, residual)
    return k(query, centres) @ coef


def outline_choice(rotation: np.ndarray, model_contour: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Per jaw point, the contour candidate on the visible outline under ``rotation`` (weak perspective):
    the candidate most outward along the image direction of the subject's left (facealign.face3d.contour)."""
    along = (rotation[0, 0] * rotation[0] + rotation[1, 0] * rotation[1]) @ model_contour.T
    return contour.select_along(along, lines)


def silhouette_points(points: np.ndarray, mask: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Each point (n, 2) walked along its image direction (n, 2) to the first pixel ``mask`` does not cover (the
    point itself when it is uncovered already); NaN when the walk leaves the image first."""
    h, w = mask.shape
    d = directions / np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-9)
    steps = np.arange(0, w + h, 0.5)
    q = points[:, None] + steps[None, :, None] * d[:, None]  # (n, S, 2)
    xi = np.rint(q[..., 0]).astype(np.int64)
    yi = np.rint(q[..., 1]).astype(np.int64)
    out_img = (xi < 0) | (xi >= w) | (yi < 0) | (yi >= h)
    free = out_img | ~mask[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
    first = np.argmax(free, axis=1)
    res = q[np.arange(len(points)), first]
    res[out_img[np.arange(len(points)), first]] = np.nan
    return res


def outward_directions(model_points: np.ndarray, centre: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Image directions (n, 2) of the points' outward vectors on the face (from the model point ``centre``,
    in the model's x-y plane: sideways for the cheeks, up for the forehead, down for the neck) under
    ``rotation``: a border vertex hidden behind the face is carried to the silhouette on its own side."""
    out = np.asarray(model_points, dtype=np.float64)[:, :2] - centre[:2]
    return out @ rotation[:2, :2].T


class Profiler:
    """Makes new views of labelled faces (see the module docstring)."""

    def __init__(self, fitter: Face3DFitter | None = None) -> None:
        self.fitter = fitter or default_fitter()
        self.model = self.fitter.model
        self.triangles = surface_triangles()
        self.outline = outline_vertices()

    def prepare(self, image_size: tuple[int, int], points68: np.ndarray) -> SourceFace:
        """Fit and correct the mesh of one face with 68 labelled points (0-based pixels, 300-W convention)."""
        w, h = image_size
        pts = np.asarray(points68, dtype=np.float64).reshape(68, 2)
        fit = self.fitter.fit(pts, (w, h))
        s, _, t, c = cam.params_of(fit)
        rot = np.asarray(fit.rotation)
        origin = t + c
        m = self.model
        coeffs = m.coeffs(fit.identity, fit.expression)
        verts_m = surface_vertices(fit.identity, fit.expression)  # model frame, the last 68 are the landmarks
        cont_m = m.contour.shape(coeffs).T
        sel = outline_choice(rot, cont_m, m.contour_lines)
        centres = np.vstack([cont_m[sel], verts_m[-68:][17:]])  # what the labels are, in the model
        proj = (centres @ rot.T)[:, :2] * s + origin
        residual = (pts - proj) / s  # cm in the image plane
        verts = verts_m @ rot.T
        verts[:, :2] += _rbf_offsets(centres, residual, verts_m)
        cont = cont_m @ rot.T
        cont[:, :2] += _rbf_offsets(centres, residual, cont_m)
        normals = triangle_normals(verts_m, self.triangles)
        src = SourceFace((w, h), rot, s, origin, verts, cont, cont_m, np.zeros(0, bool), np.zeros((h, w), bool), normals,
                         angles_from_rotation(rot), float(fit.error))
        src.seen = self._seen(src)
        return src

    def _seen(self, src: SourceFace) -> np.ndarray:
        """Triangles the photo saw: facing the camera and not behind nearer surface (z-buffer)."""
        p = src.project(src.verts)
        facing = -(src.normals @ src.rotation.T)[:, 2]
        width = float(np.ptp(p[:, 0])) or 1.0
        r = rasterize(p[:, :2], p[:, 2], self.triangles, src.image_size)
        src.mask = r.tri >= 0
        w, h = src.image_size
        xi = np.clip(np.rint(p[:, 0]).astype(np.int64), 0, w - 1)
        yi = np.clip(np.rint(p[:, 1]).astype(np.int64), 0, h - 1)
        inside = (p[:, 0] >= -0.5) & (p[:, 0] <= w - 0.5) & (p[:, 1] >= -0.5) & (p[:, 1] <= h - 0.5)
        # a vertex is seen when nothing nearer covers its pixel (a pixel no triangle covers hides nothing)
        vis = inside & ((p[:, 2] <= r.depth[yi, xi] + DEPTH_TOL * width) | (r.tri[yi, xi] < 0))
        return (facing > MIN_FACING) & vis[self.triangles].all(1)

    def target_rotation(self, src: SourceFace, yaw: float, pitch: float, roll: float | None = None) -> np.ndarray:
        """The model -> camera rotation of the new view (roll kept unless given)."""
        return rotation_from_angles(yaw, pitch, src.pose[2] if roll is None else roll)

    def render(self, image: np.ndarray, src: SourceFace, yaw: float, pitch: float, roll: float | None = None,
               recentre: bool = True) -> View:
        """The face of ``image`` (prepared as ``src``) turned to ``yaw``, ``pitch`` (degrees; roll kept unless given)."""
        h, w = image.shape[:2]
        rt = self.target_rotation(src, yaw, pitch, roll)
        dr = rt @ src.rotation.T  # turns the camera-frame head about its origin
        verts_t = src.verts @ dr.T
        cont_t = src.contour @ dr.T
        p_s = src.project(src.verts)
        p_t = src.project(verts_t)
        c_t = src.project(cont_t)
        sel = outline_choice(rt, src.model_contour, self.model.contour_lines)
        pts2d = np.vstack([c_t[sel, :2], p_t[-68:][17:, :2]])
        pts3d = p_t[-68:].copy()
        if recentre:  # keep the face's box centre where it was in the photo
            lab_s = np.vstack([src.project(src.contour)[outline_choice(src.rotation, src.model_contour,
                                                                       self.model.contour_lines), :2],
                               p_s[-68:][17:, :2]])
            shift = (lab_s.min(0) + lab_s.max(0)) / 2 - (pts2d.min(0) + pts2d.max(0)) / 2
            p_t[:, :2] += shift
            pts2d = pts2d + shift
            pts3d[:, :2] += shift

        # the face: nearest front-facing triangle per pixel in the new view
        facing_t = -(src.normals @ rt.T)[:, 2]
        front = facing_t > 0.0
        tris = self.triangles[front]
        tri_ids = np.flatnonzero(front)
        r = rasterize(p_t[:, :2], p_t[:, 2], tris, (w, h))
        covered = r.tri >= 0
        tri_full = np.where(covered, tri_ids[np.maximum(r.tri, 0)], -1)
        textured = covered & src.seen[np.maximum(tri_full, 0)]
        src_xy = interpolate_at(self.triangles[tri_full[textured]], r.bary[textured], p_s[:, :2])

        # the background: the mesh outline pulls it along; outline vertices hidden in the new view pull the
        # background at the new silhouette instead (beyond it lies what lay beyond the outline in the photo)
        ov = self.outline
        if len(ov) > MAX_OUTLINE:
            ov = ov[np.linspace(0, len(ov) - 1, MAX_OUTLINE).round().astype(np.int64)]
        ov_m = src.verts[ov] @ src.rotation  # model frame (up to the small label correction)
        centre = (src.verts[-68:] @ src.rotation).mean(0)
        dst = silhouette_points(p_t[ov, :2], covered, outward_directions(ov_m, centre, rt))
        org = silhouette_points(p_s[ov, :2], src.mask, outward_directions(ov_m, centre, src.rotation))
        keep = np.isfinite(dst).all(1) & np.isfinite(org).all(1)
        dst, org = dst[keep], org[keep]
        _, first = np.unique(np.rint(dst / 2), axis=0, return_index=True)  # one control point per 2 px cell
        dst, org = dst[first], org[first]
        if len(dst) >= 3:
            mx, my = background_maps(dst, org, (w, h))
        else:
            mx, my = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        mx[textured] = src_xy[:, 0]
        my[textured] = src_xy[:, 1]
        out = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
        holes = covered & ~textured
        if holes.any():
            out = cv2.inpaint(out, holes.astype(np.uint8), 3, cv2.INPAINT_TELEA)
        y, p, rl = angles_from_rotation(rt)
        return View(out, pts2d, pts3d, y, p, rl, covered)
