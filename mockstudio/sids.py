"""Twilio SIDs: a two-letter prefix and 32 lowercase hex digits (§A.4)."""

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
    """Unpredictable SIDs, as Twilio mints them: a generator seeded from the OS once
    (an `os.urandom` call per SID costs a system call on the engine's hot path)."""

    def __init__(self) -> None:
        self._bits = random.Random(os.urandom(32)).getrandbits

    def new(self, prefix: str) -> str:
        return f"{prefix}{self._bits(128):032x}"


class SeededSids:
    """Deterministic SIDs for tests."""

    def __init__(self, seed: int = 0) -> None:
        self._random = random.Random(seed)

    def new(self, prefix: str) -> str:
        return prefix + f"{self._random.getrandbits(128):032x}"
