"""Demo program export generator with planted, documented effects (see docs/demo-data.md)."""

from models.demo.generator import generate

__all__ = ["generate"]
