"""Which network targets a webhook may reach: public addresses, plus what operators allow.

A webhook URL is chosen by an admin but fetched by the worker from inside the network, so a
target on loopback, a private range, link-local (cloud metadata at 169.254.169.254) and the
like would let a chain read or poke internal services (SSRF). The same rules run twice: on the
URL's host when a chain is saved (no DNS), and on every address the host resolves to when the
worker connects (DNS rebinding). On-premise receivers are let through by an `AllowList`.

Pure: parsing and classification only, no resolution.
"""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance metadata services reachable from cloud VMs; the first two are also link-local, but
# naming them makes the refusal clear. 168.63.129.16 (Azure) and 100.100.100.200 (Alibaba)
# are not in any special-purpose range.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "168.63.129.16",
        "100.100.100.200",
        "fd00:ec2::254",
    )
)
METADATA_NAMES = frozenset({"metadata", "metadata.google.internal", "metadata.goog"})

_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")


def _ipv4_number(part: str) -> int | None:
    if not _PART.match(part):
        return None
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)
    return int(part)


def _loose_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` read as inet_aton reads it: 1 to 4 dot-separated parts, each decimal, octal
    (leading 0) or hex (0x), the last filling the remaining bytes (`127.1`, `0x7f000001`,
    `2130706433`, `0177.0.0.1`). None when it is not such a number."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 0xFF for n in head) or last >= 1 << (8 * (5 - len(values))):
        return None
    value = last
    for i, n in enumerate(head):
        value |= n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def parse_ip(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver would accept as a literal: dotted,
    integer, hex or octal IPv4; IPv6 with or without brackets, zone id or embedded IPv4.
    None for a name."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        address, _, _zone = text.partition("%")
        try:
            return ipaddress.IPv6Address(address)
        except ValueError:
            return None
    text = text.removesuffix(".")
    if not text:
        return None
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        return _loose_ipv4(text)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to the same host (mapped, NAT64, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_refusal(address: IPAddress) -> str | None:
    """Why a webhook may not reach `address` (`loopback`, `private`, `link-local`, `multicast`,
    `unspecified`, `cloud metadata`, `shared address space`, `reserved`); None when it is a
    public unicast address. IPv6 forms that carry an IPv4 address are judged by that one."""
    if isinstance(address, ipaddress.IPv6Address):
        address = ipaddress.IPv6Address(int(address))  # drops a zone id
        inner = _embedded_ipv4(address)
        if inner is not None:
            return address_refusal(inner)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address in n for n in _PRIVATE):
        return "private"
    if address in _SHARED:
        return "shared address space"
    if address.is_reserved or address.is_private or not address.is_global:
        return "reserved"
    return None


def _name(host: str) -> str:
    return host.strip().lower().removesuffix(".")


@dataclass(frozen=True)
class AllowList:
    """Targets operators let webhooks reach although they are not public: exact host names,
    `*.suffix` names, and addresses or networks (`10.1.2.3`, `10.0.0.0/8`, `fd00::/8`)."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> "AllowList":
        """Raises ValueError naming the first entry that is neither a name nor a network."""
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            if entry.startswith("*."):
                suffixes.append("." + _name(entry[2:]))
                continue
            address = parse_ip(entry) if "/" not in entry else None
            if address is not None:
                networks.append(ipaddress.ip_network(address))
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or not re.fullmatch(r"[A-Za-z0-9._-]+", entry):
                raise ValueError(f"{entry!r} is neither a host name nor an address or network")
            names.add(_name(entry))
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def allows_name(self, host: str) -> bool:
        name = _name(host)
        return name in self.names or any(name.endswith(s) for s in self.suffixes)

    def allows_address(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address):
            address = ipaddress.IPv6Address(int(address))  # drops a zone id
            inner = _embedded_ipv4(address)
            if inner is not None and self.allows_address(inner):
                return True
        return any(address.version == n.version and address in n for n in self.networks)


NO_EXCEPTIONS = AllowList()


def host_refusal(host: str, allowed: AllowList = NO_EXCEPTIONS) -> str | None:
    """Why a webhook URL with this host may not be saved, judged without DNS: an address
    literal by `address_refusal`, the `localhost` names (RFC 6761) as loopback, metadata
    service names; None otherwise (a name is checked again on every connect)."""
    if allowed.allows_name(host):
        return None
    address = parse_ip(host)
    if address is not None:
        return None if allowed.allows_address(address) else address_refusal(address)
    name = _name(host)
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    if name in METADATA_NAMES:
        return "cloud metadata"
    return None
