"""Facts the whole project shares: where the assets live, what a punk image is, where OpenSea is.

One home for them, so that a page, a model and a benchmark can never disagree. Module-specific
settings (a model's learning rate, a page's default zoom) stay with the code they tune.
"""

from pathlib import Path

# Where the shipped assets live (the repository's assets/ folder).
ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
DATASET_DIR = ASSETS_DIR / "dataset"
LAYERS_DIR = ASSETS_DIR / "layers"
MODELS_DIR = ASSETS_DIR / "models"
GAN_DIR = ASSETS_DIR / "gan"
SWEEPS_DIR = ASSETS_DIR / "sweeps"

# A punk: 24x24 RGBA pixels, uint8; 10,000 of them.
PUNK_SIZE = 24
IMAGE_SHAPE = (PUNK_SIZE, PUNK_SIZE, 4)
N_PUNKS = 10_000
# The blue behind every punk on the official site.
BACKGROUND_HEX = "#638596"

# OpenSea's API v2 and the environment variable (or Streamlit secret) holding its key.
OPENSEA_API_URL = "https://api.opensea.io"
OPENSEA_KEY_ENV = "OPENSEA_API_KEY"
CRYPTOPUNKS_CONTRACT = "0xb47e3cd837dDF8e4c57F05d70Ab865de6e193BBB"
