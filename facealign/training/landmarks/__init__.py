"""Training of the landmark network (torch): data cache, augmentation, network, losses, loop, ONNX export."""
