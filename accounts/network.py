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


@lru_cache(maxsize=8)
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
