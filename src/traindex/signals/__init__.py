"""Machine-readable "do not train" signals: one checker per signal, one combined verdict."""
