"""Backbones: plain ``nn.Module`` link predictors behind :class:`KGBackbone`."""

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.ultra import Ultra

__all__ = ["KGBackbone", "Ultra"]
