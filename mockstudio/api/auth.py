"""HTTP Basic authentication, as Twilio does it
(https://www.twilio.com/docs/usage/requests-to-twilio): Account SID + Auth Token, or API Key
SID + secret, mapped to the account whose state the request sees."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from ..domain.accounts import AccountState
from ..errors import Unauthorized
from .journal import ACCOUNT_KEY
from .runtime import runtime

__all__ = ["authenticate", "decode_basic"]

_CACHE_LIMIT = 1024


def decode_basic(header: bytes) -> tuple[str, str] | None:
    scheme, _, encoded = header.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    username, sep, password = decoded.partition(":")
    if not sep:
        return None
    return username, password


def authenticate(request: Request) -> AccountState:
    """The caller's account, or 401/20003. Headers that authenticated before are cached
    (SDKs send the same one every time); an unknown header always goes through the
    constant-time comparison."""
    rt = runtime(request)
    header: bytes | None = None
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            header = value
            break
    if header is None:
        raise Unauthorized("Authentication Error - No credentials provided")
    account_sid = rt.auth_cache.get(header)
    if account_sid is not None:
        account = rt.studio.accounts.get(account_sid)
        if account is not None:
            request.scope[ACCOUNT_KEY] = account_sid
            return account
    credentials = decode_basic(header)
    account = rt.studio.authenticate(*credentials) if credentials else None
    if account is None:
        raise Unauthorized()
    if len(rt.auth_cache) >= _CACHE_LIMIT:
        rt.auth_cache.clear()
    rt.auth_cache[header] = account.sid
    request.scope[ACCOUNT_KEY] = account.sid
    return account
