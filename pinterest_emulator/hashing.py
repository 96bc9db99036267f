"""Stable hashing helpers: every "random" choice in the emulator derives from these.

Python's built-in hash() is salted per process, so we use blake2b to keep data
and fault decisions identical across runs and threads.
"""

import hashlib
import random


def digest(*parts: object) -> bytes:
    """32 stable bytes for any tuple of printable parts."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


def stable_int(*parts: object) -> int:
    """A stable 64-bit integer for the given parts."""
    return int.from_bytes(digest(*parts)[:8], "big")


def unit(*parts: object) -> float:
    """A stable float in [0, 1) for the given parts."""
    return stable_int(*parts) / 2**64


def rng(*parts: object) -> random.Random:
    """A Random seeded from the parts, for building one record's details."""
    return random.Random(stable_int(*parts))
