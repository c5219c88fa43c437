"""Admission tokens: what the queue hands an admitted buyer, and the reservation route checks.

A token is ``<claims>.<signature>``, both base64url: the claims are the session, the user, the
queue ticket (whose random half is the token's nonce: every join draws a new one) and the
expiry in whole seconds; the signature is an HMAC-SHA256 of the claims under a key derived from
the API's secret, so that a JWT can never pass for an admission or the other way round. The
same admission always yields the same token, so a buyer polling again gets the one it has.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from uuid import UUID

import attrs

from cinema_core.errors import AdmissionInvalid

_PURPOSE = b"cinema waiting room admission v1"


def admission_key(secret: str) -> bytes:
    """The signing key of admissions, derived from the API's token secret."""
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


@attrs.frozen
class AdmissionClaims:
    session_id: UUID
    user_id: str
    ticket: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@attrs.frozen
class AdmissionTokens:
    """Signs and reads admission tokens with one key."""

    key: bytes = attrs.field(repr=False)

    def sign(self, claims: AdmissionClaims) -> str:
        body = json.dumps(
            {
                "s": str(claims.session_id),
                "u": claims.user_id,
                "t": claims.ticket,
                "e": math.ceil(claims.expires_at.timestamp()),
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        head = _b64(body)
        return f"{head}.{_b64(self._mac(head))}"

    def read(self, token: str) -> AdmissionClaims:
        """The claims of a token this key signed, or ``AdmissionInvalid``: expiry is not
        judged here."""
        head, dot, signature = token.partition(".")
        if not dot or len(token) > 1024:
            raise AdmissionInvalid()
        try:
            given = _unb64(signature)
            if not hmac.compare_digest(given, self._mac(head)):
                raise AdmissionInvalid()
            claims = json.loads(_unb64(head))
            return AdmissionClaims(
                UUID(claims["s"]),
                str(claims["u"]),
                str(claims["t"]),
                datetime.fromtimestamp(int(claims["e"]), UTC),
            )
        except (ValueError, KeyError, TypeError, binascii.Error, OverflowError):
            raise AdmissionInvalid() from None

    def _mac(self, head: str) -> bytes:
        return hmac.new(self.key, head.encode("ascii", "replace"), hashlib.sha256).digest()
