"""Request letters generated from an evidence report (see ``compose``)."""

from traindex.evidence.letters.compose import KINDS, LANGUAGES, Letter, compose_letter

__all__ = ["KINDS", "LANGUAGES", "Letter", "compose_letter"]
