"""The HTTP client of webhook sinks: one kept-alive HTTP/1.1 connection per sink, h11 for
the protocol on asyncio's streams (TLS for https destinations, verified against the system's
CA certificates, or SSL_CERT_FILE).

Why not httpx, which make-http-request uses: a delivery runs on the event loop that serves
the API, and httpx (with httpcore and anyio) spends about 0.6 ms of CPU on one POST of a
batch; this costs about a third of that, which is most of what a subscribed sink costs the
API under load (benchmark `events`, benchmarks/README.md). A sink's worker sends one request
at a time, so a connection needs no pool."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

__all__ = ["WebhookClient", "WebhookError"]

_READ_CHUNK = 65_536
_MAX_RESPONSE = 1_048_576  # bytes of a sink's response read before the connection is dropped


class WebhookError(Exception):
    """The request got no HTTP response: the text says why (`timeout`, or the error)."""


@dataclass(frozen=True, slots=True)
class _Origin:
    scheme: str
    host: str
    port: int


class _Connection:
    def __init__(self, origin: _Origin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=_READ_CHUNK)
        self.used = False  # has answered a request: it may have been closed since, while idle

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class WebhookClient:
    """Requests to a sink's destinations, one at a time."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._connection: _Connection | None = None
        self._tls: ssl.SSLContext | None = None

    async def request(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: list[tuple[str, str]],
        credentials: tuple[str, str] | None = None,
    ) -> int:
        """The response's status. Raises WebhookError when there is none (the connection is
        then dropped). A kept-alive connection the sink closed while idle is retried once on a
        new one, as HTTP clients do."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise WebhookError(f"unsupported destination {url[:200]!r}")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise WebhookError(f"bad destination port: {exc}") from None
        origin = _Origin(scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]
        fields = [("Host", host), *headers, ("Content-Length", str(len(body)))]
        if credentials is not None:
            token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
            fields.append(("Authorization", f"Basic {token}"))
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(origin, method, target, fields, body)
        except TimeoutError:
            self._drop()
            raise WebhookError("timeout") from None

    async def _exchange(
        self, origin: _Origin, method: str, target: str, fields: list[tuple[str, str]], body: bytes
    ) -> int:
        for _ in range(2):
            connection = await self._connect(origin)
            reused = connection.used
            try:
                status = await self._send(connection, method, target, fields, body)
            except (OSError, EOFError, h11.ProtocolError) as exc:
                self._drop()
                if reused and isinstance(exc, ConnectionError | EOFError):
                    continue  # closed by the sink while idle: once more, on a new connection
                raise WebhookError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
            return status
        raise WebhookError("ConnectionError: the sink closed the connection twice")

    async def _connect(self, origin: _Origin) -> _Connection:
        connection = self._connection
        if connection is not None and connection.origin == origin:
            return connection
        self._drop()
        tls = None
        if origin.scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        try:
            reader, writer = await asyncio.open_connection(origin.host, origin.port, ssl=tls, limit=_READ_CHUNK)
        except (OSError, ssl.SSLError, ValueError) as exc:  # ValueError: a host IDNA cannot encode
            raise WebhookError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        self._connection = _Connection(origin, reader, writer)
        return self._connection

    async def _send(
        self, connection: _Connection, method: str, target: str, fields: list[tuple[str, str]], body: bytes
    ) -> int:
        protocol, writer, reader = connection.protocol, connection.writer, connection.reader
        writer.write(protocol.send(h11.Request(method=method, target=target, headers=fields)) or b"")
        for chunk in protocol.send_with_data_passthrough(h11.Data(data=body)) or ():
            writer.write(chunk)  # the body as it is, not copied into one buffer with the head
        writer.write(protocol.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        status = 0
        received = 0
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(_READ_CHUNK)
                if not data and status == 0:
                    raise EOFError("the sink closed the connection without answering")
                received += len(data)
                if received > _MAX_RESPONSE:
                    raise h11.RemoteProtocolError("response over 1 MiB")
                protocol.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise EOFError("the sink closed the connection mid-response")
        connection.used = True
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
        else:  # `Connection: close`, or HTTP/1.0
            self._drop()
        return status

    def close(self) -> None:
        """Drop the connection now (a reset); aclose also waits for it to close."""
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
            with contextlib.suppress(Exception):
                await connection.writer.wait_closed()
