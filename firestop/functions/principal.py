"""Moved to :mod:`firestop.trust.principal` (the trust layer is the only place identity is read)."""

from firestop.trust.principal import OID_CLAIMS, Principal, PrincipalError, encode_principal, principal_from_headers  # noqa: F401
