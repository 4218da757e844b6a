"""Who is on the other end of the connection, as the local server saw it.

A function only sees headers, and any header can be sent by a client. So
``firestop serve`` (:mod:`firestop.runtime.serve`) stamps each request with
:data:`PEER_HEADER` = ``<address> <mac>``, where ``mac`` is an HMAC-SHA256 of
the address under a key drawn at random when this process started and never
written anywhere. It removes any copy a client sent first. :func:`peer_address`
believes a stamp only when the MAC checks out, so a client cannot claim to be
loopback, and a request that did not come through ``firestop serve`` in this
process (``func start``, a test calling the function directly without
:func:`stamp_peer`) has no known peer — which the trust gate treats as "not
loopback" (fail closed).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import Mapping

PEER_HEADER = "X-Firestop-Peer"
_KEY = secrets.token_bytes(32)
MAX_ADDRESS_CHARS = 64


def _mac(address: str) -> str:
    return hmac.new(_KEY, address.encode("utf-8"), hashlib.sha256).hexdigest()


def stamp_peer(headers: Mapping[str, str], address: str | None) -> dict[str, str]:
    """A copy of ``headers`` without any client-sent :data:`PEER_HEADER`, stamped with ``address`` (if given)."""
    out = {k: v for k, v in headers.items() if k.lower() != PEER_HEADER.lower()}
    if address:
        address = str(address)[:MAX_ADDRESS_CHARS]
        out[PEER_HEADER] = f"{address} {_mac(address)}"
    return out


def peer_address(headers: Mapping[str, str]) -> str | None:
    """The peer address the local server stamped on ``headers``, or None (no stamp, or a forged one)."""
    value = next((v for k, v in headers.items() if k.lower() == PEER_HEADER.lower()), None)
    if not value or len(value) > MAX_ADDRESS_CHARS + 80:
        return None
    address, _, mac = value.rpartition(" ")
    if not address or not hmac.compare_digest(mac.encode(), _mac(address).encode()):
        return None
    return address


def is_loopback(address: str | None) -> bool:
    """True for ``localhost`` and loopback IPv4/IPv6 addresses (``::ffff:127.0.0.1`` too)."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)
