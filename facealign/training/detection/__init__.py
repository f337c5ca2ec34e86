"""Training of the SSD-lite face detector (torch): composed scenes, targets, loss, loop and ONNX export."""
