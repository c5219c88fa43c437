"""The ``WebhookSender`` port on httpx: one pooled client, every send bounded.

Redirects are never followed: a receiver's 3xx is an answer like any other non-2xx (retried),
so a registered URL cannot bounce the worker to an address an admin never saw.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from cinema_core.webhooks.deliveries import Outcome

if TYPE_CHECKING:
    import httpx


class HttpWebhookSender:
    """POSTs with ``timeout`` seconds for each of connecting, writing the body, and each read of
    the answer (httpx's timeouts are per operation). httpx is loaded, and the client built, on
    the first send: a process that never sends a webhook never pays for either."""

    def __init__(self, timeout: float = 5.0):
        self.timeout = timeout
        self._client: httpx.Client | None = None
        self._mutex = threading.Lock()

    def _http(self) -> httpx.Client:
        with self._mutex:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout),
                    follow_redirects=False,
                    # No environment proxies: an operator's proxy variables are for other
                    # traffic, and a proxy would hide the receiver's own answer.
                    trust_env=False,
                )
            return self._client

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        import httpx

        client = self._http()
        try:
            # Streamed and closed unread: a receiver's answer body is never waited for.
            with client.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
        except httpx.TimeoutException:
            return Outcome(error=f"timed out after {self.timeout:g} s")
        except httpx.HTTPError as error:
            text = str(error)
            return Outcome(
                error=f"{type(error).__name__}: {text}" if text else type(error).__name__
            )
        except ValueError as error:
            # A URL httpx cannot use after all (it was checked at registration).
            return Outcome(error=f"bad URL: {error}")
        return Outcome(status=status)

    def close(self) -> None:
        with self._mutex:
            if self._client is not None:
                self._client.close()
                self._client = None
