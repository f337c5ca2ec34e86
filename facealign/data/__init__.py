"""Data: what training and evaluation both stand on, numpy and OpenCV only (never torch, no model sessions).

- readers, one per format, each returning a list of Sample (0-based points, schema name, optional
  visibility/attributes): pts, mtfl, coco, ljson, wflw, dlib_xml; ``[NAME=]KIND:PATH`` specs (spec.py);
  evaluation schemas (schema.py);
- landmark_crops.py: the named landmark sets and their crop cache (cut by the runtime's crop warp);
- face_crops.py, backgrounds.py, scenes.py, synthetic.py: the detector's labelled face crops, background
  patches, composed multi-face scenes and generated faces;
- sequences.py: synthetic face sequences rendered from labelled stills.

    from facealign.data import load_spec
    name, samples = load_spec("pts:300w/afw")  # relative paths: the working folder, else the data root
"""
from facealign.data.coco import read_coco
from facealign.data.dlib_xml import read_dlib_xml
from facealign.data.ljson import read_ljson, read_ljson_file
from facealign.data.mtfl import read_mtfl
from facealign.data.pts import read_pts_file, read_pts_folder
from facealign.data.sample import SCHEMAS, Sample
from facealign.data.schema import WFLW98_TO_68, eval_schema, five_points, prediction_to_eval, to_eval
from facealign.data.spec import READERS, DatasetSpec, load_spec, parse_spec
from facealign.data.wflw import read_wflw

__all__ = [
    "SCHEMAS", "READERS", "WFLW98_TO_68", "DatasetSpec", "Sample", "eval_schema", "five_points", "load_spec",
    "parse_spec", "prediction_to_eval", "read_coco", "read_dlib_xml", "read_ljson", "read_ljson_file", "read_mtfl",
    "read_pts_file", "read_pts_folder", "read_wflw", "to_eval",
]
