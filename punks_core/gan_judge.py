"""Judging the GAN's samples with the project's classifier, against real punks it never
trained on: type agreement, accessories asked for and found, the punk FID, copies; and the
selection score that picks the shipped epoch.
"""

import numpy as np

from punks_core.classifier import PunkClassifier
from punks_core.dataset import Punks
from punks_core.gan import PunkGenerator, latent
from punks_core.gan_networks import N_TYPES
from punks_core.gan_quality import RealPunks, frechet_distance, in_palette
from punks_core.labels import TYPES

METRIC_SEED = 7  # the fixed noise of every epoch's quality metrics
AGREEMENT_PER_TYPE = 100
ACCESSORY_SAMPLES = 32  # samples per checked accessory, each epoch
QUALITY_SAMPLES = 1000
COPIES_ALLOWED = 0.01  # share of samples that may be a training punk, pixel for pixel
# Common accessories whose presence the classifier checks in samples that ask for them.
CHECKED_ACCESSORIES = {
    "Male": ("Cap", "Big Beard", "Pipe", "Hoodie", "VR", "Mohawk", "Earring", "Wild Hair"),
    "Female": (
        "Blonde Bob",
        "Tiara",
        "Hot Lipstick",
        "Pilot Helmet",
        "Big Shades",
        "Cigarette",
        "Wild Blonde",
        "Mole",
    ),
}


class QualityJudge:
    """The project's classifier judging samples against real punks the GAN never trained on.

    Type agreement per type, the accessories asked for and found, the punk FID against the
    reference punks (with the reference's types asked for), each request completed from the
    generator's recipe book if it has one, the same distance for a
    type-matched sample of training punks (what a generator that had learned the training
    punks perfectly would score), the share of pixels in the palette and exact copies.
    """

    def __init__(self, classifier: PunkClassifier, train: Punks, reference: Punks, seed: int):
        rng = np.random.default_rng(seed)
        self.classifier = classifier
        self.train = RealPunks(train.images)
        self.reference_types = reference.types.to_numpy()
        self.reference_features = classifier.features(reference.images)
        train_types = train.types.to_numpy()
        matched = [
            rng.choice(np.flatnonzero(train_types == t))
            for t in self.reference_types
            if (train_types == t).any()
        ]
        self.real_fid = frechet_distance(
            classifier.features(train.images[matched]), self.reference_features
        )
        self.noise = latent(max(len(reference.images), AGREEMENT_PER_TYPE * N_TYPES), METRIC_SEED)

    def palette_share(self, samples: np.ndarray) -> float:
        return float(in_palette(samples).mean())

    def accessories_found(self, generator: PunkGenerator, per_accessory: int) -> dict:
        """For each checked accessory, the share of samples asking for it where it is found."""
        found = {}
        noise = self.noise[:per_accessory]
        for punk_type, names in CHECKED_ACCESSORIES.items():
            for name in names:
                asked = generator.requests([punk_type] * len(noise), [name], METRIC_SEED)
                samples = generator.decode(noise, asked)
                found[name] = float((self.classifier.predict_proba(samples)[name] >= 0.5).mean())
        return found

    def __call__(
        self,
        generator: PunkGenerator,
        per_type: int = AGREEMENT_PER_TYPE,
        per_accessory: int = ACCESSORY_SAMPLES,
    ) -> dict:
        row = {}
        noise = self.noise[:per_type]
        for punk_type in TYPES:
            samples = generator.decode(
                noise, generator.requests([punk_type] * per_type, (), METRIC_SEED)
            )
            chosen = self.classifier.predict_proba(samples)[list(TYPES)].idxmax(axis=1)
            row[f"agree_{punk_type.lower()}"] = float((chosen == punk_type).mean())
        found = self.accessories_found(generator, per_accessory)
        row["accessories_found"] = float(np.mean(list(found.values())))
        n = len(self.reference_types)
        asked = generator.requests(self.reference_types, (), METRIC_SEED)
        samples = generator.decode(self.noise[:n], asked)
        row["fid"] = frechet_distance(self.classifier.features(samples), self.reference_features)
        row["real_fid"] = self.real_fid
        row["fid_ratio"] = row["fid"] / self.real_fid
        row["palette_share"] = self.palette_share(samples)
        row.update(self.train.memorisation(samples))
        return row


def selection_score(row: dict) -> float:
    """Lower is better: the FID ratio, plus a penalty for every point of type agreement
    under 100 % (worst type) or of accessories asked for and not found, and a ten times
    larger one for every point of copies of training punks above the 1 % allowed."""
    worst_type = min(row[f"agree_{t.lower()}"] for t in TYPES)
    copies = 100 * max(0.0, row["copies"] - COPIES_ALLOWED)
    return row["fid_ratio"] + 10 * (1 - worst_type) + 10 * (1 - row["accessories_found"]) + copies
