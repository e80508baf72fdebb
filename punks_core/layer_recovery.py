"""Recover every punk layer (base and accessory sprites) from the 10,000 images and labels alone.

Each punk is its base with its accessories painted over it in the global paint order. So at a
pixel, an accessory's sprite is known from the punks that wear it where no higher layer of theirs
paints: if all of them show the same colour there, and that colour is not simply what lies
underneath, the accessory paints it. Bases and accessories depend on each other (a base pixel is
seen only where no accessory covers it; "what lies underneath" needs the lower layers), so the
estimate alternates — bases by the most common uncovered colour, accessories top layer first —
until every punk re-renders exactly. Pixels that no wearer ever shows (always covered) stay empty:
no punk tells what they would be, and no punk's render depends on them.
"""

from dataclasses import dataclass

import numpy as np

from punks_core.layer_order import (
    BASES,
    HEADS,
    PAINT_ORDER,
    bases_from_pixels,
    head_of,
    in_paint_order,
)

MAX_ROUNDS = 8
# A base pixel no punk shows takes the colour at least this share of its punks show there.
ALWAYS_SHARE = 0.9
# A layer paints a pixel when more than VOTE times as many wearers need it as contradict it.
VOTE = 3


def over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Paint `top` over `bottom` (uint8 RGBA, any leading shape) with alpha blending.

    An opaque pixel replaces what is under it and a transparent one leaves it; the
    half-transparent smoke mixes with what is under it, by the usual "over" rule rounded to
    the nearest integer.
    """
    top16, bottom16 = top.astype(np.int32), bottom.astype(np.int32)
    ta, ba = top16[..., 3:4], bottom16[..., 3:4]
    out_a = ta + ba * (255 - ta) // 255
    safe_a = np.maximum(out_a, 1)
    rgb = (top16[..., :3] * ta * 255 + bottom16[..., :3] * ba * (255 - ta) + safe_a * 127) // (
        safe_a * 255
    )
    mixed = np.concatenate([rgb, out_a], axis=-1).astype(np.uint8)
    mixed = np.where(ta == 255, top, mixed)
    return np.where(ta == 0, bottom, mixed)


@dataclass
class Recovered:
    """The recovered sprites: `bases[name]` and `accessories[(name, head)]`, uint8 (24, 24, 4)."""

    bases: dict[str, np.ndarray]
    accessories: dict[tuple[str, str], np.ndarray]
    blends: dict[tuple[int, int], int]
    punk_bases: np.ndarray
    mismatched: int


def recover(images: np.ndarray, types, accessory_lists, progress=None) -> Recovered:
    """Recover the sprites that paint `images` exactly (see the module docstring).

    Args:
        images: uint8 (N, 24, 24, 4) RGBA punks.
        types: the type of each punk.
        accessory_lists: the accessories of each punk (any order).
        progress: called with a line of text after each round, if given.

    Returns:
        The sprites, each punk's base, and how many punks still do not re-render exactly.
    """
    punk_bases = bases_from_pixels(images, types)
    stacks = [in_paint_order(accessories) for accessories in accessory_lists]
    heads = np.array([head_of(base) for base in punk_bases])
    wearers = {
        (name, head): np.array(
            [k for k, stack in enumerate(stacks) if name in stack and heads[k] == head], dtype=int
        )
        for name in PAINT_ORDER
        for head in HEADS
    }
    wearers = {key: rows for key, rows in wearers.items() if len(rows)}
    empty = np.zeros((24, 24, 4), np.uint8)
    accessories = {key: empty.copy() for key in wearers}
    bases = {base: _mode(images[punk_bases == base]) for base in BASES}
    mismatched = len(images)
    blends: dict[tuple[int, int], int] = {}
    for round_ in range(MAX_ROUNDS):
        for name in reversed(PAINT_ORDER):
            for head in HEADS:
                if (name, head) in wearers:
                    rows = wearers[(name, head)]
                    accessories[(name, head)] = _estimate_accessory(
                        name, head, images[rows], [stacks[k] for k in rows],
                        punk_bases[rows], bases, accessories, blends, first_round=round_ == 0,
                    )  # fmt: skip
        bases = _estimate_bases(images, punk_bases, stacks, heads, accessories)
        renders = np.stack(
            [
                paint(bases[base], [accessories[(a, head_of(base))] for a in stack], blends)
                for base, stack in zip(punk_bases, stacks, strict=True)
            ]
        )
        now = int((renders != images).any(axis=(1, 2, 3)).sum())
        if progress:
            progress(f"round {round_ + 1}: {len(images) - now:,} punks re-render exactly")
        if now == 0 or now >= mismatched:
            mismatched = now
            break
        mismatched = now
    mismatched = _patch_blends(images, punk_bases, stacks, bases, accessories, blends)
    return Recovered(bases, accessories, blends, punk_bases, mismatched)


def _patch_blends(images, punk_bases, stacks, bases, accessories, blends) -> int:
    """Record the exact blend wherever a translucent pixel still renders wrong.

    The vote fits one colour per pixel from most wearers; a rare colour underneath (a zombie's
    eye under glasses) can be left out of it. Returns how many punks still differ.
    """
    mismatched = 0
    for image, base, stack in zip(images, punk_bases, stacks, strict=True):
        sprites = [accessories[(a, head_of(base))] for a in stack]
        for _ in range(2):  # a patch can reveal the next wrong blend above it
            wrong = (paint(bases[base], sprites, blends) != image).any(-1)
            if not wrong.any():
                break
            below = bases[base]
            for level, sprite in enumerate(sprites):
                higher = np.zeros((24, 24), bool)
                for above in sprites[level + 1 :]:
                    higher |= above[..., 3] > 0
                translucent = (sprite[..., 3] > 0) & (sprite[..., 3] < 255)
                mixed = wrong & translucent & (below[..., 3] > 0) & ~higher
                for r, c in zip(*np.nonzero(mixed), strict=True):
                    key = (int(_codes(sprite)[r, c]), int(_codes(below)[r, c]))
                    blends[key] = int(_codes(image)[r, c])
                below = over_with(sprite, below, blends)
        mismatched += bool((paint(bases[base], sprites, blends) != image).any())
    return mismatched


def paint(base: np.ndarray, sprites, blends: dict) -> np.ndarray:
    """`base` with `sprites` painted over it in the order given (see `over_with`)."""
    image = base
    for sprite in sprites:
        image = over_with(sprite, image, blends)
    return image


def over_with(top: np.ndarray, bottom: np.ndarray, blends: dict) -> np.ndarray:
    """`over`, except that a translucent colour over another comes from `blends` when listed.

    Like the CryptopunksData contract, which stores its blends ("composites") in a table rather
    than computing them: the table keeps the exact colours the artist chose.
    """
    image = over(top, bottom)
    mixed = (top[..., 3] > 0) & (top[..., 3] < 255) & (bottom[..., 3] > 0)
    if mixed.any():
        tops, bottoms = _codes(top), _codes(bottom)
        codes = _codes(image).copy()
        for r, c in zip(*np.nonzero(mixed), strict=True):
            codes[r, c] = blends.get((int(tops[r, c]), int(bottoms[r, c])), codes[r, c])
        image = codes.view(np.uint8).reshape(image.shape)
    return image


def _codes(images: np.ndarray) -> np.ndarray:
    """RGBA pixels as one uint32 each (the last axis folded)."""
    return np.ascontiguousarray(images).view(np.uint32)[..., 0]


def _rgba(code) -> np.ndarray:
    return np.array([code], np.uint32).view(np.uint8)


def _is_opaque(code) -> bool:
    return _rgba(code)[3] == 255


def _fit_translucent(below: np.ndarray, result: np.ndarray) -> tuple[int, dict]:
    """The translucent colour that turns `below` into `result`; its blends go into `blends`.

    Over a transparent pixel a colour shows as itself, which gives it exactly. Otherwise the
    colour is fitted with the "over" rule (least squares over every alpha). Returns the colour
    (0: none fits) and the exact blends seen, so every punk seen re-renders exactly whatever
    the fit.
    """
    pairs, counts = np.unique(np.stack([below, result], axis=1), axis=0, return_counts=True)
    # Keep, for each colour underneath, the result most wearers show over it.
    order = np.argsort(-counts, kind="stable")
    _, first = np.unique(pairs[order, 0], return_index=True)
    pairs = pairs[order[first]]
    clear = [res for und, res in pairs if _rgba(und)[3] == 0 and 0 < _rgba(res)[3] < 255]
    if clear:
        top = int(clear[0])
    else:
        pairs = np.array([(u, r) for u, r in pairs if _rgba(u)[3] == 255 and _is_opaque(r)])
        if not len(pairs):
            return 0, {}
        under = np.stack([_rgba(u)[:3] for u, _ in pairs]).astype(float)
        shown = np.stack([_rgba(r)[:3] for _, r in pairs]).astype(float)
        best = None
        for alpha in range(1, 255):
            colour = ((255 * shown - under * (255 - alpha)) / alpha).mean(axis=0).clip(0, 255)
            error = np.abs((colour * alpha + under * (255 - alpha)) / 255 - shown).sum()
            if best is None or error < best[0]:
                best = (error, alpha, colour.round())
        error, alpha, colour = best
        if error > 4 * len(pairs):
            return 0, {}  # no one colour explains it: a wrong guess elsewhere, for a later round
        top = int(np.array([*colour, alpha], np.uint8).view(np.uint32)[0])
    entries = {(top, int(und)): int(res) for und, res in pairs if _rgba(und)[3] > 0}
    return top, entries


def _mode(images: np.ndarray) -> np.ndarray:
    """The most common RGBA value at each pixel."""
    codes = np.ascontiguousarray(images).view(np.uint32)[..., 0]
    out = np.empty(codes.shape[1:], np.uint32)
    for (r, c), _ in np.ndenumerate(out):
        values, counts = np.unique(codes[:, r, c], return_counts=True)
        out[r, c] = values[counts.argmax()]
    return out.view(np.uint8).reshape(24, 24, 4)


def _estimate_bases(images, punk_bases, stacks, heads, accessories) -> dict[str, np.ndarray]:
    """Each base pixel: the most common colour over its punks where no accessory paints."""
    bases = {}
    for base in BASES:
        rows = np.flatnonzero(punk_bases == base)
        covered = np.zeros((len(rows), 24, 24), bool)
        for i, k in enumerate(rows):
            for name in stacks[k]:
                covered[i] |= accessories[(name, heads[k])][..., 3] > 0
        codes = np.ascontiguousarray(images[rows]).view(np.uint32)[..., 0]
        out = np.zeros((24, 24), np.uint32)
        for (r, c), _ in np.ndenumerate(out):
            seen = codes[~covered[:, r, c], r, c]
            if len(seen):
                values, counts = np.unique(seen, return_counts=True)
                out[r, c] = values[counts.argmax()]
            else:
                # Covered on every punk of this base, yet (nearly) always the same colour: the
                # head's outline under a collar or hair. It belongs to the base, not to each of
                # the accessories that happen to cover it.
                values, counts = np.unique(codes[:, r, c], return_counts=True)
                if counts.max() >= ALWAYS_SHARE * len(rows):
                    out[r, c] = values[counts.argmax()]
        bases[base] = out.view(np.uint8).reshape(24, 24, 4)
    return bases


def _estimate_accessory(
    name, head, images, stacks, punk_bases, bases, accessories, blends, first_round
):
    """One accessory's sprite on one head, from its wearers (see the module docstring)."""
    unders, covered = [], []
    for stack, base in zip(stacks, punk_bases, strict=True):
        level = stack.index(name)
        lower = [accessories[(a, head)] for a in stack[:level]]
        unders.append(paint(bases[base], lower, blends))
        above = np.zeros((24, 24), bool)
        for higher in stack[level + 1 :]:
            above |= accessories[(higher, head)][..., 3] > 0
        covered.append(above)
    under = _codes(np.stack(unders))
    shown = _codes(images)
    seen = ~np.stack(covered)
    sprite = np.zeros((24, 24), np.uint32)
    for (r, c), _ in np.ndenumerate(sprite):
        who = seen[:, r, c]
        if who.any():
            sprite[r, c] = _claim(under[who, r, c], shown[who, r, c], blends, first_round)
    return sprite.view(np.uint8).reshape(24, 24, 4)


