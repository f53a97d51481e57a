"""Authentication strategies: an account API key, or a Wix app's client-credentials OAuth token.

A strategy only produces headers; the client sends the requests (including the token request), so the
retry, timeout and error handling is the same everywhere. ``repr()`` of a strategy never shows a secret.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_wix.client.errors import WixInvalidRequestError, WixServerError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["ApiKeyAuth", "Auth", "OAuthAppAuth", "TokenRequester"]

TOKEN_PATH = "/oauth2/token"


class TokenRequester(Protocol):
    """What an auth strategy needs from the client: POST a JSON body, get the decoded JSON object back."""

    def __call__(self, path: str, body: Mapping[str, Any], *, method: str) -> Mapping[str, Any]: ...


class Auth(Protocol):
    """An authentication strategy the client can use."""

    #: What to check when Wix answers 401 to a request made with this strategy.
    unauthorized_hint: str

    def headers(self, request_token: TokenRequester) -> dict[str, str]:
        """Headers to add to a Wix API request (may mint a token through ``request_token``)."""
        ...

    def refresh_on_unauthorized(self, sent: Mapping[str, str]) -> bool:
        """Forget the credential rejected in ``sent``; return True when re-sending could succeed."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this strategy holds, for redaction."""
        ...


class TokenStore(Protocol):
    """Somewhere several processes share an app token, so each expiry window mints one token.

    ``expires_at`` is wall-clock epoch seconds. Implementations must not raise: a store that cannot
    be reached just means this process mints its own token.
    """

    def load(self) -> tuple[str, float] | None: ...

    def save(self, token: str, expires_at: float) -> None: ...

    def discard(self, token: str) -> None: ...


def _require(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WixInvalidRequestError(f"{name} is required")
    return value.strip()


class ApiKeyAuth:
    """``Authorization: <API key>`` plus exactly one context header, ``wix-site-id`` or ``wix-account-id``.

    External Calendars is a site-level API, so a site id is what you normally want.
    """

    unauthorized_hint = (
        "Check the API key (the Airflow connection password): it must come from the site owner's account "
        "and carry the Manage External Calendars permission; and check the site id."
    )

    def __init__(self, api_key: str, *, site_id: str | None = None, account_id: str | None = None) -> None:
        self._api_key = _require(api_key, "The Wix API key")
        site = site_id.strip() if site_id else None
        account = account_id.strip() if account_id else None
        if bool(site) == bool(account):
            raise WixInvalidRequestError(
                "An API key needs exactly one of site_id (wix-site-id, for site-level APIs such as "
                "External Calendars) or account_id (wix-account-id)" + (", not both" if site else "")
            )
        self.site_id = site
        self.account_id = account

    def headers(self, request_token: TokenRequester) -> dict[str, str]:
        headers = {"Authorization": self._api_key}
        if self.site_id:
            headers["wix-site-id"] = self.site_id
        else:
            headers["wix-account-id"] = str(self.account_id)
        return headers

    def refresh_on_unauthorized(self, sent: Mapping[str, str]) -> bool:
        return False  # a key does not expire; re-sending it cannot help

    def secrets(self) -> tuple[str, ...]:
        return (self._api_key,)

    def __repr__(self) -> str:
        context = f"site_id={self.site_id!r}" if self.site_id else f"account_id={self.account_id!r}"
        return f"ApiKeyAuth(api_key=***, {context})"


class OAuthAppAuth:
    """A Wix app's access token from ``POST /oauth2/token`` (grant ``client_credentials``).

    The token is cached until ``refresh_margin`` before ``expires_in`` ends and shared by every thread
    using this object; a lock makes sure only one request mints it per expiry window. ``on_token`` is
    called with each new token (the Airflow hook registers it with the secret masker).
    """

    unauthorized_hint = (
        "Wix rejected the app's access token even after a fresh one was minted: check that the app has "
        "the Manage External Calendars permission and is still installed on the site (instance id)."
    )

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        instance_id: str,
        *,
        on_token: Callable[[str], None] | None = None,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        token_store: TokenStore | None = None,
    ) -> None:
        self.client_id = _require(client_id, "The Wix app client_id")
        self._client_secret = _require(client_secret, "The Wix app client_secret")
        self.instance_id = _require(instance_id, "The Wix app instance_id")
        self._on_token = on_token
        self._token_store = token_store
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._recent_tokens: deque[str] = deque(maxlen=4)  # still redacted after a refresh
        self.tokens_minted = 0

    def _valid_token(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    def token(self, request_token: TokenRequester) -> str:
        """The cached token, minting a new one (once, under the lock) when it is missing or expiring."""
        token = self._valid_token()
        if token is not None:
            return token
        with self._lock:
            token = self._valid_token()  # another thread may have minted it while we waited
            if token is not None:
                return token
            return self._adopt_stored() or self._mint(request_token)

    def _adopt_stored(self) -> str | None:
        """Use a still-valid token another process minted and left in the token store."""
        stored = self._token_store.load() if self._token_store is not None else None
        if stored is None:
            return None
        token, expires_at = stored
        remaining = expires_at - time.time()
        if not token or remaining <= 0:
            return None
        if self._on_token is not None:
            self._on_token(token)
        self._token = token
        self._recent_tokens.append(token)
        self._expires_at = self._clock() + remaining
        return token

    def _mint(self, request_token: TokenRequester) -> str:
        started = self._clock()
        payload = request_token(
            TOKEN_PATH,
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
                "instance_id": self.instance_id,
            },
            method="create_access_token",
        )
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise WixServerError(
                "Wix create_access_token failed: the /oauth2/token response has no access_token. "
                "Retry later; check that the API base URL points at Wix.",
                method="create_access_token",
            )
        if self._on_token is not None:
            self._on_token(token)  # mask before anything could log it
        try:
            lifetime = float(payload.get("expires_in", 14400))
        except (TypeError, ValueError):
            lifetime = 14400.0
        # Keep a margin (at most a tenth of the lifetime for short-lived tokens) so a token never
        # expires between being read here and being checked by Wix.
        margin = min(self._refresh_margin, lifetime / 10)
        self._token = token
        self._recent_tokens.append(token)
        self._expires_at = started + max(lifetime - margin, 0.0)
        self.tokens_minted += 1
        if self._token_store is not None:
            self._token_store.save(token, time.time() + (self._expires_at - self._clock()))
        return token

    def headers(self, request_token: TokenRequester) -> dict[str, str]:
        # The official SDK sends the raw token, without a "Bearer " prefix.
        return {"Authorization": self.token(request_token)}

    def refresh_on_unauthorized(self, sent: Mapping[str, str]) -> bool:
        with self._lock:
            # Only drop the token that was rejected: with many threads, the first 401 forgets it and
            # the others find the fresh one, so a burst of 401s still mints a single new token.
            if self._token is not None and sent.get("Authorization") == self._token:
                if self._token_store is not None:
                    self._token_store.discard(self._token)
                self._token = None
                self._expires_at = 0.0
        return True

    def secrets(self) -> tuple[str, ...]:
        return (self._client_secret, *self._recent_tokens)

    def __repr__(self) -> str:
        return f"OAuthAppAuth(client_id={self.client_id!r}, client_secret=***, instance_id={self.instance_id!r})"
