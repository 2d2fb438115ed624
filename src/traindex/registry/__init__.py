"""Opt-out and consent registry: owners, claims, verification, decisions, snapshots.

Start at ``service.RegistryService``; ``docs/registry.md`` explains the model.
"""
