"""facebook.com/dialog/oauth and graph.facebook.com: what Business Discovery needs.

A brand's or agency's person logs in (`login_as` names one of the sandbox's Instagram accounts:
the brand's own professional account, linked to a Facebook Page); the code becomes a
short-lived user token, then a long-lived one (`fb_exchange_token`, about 60 days);
`/me/accounts` lists the page and its `instagram_business_account`; Business Discovery calls
on that account's node read other creators' public data, counted against the app's platform
limit (X-App-Usage), never an account's Business Use Case budget.

A long-lived token still valid can be exchanged again (`fb_exchange_token`) for a new one of
about 60 days; an expired or invalidated one cannot. The app's access to the person's data
ends 90 days after their login whatever the renewals (`data_access_expires_at`), and
`/debug_token` (with the app token `{app-id}|{app-secret}`) tells both dates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from sandbox.auth import AuthFailure, TokenGrant, _random
from sandbox.instagram.discovery import business_discovery
from sandbox.instagram.errors import graph_error, param_error, throttled
from sandbox.instagram.fields import FieldSyntaxError, parse_fields
from sandbox.instagram.usage import UsageMeter
from sandbox.replies import Reply, add_query, bearer, json_reply
from sandbox.world import SandboxWorld

FACEBOOK_SCOPES = (
    "instagram_basic",
    "instagram_manage_insights",
    "pages_show_list",
    "business_management",
)
SHORT_TTL = timedelta(hours=1)
LONG_TTL = timedelta(seconds=5183944)
DATA_ACCESS_TTL = timedelta(days=90)
"""The app's access to a person's data ends 90 days after they last logged in; exchanging
the token again does not move it (only a new login does)."""
_TOKEN_ERRORS = {
    "token_expired": ("Error validating access token: Session has expired", 463),
    "token_revoked": (
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
        460,
    ),
    "data_access_expired": (
        "Error validating access token: data access has expired for this user: they must log "
        "in again.",
        None,
    ),
}
_VERSION = re.compile(r"v\d+\.\d+")


def page_id(account_id: str) -> str:
    """The Facebook Page linked to a sandbox Instagram business account (deterministic)."""
    return "10" + account_id[-13:]


def _oauth_error(message: str, code: int = 100) -> Reply:
    return graph_error(message, code)


def _token_error(failure: AuthFailure) -> Reply:
    """Error 190 with the subcode the platform gives for why the token no longer works."""
    message, subcode = _TOKEN_ERRORS.get(
        failure.reason, ("Invalid OAuth access token - Cannot parse access token", None)
    )
    return graph_error(message, 190, subcode=subcode)


def _epoch(when) -> int:
    return int(when.timestamp()) if when is not None else 0


class FacebookLogin:
    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self.usage = UsageMeter(world)

    @property
    def cfg(self):
        return self.world.config

    def authorize(self, query: Mapping[str, str]) -> Reply:
        """The login dialog, auto-approved for the sandbox-only `login_as` account."""
        w = self.world
        with w.lock:
            if query.get("client_id") != self.cfg.facebook_app_id:
                return _oauth_error("Invalid App ID", 101)
            redirect_uri, state = query.get("redirect_uri"), query.get("state")
            if not redirect_uri or not state:
                return _oauth_error("redirect_uri and state are required")
            scopes = tuple(s for s in query.get("scope", "").split(",") if s)
            unknown = [s for s in scopes if s not in FACEBOOK_SCOPES]
            if unknown:
                return _oauth_error(f"Invalid Scopes: {', '.join(unknown)}")
            account = w.account_by_username("instagram", query.get("login_as", ""))
            if account is None:
                return _oauth_error("Sandbox: login_as must name an Instagram sandbox account")
            grant = w.auth.create_code(
                "facebook",
                account.account_id,
                self.cfg.facebook_app_id,
                redirect_uri,
                scopes,
                None,
                None,
                w.now(),
            )
            location = add_query(redirect_uri, {"code": grant.code, "state": state})
            return Reply(302, "", {"Location": location}, content_type="text/plain")

    def graph(self, path: str, query: Mapping[str, str], authorization: str | None) -> Reply:
        w = self.world
        with w.lock:
            now = w.now()
            parts = [p for p in path.split("/") if p]
            if parts and _VERSION.fullmatch(parts[0]):
                parts = parts[1:]
            if parts == ["oauth", "access_token"]:
                return self.usage.stamp(self._access_token(query), None, now)
            if parts == ["debug_token"]:
                return self.usage.stamp(self._debug_token(query, now), None, now)
            token = query.get("access_token") or bearer(authorization)
            try:
                grant = w.auth.lookup("facebook", token, ("short", "long"), now)
            except AuthFailure as failure:
                return self.usage.stamp(_token_error(failure), None, now)
            if parts == ["me", "accounts"]:
                return self.usage.stamp(self._pages(grant), None, now)
            if len(parts) == 1 and parts[0] == grant.account_id:
                return self._discovery(grant, parts[0], query, now)
            return self.usage.stamp(
                graph_error("Unsupported get request.", 100, subcode=33), None, now
            )

    def _access_token(self, query: Mapping[str, str]) -> Reply:
        w, cfg = self.world, self.cfg
        if query.get("client_id") != cfg.facebook_app_id:
            return _oauth_error("Error validating application. Invalid application ID.", 101)
        if query.get("client_secret") != cfg.facebook_app_secret:
            return _oauth_error("Error validating client secret.", 1)
        now = w.now()
        if query.get("grant_type") == "fb_exchange_token":
            # a short-lived token, or a long-lived one still valid (renewed: a new token of
            # about 60 days; its data access ends when the old one's does)
            try:
                given = w.auth.lookup(
                    "facebook", query.get("fb_exchange_token"), ("short", "long"), now
                )
            except AuthFailure as failure:
                return _token_error(failure)
            grant = self._issue(
                given.account_id, given.scopes, now, True, given.data_access_expires_at
            )
            return json_reply(
                200,
                {"access_token": grant.token, "token_type": "bearer", "expires_in": 5183944},
            )
        try:
            code = w.auth.redeem_code(
                "facebook", query.get("code", ""), query.get("redirect_uri", ""), None, now
            )
        except AuthFailure:
            return _oauth_error("This authorization code has expired or been used.", 100)
        # a login: the app may read the person's data for 90 days from now
        grant = self._issue(code.account_id, code.scopes, now, False, now + DATA_ACCESS_TTL)
        return json_reply(
            200, {"access_token": grant.token, "token_type": "bearer", "expires_in": 3600}
        )

    def _issue(
        self, account_id: str, scopes, now, long_lived: bool, data_access_expires_at=None
    ) -> TokenGrant:
        grant = TokenGrant(
            token=_random("EAAG", 150),
            platform="facebook",
            kind="long" if long_lived else "short",
            account_id=account_id,
            scopes=tuple(scopes),
            issued_at=now,
            expires_at=now + (LONG_TTL if long_lived else SHORT_TTL),
            data_access_expires_at=data_access_expires_at,
        )
        self.world.auth.tokens[grant.token] = grant
        return grant

    def _debug_token(self, query: Mapping[str, str], now) -> Reply:
        """GET /debug_token?input_token=...&access_token={app-id}|{app-secret}: a token's
        validity, expiry and data access expiry (epoch seconds; 0 for "never")."""
        cfg = self.cfg
        if query.get("access_token") != f"{cfg.facebook_app_id}|{cfg.facebook_app_secret}":
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        grant = self.world.auth.tokens.get(query.get("input_token") or "")
        if grant is None or grant.platform != "facebook":
            data: dict = {
                "error": {"code": 190, "message": "Invalid OAuth access token."},
                "is_valid": False,
                "scopes": [],
            }
            return json_reply(200, {"data": data})
        try:
            self.world.auth.lookup("facebook", grant.token, ("short", "long"), now)
            problem = None
        except AuthFailure as failure:
            problem = failure
        data = {
            "app_id": cfg.facebook_app_id,
            "type": "USER",
            "application": "Analisa sandbox",
            "data_access_expires_at": _epoch(grant.data_access_expires_at),
            "expires_at": _epoch(grant.expires_at),
            "is_valid": problem is None,
            "issued_at": _epoch(grant.issued_at),
            "scopes": list(grant.scopes),
            "user_id": grant.account_id,
        }
        if problem is not None:
            message, subcode = _TOKEN_ERRORS[problem.reason]
            data["error"] = {"code": 190, "message": message}
            if subcode is not None:
                data["error"]["subcode"] = subcode
        return json_reply(200, {"data": data})

    def _pages(self, grant: TokenGrant) -> Reply:
        account = self.world.account("instagram", grant.account_id)
        name = account.name if account else "Page"
        page = {
            "id": page_id(grant.account_id),
            "name": name,
            "instagram_business_account": {"id": grant.account_id},
        }
        return json_reply(200, {"data": [page]}, ascii_only=True)

    def _discovery(self, grant: TokenGrant, node: str, query: Mapping[str, str], now) -> Reply:
        try:
            fields = parse_fields(query.get("fields", ""))
        except FieldSyntaxError as exc:
            return self.usage.stamp(param_error(f"Syntax error: {exc}"), None, now)
        discovery = next((f for f in fields if f.name == "business_discovery"), None)
        if discovery is None:
            return self.usage.stamp(param_error("Sandbox: only business_discovery"), None, now)
        fault = self.world.take_fault("instagram", "user", None)
        code = self.usage.charge(True, node, now)  # the platform limit: the app's
        if code is not None:
            reply = throttled(code)
        elif fault == "throttle":
            reply = throttled(4)
            return self.usage.stamp(reply, None, now, forced_pct=100)
        else:
            reply = business_discovery(self.world, node, discovery, fields)
        return self.usage.stamp(reply, None, now)
