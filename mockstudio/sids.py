"""Twilio SIDs: a two-letter prefix and 32 lowercase hex digits (as in the spec's patterns)."""

from __future__ import annotations

import os
import random
import re
from typing import Protocol

__all__ = [
    "ACCOUNT",
    "API_KEY",
    "CONTACT",
    "EXECUTION",
    "FLOW",
    "REQUEST",
    "STEP",
    "RandomSids",
    "SeededSids",
    "SidFactory",
    "is_sid",
]

ACCOUNT = "AC"
API_KEY = "SK"
CONTACT = "FC"
EXECUTION = "FN"
FLOW = "FW"
REQUEST = "RQ"
STEP = "FT"

# The spec's patterns accept either case (`^FN[0-9a-fA-F]{32}$`); Twilio itself mints lowercase.
_SID_RE = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


def is_sid(value: str, prefix: str) -> bool:
    """True when `value` is a well-formed SID with this prefix."""
    return len(value) == 34 and value.startswith(prefix) and _SID_RE.fullmatch(value) is not None


class SidFactory(Protocol):
    def new(self, prefix: str) -> str: ...


class RandomSids:
    """Unpredictable SIDs, as Twilio mints them: from a generator seeded from the OS once
    (an `os.urandom` call per SID costs a system call on the engine's hot path), drawn in
    batches of hex digits that each SID slices (half the cost of formatting one number
    per SID; a flow run mints one per step and message)."""

    _BATCH = 256  # SIDs per batch

    def __init__(self) -> None:
        self._bytes = random.Random(os.urandom(32)).randbytes
        self._digits = ""
        self._at = 0

    def new(self, prefix: str) -> str:
        at = self._at
        if at == len(self._digits):
            self._digits = self._bytes(16 * self._BATCH).hex()
            at = 0
        self._at = at + 32
        return prefix + self._digits[at : at + 32]


class SeededSids:
    """Deterministic SIDs for tests."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def new(self, prefix: str) -> str:
        return prefix + f"{self._random.getrandbits(128):032x}"
