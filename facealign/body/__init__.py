"""The body stage: 14 body joints of people (from boxes, from faces or the whole photo), upper-body and full-body
frames, skeleton overlays. Arrays in, Bodies out; no files, no prints."""
