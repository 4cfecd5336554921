"""Backbones: plain ``nn.Module`` link predictors behind :class:`KGBackbone`."""

from lit_kgns.backbones.base import KGBackbone
from lit_kgns.backbones.kge import RESCAL, ComplEx, DistMult, KGEBackbone, RotatE, TransE, TransH, TransR
from lit_kgns.backbones.message_passing import MessagePassingOptions
from lit_kgns.backbones.motif import Motif
from lit_kgns.backbones.semma import Semma
from lit_kgns.backbones.trix import Trix
from lit_kgns.backbones.ultra import Ultra

__all__ = [
    "RESCAL",
    "ComplEx",
    "DistMult",
    "KGBackbone",
    "KGEBackbone",
    "MessagePassingOptions",
    "Motif",
    "RotatE",
    "Semma",
    "TransE",
    "TransH",
    "TransR",
    "Trix",
    "Ultra",
]
