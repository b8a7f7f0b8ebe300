"""Instrument codebooks (YAML beside this file) and their loader."""

from models.instruments.codebook import MFQ9_PATH, Codebook, load_codebook

__all__ = ["MFQ9_PATH", "Codebook", "load_codebook"]
