"""The surface every platform package offers, so nothing outside it branches on a platform name.

A platform package (`connectors/instagram`, `connectors/tiktok`) exposes one `CONNECTOR`: its
OAuth flow, how to read its answers (classify) and its collection routine. The registry
(`connectors.registry`) finds them by name; the collector, the connect flow and the token
refresh only ever talk to this surface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from analisa.core.settings import Settings
    from connectors.http import ApiProblem
    from connectors.rate_budget import Scope
    from connectors.records import RawRecord
    from connectors.rounds import RoundSession
    from connectors.tokens import AuthorizationRequest, TokenSet


class OAuthFlow(Protocol):
    """What the connect flow and the token refresh need of a platform's OAuth."""

    def authorization_request(self, state: str | None = None) -> AuthorizationRequest: ...

    def connect(self, code: str, code_verifier: str | None = None) -> TokenSet:
        """The authorization code → the token set we keep (Instagram: long-lived)."""
        ...

    def refresh(self, token: TokenSet) -> TokenSet: ...


Classifier = Callable[["RawRecord", "Mapping[str, str] | None"], "ApiProblem | None"]


@dataclass(frozen=True)
class PlatformApp:
    """The settings of one platform's app, and which product to register it for."""

    title: str
    product: str
    id_field: str
    secret_field: str

    @property
    def fields(self) -> tuple[str, str]:
        return (self.id_field, self.secret_field)


@dataclass(frozen=True)
class RateRules:
    """At which level the platform applies its limits (see connectors/rate_budget.py)."""

    scopes: Callable[[str, str, Settings], tuple[Scope, ...]]
    """(endpoint, account id, settings) → the scopes a call must be allowed in."""
    blocks_on: Callable[[ApiProblem, str, str, Settings], str]
    """(throttle problem, account id, endpoint, settings) → the scope the throttle blocks."""
    usage: Callable[[Mapping[str, str], str], dict[str, tuple[int, float | None]]]
    """(answer headers, account id) → {scope: (percent used, seconds until access regained)}."""
    usage_window_seconds: float = 3600.0
    """The window the reported usage percentages are of."""


@dataclass(frozen=True)
class PlatformConnector:
    platform: str
    oauth: Callable[[Settings, httpx.Client], OAuthFlow]
    """The platform's OAuth flow configured from the settings."""
    classify: Classifier
    """None when a record is a usable answer, else the problem, in the common words."""
    collect: Callable[[RoundSession], None]
    """One account's collection round: every call goes through the session (see rounds.py)."""
    app: PlatformApp
    """Which settings hold the platform app's credentials (see `analisa connect`)."""
    rates: RateRules | None = None
    """Its rate limits; None: calls are only counted."""
    collect_public: Callable[[RoundSession], None] | None = None
    """A round for a creator who has not connected (Instagram: Business Discovery through a
    brand's Facebook Login); None where the platform offers no such access (TikTok)."""
