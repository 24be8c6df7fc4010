"""The HTTP layer: the only part of mockstudio that knows FastAPI, Starlette and Twilio's
JSON field names."""

from .app import create_app

__all__ = ["create_app"]
