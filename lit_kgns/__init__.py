"""lit_kgns: knowledge graph foundation models and negative samplers on PyTorch Lightning."""

__version__ = "0.1.0"
