"""Which account a control-plane request acts on.

HTTP Basic credentials (as for the Twilio API) name one; so does the
`X-Mockstudio-Account: <Account SID>` header, which the dashboard sends for the account
picked in it (the control plane already acts on any account by SID, e.g. `reset`, and is
guarded as a whole by the admin token when one is set). Neither: the default account."""

from __future__ import annotations

from starlette.requests import Request

from ..domain.accounts import AccountState
from ..errors import NotFound
from .auth import authenticate
from .runtime import runtime

__all__ = ["ACCOUNT_HEADER", "control_account"]

ACCOUNT_HEADER = b"x-mockstudio-account"


def control_account(request: Request) -> AccountState:
    """The account named by Basic credentials, else by `X-Mockstudio-Account`, else the
    default one. Another scheme in `Authorization` (the admin token as `Bearer`) names
    none; an unknown SID in the header is a 404."""
    named: bytes | None = None
    for name, value in request.scope["headers"]:
        if name == b"authorization" and value.lstrip()[:6].lower() == b"basic ":
            return authenticate(request)
        if name == ACCOUNT_HEADER:
            named = value.strip()
    studio = runtime(request).studio
    if named:
        sid = named.decode("latin-1")
        account = studio.accounts.get(sid)
        if account is None:
            raise NotFound(f"The requested resource /Accounts/{sid[:40]} was not found")
        return account
    return studio.accounts[studio.default_account_sid]
