"""The fraud service's schema (case work); it keeps no read model."""

READ_MODELS: tuple[str, ...] = ()
