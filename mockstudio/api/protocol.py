"""uvicorn's HTTP/1.1 protocol, answering clients that half-close.

A client may shut down its write side once it has sent a whole request (`shutdown(SHUT_WR)`,
`curl`-like tools, some proxies) and still read the answer: HTTP/1.1 connections are
two-way, and RFC 9112 section 9.6 only asks the server to close after responding. uvicorn's
protocols treat the end of the client's stream as a disconnect: asyncio closes the transport,
the request is marked disconnected, and a route that had not read its body yet (one that
waited for anything first) gets no body and its answer is dropped. Here the end of stream
after a complete request only means "no more requests": the request is served and answered,
then the connection is closed. An end of stream in the middle of a request is a disconnect,
as before."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["HTTP_PROTOCOL"]


def _eof_received(protocol: Any) -> bool | None:
    # (uvicorn's request cycle, as both its protocols keep it; anything else: uvicorn's way)
    cycle = getattr(protocol, "cycle", None)
    if cycle is None or getattr(cycle, "response_complete", True) or getattr(cycle, "more_body", True):
        return None  # idle, or the request is incomplete: close, as uvicorn does
    cycle.keep_alive = False  # close once this response is written
    return True  # keep the transport open to write it


def _protocol() -> type[asyncio.Protocol]:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without httptools uses h11, as its "auto" does
        from uvicorn.protocols.http.h11_impl import H11Protocol

        class HalfCloseH11Protocol(H11Protocol):
            def eof_received(self) -> bool | None:  # type: ignore[override]
                return _eof_received(self)

        return HalfCloseH11Protocol

    class HalfCloseHttpToolsProtocol(HttpToolsProtocol):
        def eof_received(self) -> bool | None:  # type: ignore[override]
            return _eof_received(self)

    return HalfCloseHttpToolsProtocol


HTTP_PROTOCOL: type[asyncio.Protocol] = _protocol()
