"""Punk Lab's library: the CryptoPunks dataset, imaging, baselines, filters and models."""
