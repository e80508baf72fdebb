"""What every punk is painted from: the 11 bases, the two head shapes and the paint order.

Facts from the CryptopunksData contract, which paints every punk on chain: one base, then the
accessories bottom to top in `PAINT_ORDER`, each over the last with alpha blending. Zombie, Ape
and Alien wear the male sprites; the female heads are narrower and have sprites of their own.
"""

import numpy as np

from punks_core.labels import ACCESSORIES

MALE_SKINS = ("Male 1", "Male 2", "Male 3", "Male 4")
FEMALE_SKINS = ("Female 1", "Female 2", "Female 3", "Female 4")
BASES = MALE_SKINS + FEMALE_SKINS + ("Zombie", "Ape", "Alien")
HEADS = ("male", "female")

# The one skin colour each skin-tone base paints (RGB): every Male and Female punk shows exactly
# one of these four, which is how the base is read from the pixels (labels.csv has only the type).
SKIN_RGB = ((113, 63, 29), (174, 139, 97), (219, 177, 128), (234, 217, 217))

PAINT_ORDER = (
    "Buck Teeth", "Frown", "Smile", "Hot Lipstick", "Black Lipstick", "Purple Lipstick", "Spots",
    "Rosy Cheeks", "Mole", "Gold Chain", "Choker", "Silver Chain", "Luxurious Beard", "Chinstrap",
    "Big Beard", "Front Beard", "Mustache", "Goat", "Shadow Beard", "Handlebars", "Normal Beard",
    "Front Beard Dark", "Normal Beard Black", "Muttonchops", "Earring", "Half Shaved",
    "Cowboy Hat", "Knitted Cap", "Wild Hair", "Bandana", "Tiara", "Messy Hair", "Blonde Short",
    "Straight Hair", "Frumpy Hair", "Cap Forward", "Stringy Hair", "Red Mohawk", "Mohawk Dark",
    "Mohawk Thin", "Beanie", "Orange Side", "Crazy Hair", "Vampire Hair", "Top Hat",
    "Wild White Hair", "Straight Hair Dark", "Pilot Helmet", "Purple Hair", "Pigtails",
    "Peak Spike", "Tassle Hat", "Hoodie", "Cap", "Headband", "Straight Hair Blonde", "Blonde Bob",
    "Police Cap", "Dark Hair", "Shaved Head", "Do-rag", "Fedora", "Mohawk", "Clown Hair Green",
    "Wild Blonde", "Pink With Hat", "Vape", "Pipe", "Cigarette", "Medical Mask",
    "Welding Goggles", "Eye Mask", "Blue Eye Shadow", "Horned Rim Glasses", "Regular Shades",
    "Clown Eyes Green", "Nerd Glasses", "Small Shades", "Eye Patch", "Purple Eye Shadow",
    "3D Glasses", "Big Shades", "Green Eye Shadow", "Clown Eyes Blue", "Classic Shades", "VR",
    "Clown Nose",
)  # fmt: skip
assert sorted(PAINT_ORDER) == sorted(ACCESSORIES), "PAINT_ORDER must hold the 87 accessories"
LAYER_RANK = {name: rank for rank, name in enumerate(PAINT_ORDER)}


def head_of(base: str) -> str:
    """The head shape a base wears accessories on: "female" for Female 1–4, else "male"."""
    return "female" if base in FEMALE_SKINS else "male"


def in_paint_order(accessories) -> list[str]:
    """The accessories sorted bottom layer first."""
    return sorted(accessories, key=LAYER_RANK.__getitem__)


def bases_from_pixels(images: np.ndarray, types) -> np.ndarray:
    """The base of each punk: its type, and for Male/Female the one skin colour it shows.

    Args:
        images: uint8 (N, 24, 24, 4) RGBA punks.
        types: the type name of each punk.

    Returns:
        object array of N base names. A Male or Female image showing none of the four skin
        colours gets "" (it is not a painted punk).
    """
    opaque = images[..., 3] == 255
    rgb = images[..., :3]
    counts = np.stack(
        [((rgb == skin).all(-1) & opaque).sum(axis=(1, 2)) for skin in SKIN_RGB], axis=1
    )
    bases = np.empty(len(images), dtype=object)
    for k, punk_type in enumerate(types):
        if punk_type in ("Male", "Female"):
            skins = MALE_SKINS if punk_type == "Male" else FEMALE_SKINS
            bases[k] = skins[counts[k].argmax()] if counts[k].any() else ""
        else:
            bases[k] = punk_type
    return bases
