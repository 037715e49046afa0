"""Model files: the embedded default model (later: catalog, downloads, library)."""
