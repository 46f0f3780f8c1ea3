"""DINOv2 ViT-L/14 (Meta's ``dinov2_vitl14_pretrain.pth``) as an ONNX feature extractor, built
without torch: the weights' layout and checks (weights.py), the 37×37 → 16×16 position-embedding
resize done at build time (posembed.py), the graph (graph.py), and seeded stand-in weights in
the official layout for the parity tests (standin.py)."""
