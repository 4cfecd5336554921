"""Relation texts for text-aware backbones (SEMMA): raw labels, and SEMMA's LLM descriptions where they exist.

Per direct relation its raw name, and where SEMMA's descriptions cover the dataset
(``<data root>/semma_descriptions/<Dataset>.json``) a cleaned name and a description of the relation and of
its inverse; otherwise the raw label alone. The labels come from the graph (``KGGraph.relation_labels``),
the dataset name from ``KGGraph.dataset``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lit_kgns.data.root import resolve_data_root
from lit_kgns.errors import ConfigError

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
        raise ConfigError(f"{path}: cleaned_relations and relation_descriptions have different keys")
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
