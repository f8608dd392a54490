"""The feeds service's migrations: its own tables only (it keeps no read model of other
services' events)."""

READ_MODELS: tuple[str, ...] = ()
