"""A faust table as a processor's step uses it, in memory: item access, and its store
(``data``, read by ``chs_events.streams.stored``)."""


class InMemoryTable(dict[bytes, bytes]):
    @property
    def data(self) -> "InMemoryTable":
        return self
