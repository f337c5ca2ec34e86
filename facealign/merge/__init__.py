"""The merge stage: aligned crops of one person (arrays) fused into one face (arrays); no files, no prints.

``mean``: per-pixel mean and median composites and a contact sheet, streamed (``MeanFusion``).
"""
from facealign.merge.mean import MeanFusion, MergedFace, contact_sheet, merge_crops

__all__ = ["MeanFusion", "MergedFace", "contact_sheet", "merge_crops"]
