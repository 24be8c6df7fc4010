"""Routers: Twilio's Studio v2 operations and mockstudio's own control plane."""
