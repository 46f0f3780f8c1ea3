"""Features: presets and resizers, the ONNX Runtime model, the decode/inference pipeline, streaming statistics and the feature cache."""
