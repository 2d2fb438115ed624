"""traindex: find out what is in an AI training set, prove it, and opt out."""

__all__ = ["__version__"]

__version__ = "0.1.0"
