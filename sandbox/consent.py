"""The creator's side of a consent page: log in as one sandbox account and click "allow".

`analisa demo` and the tests hand this to the OAuth connect flow as the person in front of the
browser; it returns the URL the platform redirected the browser to, as a person would paste it.
"""

from __future__ import annotations

import httpx


class ConsentError(RuntimeError):
    pass


def approve(http: httpx.Client, consent_url: str, login_as: str) -> str:
    """Open the consent URL logged in as `login_as`, allow, and return where it redirects."""
    # Added to the URL itself: httpx's `params` would replace the authorize URL's query.
    url = httpx.URL(consent_url).copy_add_param("login_as", login_as)
    response = http.get(url, follow_redirects=False)
    location = response.headers.get("location", "")
    if response.status_code not in (301, 302, 303, 307) or not location:
        raise ConsentError(f"the consent page did not redirect: {response.text}")
    return location


def sandbox_accounts(http: httpx.Client, base_url: str) -> dict[str, list[dict]]:
    """The accounts the sandbox holds, by platform: [{"id", "username"}, ...]."""
    response = http.get(f"{base_url.rstrip('/')}/_sandbox/accounts")
    response.raise_for_status()
    return response.json()
