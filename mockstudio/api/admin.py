"""The control plane's optional token (`MOCKSTUDIO_ADMIN_TOKEN`).

Unset (the default), `/_mockstudio/*` is open: fine for local use, as the server listens
on 127.0.0.1 unless told otherwise. Set, every control-plane route but
`/_mockstudio/health` requires the token, in `X-Mockstudio-Admin-Token: <token>` or
`Authorization: Bearer <token>`, compared in constant time. The control plane picks the
account it acts on from HTTP Basic credentials in `Authorization` (the default account
without them), so a request for another account sends the token in
`X-Mockstudio-Admin-Token` and the account's credentials in `Authorization: Basic`.

Whatever the token, a browser page of another site cannot change state through the
control plane (cross-site request forgery): a request that is not a GET, HEAD or OPTIONS
and that a browser marks as coming from another origin (`Sec-Fetch-Site: cross-site` or
`same-site`, or an `Origin` that is not the request's own host) is refused with 403.
Clients that are not browsers (SDKs, curl, test code) send neither header."""

from __future__ import annotations

import hmac
from typing import ClassVar
from urllib.parse import urlsplit

from starlette.requests import Request

from ..errors import TwilioError
from .runtime import runtime

__all__ = [
    "ADMIN_TOKEN_HEADER",
    "AdminTokenRequired",
    "CrossSiteRequestRefused",
    "admin_token_of",
    "refuse_cross_site",
    "require_admin_token",
]

ADMIN_TOKEN_HEADER = b"x-mockstudio-admin-token"


class AdminTokenRequired(TwilioError):
    """401/20003 in Twilio's shape, like every other error of the server."""

    status = 401
    code = 20003
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="mockstudio control plane"'}

    def __init__(self) -> None:
        super().__init__(
            "Authenticate: this control plane requires the admin token "
            "(X-Mockstudio-Admin-Token: <token>, or Authorization: Bearer <token>)"
        )


def admin_token_of(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The token a request carries: X-Mockstudio-Admin-Token first, else a Bearer
    Authorization."""
    bearer = None
    for name, value in headers:
        if name == ADMIN_TOKEN_HEADER:
            return value.strip()
        if name == b"authorization":
            scheme, _, rest = value.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                bearer = rest.strip()
    return bearer


def require_admin_token(request: Request) -> None:
    """A dependency of every control-plane route except health."""
    expected = runtime(request).admin_token
    if expected is None:
        return
    provided = admin_token_of(request.scope["headers"])
    # compare_digest takes time independent of where the values differ (its length
    # check aside, which only tells the token's length).
    if provided is None or not hmac.compare_digest(provided, expected.encode()):
        raise AdminTokenRequired()


class CrossSiteRequestRefused(TwilioError):
    status = 403
    code = 20403

    def __init__(self) -> None:
        super().__init__("Forbidden: the control plane does not accept state changes from another site's page")


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_cross_site(request: Request) -> None:
    """A dependency of the control plane: refuses state changes a browser sent from
    another origin (see the module's docstring). Browsers set `Sec-Fetch-Site` and
    `Origin` themselves; a page cannot forge them."""
    if request.method in _SAFE_METHODS:
        return
    site = origin = host = None
    for name, value in request.scope["headers"]:
        if name == b"sec-fetch-site":
            site = value.decode("latin-1").strip().lower()
        elif name == b"origin":
            origin = value.decode("latin-1").strip()
        elif name == b"host":
            host = value.decode("latin-1").strip().lower()
    if site in ("cross-site", "same-site"):
        raise CrossSiteRequestRefused()
    # `Origin: null` (sandboxed frames, some redirects) is another origin too.
    if origin is not None and site != "same-origin" and (origin == "null" or _authority(origin) != _host(host)):
        raise CrossSiteRequestRefused()


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _authority(origin: str) -> str | None:
    """`http://Example:80` -> `example` (the default port dropped, as a Host header may)."""
    parts = urlsplit(origin)
    netloc = parts.netloc.lower()
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    return (netloc.removesuffix(default) if default else netloc) or None


def _host(host: str | None) -> str | None:
    if host is None:
        return None
    return host.removesuffix(":80").removesuffix(":443") or None
