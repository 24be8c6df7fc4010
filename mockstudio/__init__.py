"""mockstudio: a local, offline, stateful mock of Twilio Studio's v2 REST API."""

__all__ = ["__version__"]

__version__ = "0.1.0"
