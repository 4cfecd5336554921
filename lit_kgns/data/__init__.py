"""Triple files, the dataset catalog, graphs and splits, and the DataModule."""

from lit_kgns.data.catalog import available_datasets, load_dataset
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.graph import KGDataset, KGGraph, LinkPredictionSplit

__all__ = [
    "KGDataModule",
    "KGDataset",
    "KGGraph",
    "LinkPredictionSplit",
    "available_datasets",
    "load_dataset",
]
