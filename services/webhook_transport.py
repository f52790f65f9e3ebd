"""The HTTP client chain webhooks go out through: it connects only to addresses it checked.

Checking a URL's host when the chain is saved is not enough: a name can resolve to a public
address then and to 127.0.0.1 now (DNS rebinding), or to several addresses at once. So the
connection itself resolves the host, refuses it when any address is not public (and not in
the allow-list), and connects to one of the addresses it checked, never resolving twice.
The URL keeps its host name, so the Host header, TLS SNI and certificate checks use it, and
pooled connections stay keyed by host name. Redirects are not followed (httpx's default) and
environment proxies are not used (they would do their own resolution).
"""

import asyncio
import socket
import ssl
import typing
from collections.abc import Iterable

import httpcore
import httpx

from domain.addresses import NO_EXCEPTIONS, AllowList, IPAddress, address_refusal, parse_ip

# httpcore's own type for socket options.
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class RefusedTarget(Exception):
    """The host is, or resolves to, an address webhooks may not reach."""

    def __init__(self, host: str, address: IPAddress, reason: str) -> None:
        shown = host if parse_ip(host) is not None else f"{host} (resolved to {address})"
        super().__init__(
            f"{shown} is not a public address ({reason}); webhooks reach public hosts only, "
            "unless LEADPIPE_WEBHOOK_ALLOWED_HOSTS lists it"
        )
        self.host = host
        self.address = address
        self.reason = reason


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to for TCP, in the resolver's order, without repeats.
    Raises httpcore.ConnectError when it resolves to nothing."""
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = parse_ip(str(sockaddr[0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolves to no address")
    return addresses


def check(host: str, addresses: Iterable[IPAddress], allowed: AllowList) -> None:
    """Raises RefusedTarget at the first address that is neither public nor allowed."""
    if allowed.allows_name(host):
        return
    for address in addresses:
        reason = address_refusal(address)
        if reason is not None and not allowed.allows_address(address):
            raise RefusedTarget(host, address, reason)


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host of every new connection, then connects to the checked
    addresses in order until one answers."""

    def __init__(self, allowed: AllowList, inner: httpcore.AsyncNetworkBackend) -> None:
        self._allowed = allowed
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        check(host, addresses, self._allowed)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks do not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# httpx's own defaults.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class CheckedTransport(httpx.AsyncHTTPTransport):
    def __init__(
        self,
        allowed: AllowList,
        limits: httpx.Limits = LIMITS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx builds its pool without a way to pass a network backend; this is the pool it
        # would build for these arguments, with the checking backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=CheckedBackend(allowed, httpcore.AnyIOBackend()),
        )


def webhook_client(
    allowed: AllowList = NO_EXCEPTIONS, *, ssl_context: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """A pooled client that reaches public addresses and those `allowed`; each request sets
    its own timeout. Raises RefusedTarget (from a request) for any other target. Servers are
    verified against the system's CAs unless `ssl_context` says otherwise."""
    return httpx.AsyncClient(
        transport=CheckedTransport(allowed, ssl_context=ssl_context),
        trust_env=False,
        follow_redirects=False,
    )
