"""The error a state file that cannot be used raises (kept apart: the CLI imports it
without loading SQLite)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["StateFileError"]


class StateFileError(Exception):
    """A state file that cannot be used. The message names the file; the file is left as
    it was."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"state file {path}: {problem}")
        self.path = path
