"""Exceptions the library raises with messages meant for a person."""


class PunksError(Exception):
    """Base class of every error `punks_core` raises on purpose."""


class DatasetError(PunksError, ValueError):
    """The dataset files are missing, unreadable or do not hold the expected pixels."""


class InvalidImageError(PunksError, ValueError):
    """An uploaded file cannot be read as a CryptoPunk."""


class KernelError(PunksError, ValueError):
    """A hand-typed convolution kernel has a cell that is not a usable number."""


class ModelError(PunksError):
    """A trained model file is missing or cannot be loaded; the message says how to rebuild it."""


class OpenSeaError(PunksError):
    """An OpenSea API call failed; the message says what to do about it.

    Attributes:
        status: the HTTP status of the failed answer, or None when there was no usable answer
            (no API key, network error, timeout, a reply that is not the JSON expected).
        headers: the headers of that answer (empty when there was none).
    """

    def __init__(self, message: str, status: int | None = None, headers=None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


class FolderInUseError(PunksError):
    """Another process holds the lock on a folder this one wants to write (a second fetch)."""


class LayerError(PunksError, ValueError):
    """A punk that cannot be painted from layers: unknown base or accessory, a duplicate, an
    accessory with no sprite for that head, or an image no set of layers paints exactly."""


class GeneratorRequestError(PunksError, ValueError):
    """A request the GAN generator cannot serve: an unknown type or accessory, an accessory
    that type never wears, or a count or seed out of range."""


class SweepError(PunksError):
    """A study is missing or its storage cannot be opened."""


class SetupError(PunksError, ValueError):
    """Settings a network cannot be trained with; the message says why in plain words."""
