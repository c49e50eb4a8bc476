"""Where a request comes from. One answer for the API throttle and the login lockout (django-axes).

The client's address is REMOTE_ADDR, except when REMOTE_ADDR is one of TRUSTED_PROXIES (the TLS proxy
the README prescribes): then it is the last address in X-Forwarded-For that is not itself a trusted
proxy. A header sent by anyone else is ignored, so a client cannot pick the address it is counted under,
and clients behind the proxy are not all counted as the proxy.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=256)  # TRUSTED_PROXIES and the API keys' allow-lists
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(request: HttpRequest) -> str | None:
    """None when the request names no address at all (a request built in code, e.g. by force_login):
    django-axes stores the address in an inet column, which takes no placeholder."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(_ip(remote), networks):
        return remote or None
    hops = [hop for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            break  # a malformed entry: nothing before it can be trusted either
        if not _trusted(address, networks):
            return str(address)
    return remote or None


# --- a key's allow-list (accounts.models.ApiKey.allowed_ips) ------------------------------------------
MAX_ALLOWED_ENTRIES = 50
_SEPARATORS = str.maketrans({",": "\n", ";": "\n", " ": "\n", "\t": "\n", "\r": "\n"})


class AllowListError(ValueError):
    """One entry that is not an address or a network; `suggestion` is the network it probably meant."""

    def __init__(self, entry: str, suggestion: str = "") -> None:
        super().__init__(entry)
        self.entry, self.suggestion = entry, suggestion


def allow_list_parse(text: str) -> list[str]:
    """Comma / newline separated IPv4 or IPv6 addresses and CIDR networks -> their normalized forms, once
    each, in the given order (an address stays an address: `10.0.0.1`, not `10.0.0.1/32`). Raises
    AllowListError at the first bad entry; a network with host bits set (`10.0.0.5/24`) is refused with
    the network it probably meant, rather than widened silently."""
    entries: list[str] = []
    for raw in (text or "").translate(_SEPARATORS).split("\n"):
        entry = raw.strip()
        if not entry:
            continue
        if len(entry) > 64 or not entry.isascii():
            raise AllowListError(entry[:64])
        try:
            value = str(ipaddress.ip_network(entry, strict=True)) if "/" in entry else str(ipaddress.ip_address(entry))
        except ValueError:
            try:
                suggestion = str(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                suggestion = ""
            raise AllowListError(entry, suggestion) from None
        if value not in entries:
            entries.append(value)
    return entries


def address_allowed(address: str | None, allow_list: str) -> bool:
    """Whether the client address may use a key with this stored allow-list (empty = any address).
    An unknown address is refused by a non-empty list; an IPv4-mapped IPv6 address counts as its IPv4."""
    networks = _networks(tuple(allow_list.split()))
    if not networks:
        return True
    ip = _ip(address or "")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip is not None and any(ip in network for network in networks if network.version == ip.version)
