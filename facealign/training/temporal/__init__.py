"""Training of the temporal fusion module: synthetic sequences from labelled stills, a small temporal convolution,
ONNX export into the run folder (temporal_causal.onnx, temporal_offline.onnx)."""