def _claim(below: np.ndarray, result: np.ndarray, blends: dict, first_round: bool) -> int:
    """What one layer paints at one pixel, from the wearers that show it (0: nothing).

    A vote, so that a wrong guess about another layer in an early round cannot block the
    answer: painting colour c is *needed* by a wearer that shows c where the layers underneath
    have something else, and *contradicted* by one that shows something c does not explain.
    The first round cannot trust what is underneath (the bases are still rough guesses, often
    hair where skin belongs), so it claims every colour most wearers show, opaque ones only.
    """
    values, counts = np.unique(result, return_counts=True)
    common = int(values[counts.argmax()])
    opaque_contradicted = None
    if _is_opaque(common):
        shows = result == common
        needed = shows.sum() if first_round else (shows & (below != common)).sum()
        opaque_contradicted = (~shows).sum()
        if (
            needed > 0
            and needed > VOTE * opaque_contradicted
            and (first_round or opaque_contradicted == 0)
        ):
            return common
    if first_round:
        return 0
    # A translucent colour (shadow, lens, smoke) shows as a different colour over each thing
    # under it; a pixel that looks opaque because most wearers have the same thing under it
    # is translucent when that explains the rest too.
    top, entries = _fit_translucent(below, result)
    if top:
        table = {**blends, **entries}
        predicted = _codes(over_with(_rgba_image(top, len(below)), _as_image(below), table))
        explained = predicted[:, 0] == result
        needed = (explained & (below != result)).sum()
        contradicted = (~explained).sum()
        beats_opaque = opaque_contradicted is None or contradicted < opaque_contradicted
        if needed > 0 and needed > VOTE * contradicted and beats_opaque:
            blends.update(entries)
            return top
    if opaque_contradicted is not None:
        shows = result == common
        needed = (shows & (below != common)).sum()
        if needed > 0 and needed > VOTE * opaque_contradicted:
            return common
    return 0


def _rgba_image(code: int, n: int) -> np.ndarray:
    return np.broadcast_to(_rgba(code), (n, 1, 4)).copy()


def _as_image(codes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(codes, dtype=np.uint32).view(np.uint8).reshape(-1, 1, 4)
