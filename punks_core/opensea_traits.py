"""OpenSea traits onto the 92 labels: `traits_to_labels`, forgiving of spelling and junk."""

import re
from typing import Any

from punks_core.labels import ACCESSORIES, LABELS, TYPES, canonical_label


def _compact(text: str) -> str:
    """Lower case, letters and digits only: "3D Glasses", "3d-glasses", "3DGlasses" agree."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


_TYPE_BY_KEY = {_compact(name): name for name in TYPES}
_ACCESSORY_BY_KEY = {_compact(name): name for name in ACCESSORIES}
_TYPE_TRAITS = frozenset({"type"})
_ACCESSORY_TRAITS = frozenset({"accessory", "accessories"})


def _trait_label(table: dict[str, str], value: str) -> str | None:
    label = canonical_label(value)
    if label is not None and _compact(label) in table:
        return label
    return table.get(_compact(value))


def traits_to_labels(traits: Any) -> tuple[dict[str, int], list[str]]:
    """Map OpenSea traits onto the 92 labels.

    Trait types `type` and `accessory` are matched ignoring case; values ignoring case, spaces
    and punctuation, so "3D Glasses", "3d glasses" and "3DGlasses" are one label, as are "Do-rag"
    and "Do Rag". Trait types about counts ("Accessory Count", ...) carry no label and are
    ignored. Anything else is returned as unknown rather than raising.

    Args:
        traits: the `traits` of an OpenSea NFT: a list of `{"trait_type": ..., "value": ...}`;
            None, a missing value or any malformed content is tolerated.

    Returns:
        (labels, unknown): `labels` maps every name in `LABELS` to 0 or 1; `unknown` lists the
        traits that match no label, as "trait_type: value".
    """
    labels = dict.fromkeys(LABELS, 0)
    unknown: list[str] = []
    if not isinstance(traits, list):
        return labels, unknown
    for trait in traits:
        if not isinstance(trait, dict):
            unknown.append(repr(trait)[:80])
            continue
        kind = str(trait.get("trait_type", "")).strip()
        value = trait.get("value")
        value = "" if value is None else str(value).strip()
        if "count" in kind.lower():
            continue
        if kind.lower() in _TYPE_TRAITS:
            label = _trait_label(_TYPE_BY_KEY, value)
        elif kind.lower() in _ACCESSORY_TRAITS:
            label = _trait_label(_ACCESSORY_BY_KEY, value)
        else:
            label = None
        if label is None:
            unknown.append(f"{kind}: {value}"[:80])
        else:
            labels[label] = 1
    return labels, unknown
