"""Bearer tokens: HS256 JWTs carrying ``sub`` and ``role``, checked once and then remembered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

import attrs
import jwt

from cinema_core.kernel.times import LATEST
from cinema_core.kernel.users import MAX_USER_ID, user_id_problem

from .errors import Unauthorized

Role = Literal["customer", "staff", "admin"]
ROLES: tuple[Role, ...] = ("customer", "staff", "admin")
MAX_SUB = MAX_USER_ID
_CACHE_SIZE = 10_000
MAX_EXP = int(LATEST.timestamp())


@attrs.frozen
class Identity:
    """Who is calling: the token's subject and role."""

    user_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        """Works at the cinema (the door, the reports): staff, or an admin, who may do all
        that staff may."""
        return self.role in ("staff", "admin")


def issue_token(
    secret: str, user_id: str, role: Role = "customer", ttl: float | None = None
) -> str:
    """A signed token for ``user_id``; with ``ttl`` it lapses that many seconds from now."""
    problem = user_id_problem(user_id)
    if problem is not None:
        raise ValueError(f"the user id {problem}")
    if role not in ROLES:
        raise ValueError(f"the role must be one of {', '.join(ROLES)}")
    claims: dict[str, object] = {"sub": user_id, "role": role, "iat": int(time.time())}
    if ttl is not None:
        claims["exp"] = int(time.time() + ttl)
    return jwt.encode(claims, secret, algorithm="HS256")


class Authenticator:
    """Checks bearer tokens against one secret.

    Verifying a signature costs more than the rest of a cheap request, and clients send the same
    token again and again, so verified tokens are remembered (keyed by the whole token string,
    whose signature was checked) until their ``exp``. The cache is bounded and simply cleared
    when full.
    """

    def __init__(self, secret: str, now: Callable[[], float] = time.time):
        self._secret = secret
        self._now = now
        self._known: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()

    def identify(self, authorization: str | None) -> Identity:
        """The caller named by an ``Authorization`` header value, or ``Unauthorized``."""
        if not authorization:
            raise Unauthorized("An Authorization: Bearer <token> header is needed.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        known = self._known.get(token)
        if known is not None:
            identity, expires = known
            if self._now() < expires:
                return identity
            raise Unauthorized("The token has expired.")
        identity, expires = self._verify(token)
        with self._lock:
            if len(self._known) >= _CACHE_SIZE:
                self._known.clear()
            self._known[token] = (identity, expires)
        return identity

    def _verify(self, token: str) -> tuple[Identity, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"require": ["sub", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise Unauthorized("The token is malformed or not signed by this box office.") from None
        sub, role, exp = claims.get("sub"), claims.get("role"), claims.get("exp")
        # The same rule the box office holds user ids to: a sub no store could keep (a NUL, a
        # control character, a lone surrogate) is refused here, before it reaches one.
        if not isinstance(sub, str) or user_id_problem(sub) is not None:
            raise Unauthorized(f"The token's sub must be 1 to {MAX_SUB} printable characters.")
        if role not in ROLES:
            raise Unauthorized("The token's role must be customer, staff or admin.")
        if exp is None:
            return Identity(sub, role), float("inf")
        # PyJWT checked that exp reads as an integer not yet past; one past year 9000 (a
        # 400-digit exp) is refused rather than read as a float, which overflowed (a 500).
        # Compared before any conversion: float() of a 400-digit int overflows too.
        if type(exp) not in (int, float) or not exp < MAX_EXP:
            raise Unauthorized("The token's exp must be a time before year 9000.")
        return Identity(sub, role), float(exp)
