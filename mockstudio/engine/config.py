"""The engine's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EngineConfig"]


@dataclass(slots=True)
class EngineConfig:
    # Event taken by simulated widgets (voice, Flex, ...) by type; default: their first event.
    default_events: dict[str, str] = field(default_factory=dict)
    message_limit: int = 10_000
    script_limit: int = 1_000  # scripted widgets kept, all accounts together (oldest dropped)
    call_limit: int = 1_000  # call transcripts kept per account (oldest dropped)
