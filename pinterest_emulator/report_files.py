"""Report files as the storage host holds them: a size and byte ranges read in chunks."""

CHUNK = 64 * 1024


class MemoryFile:
    """A small file held as bytes."""

    def __init__(self, content: bytes):
        self.content = content
        self.size = len(content)

    def chunks(self, start: int, stop: int):
        for offset in range(start, stop, CHUNK):
            yield self.content[offset : min(offset + CHUNK, stop)]

    def delete(self) -> None:
        self.content = b""
