"""`Annotated` dependency aliases for the control-plane routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from ..runtime import Runtime, runtime

__all__ = ["RuntimeDep"]

RuntimeDep = Annotated[Runtime, Depends(runtime)]
