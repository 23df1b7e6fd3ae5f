"""TikTok Login Kit and Display API v2, emulated over a SandboxWorld.

`TikTokOAuth` serves the consent page and the token endpoint, `TikTokApi` the data endpoints;
both answer through one `TikTokAnswers`, whose log_ids never repeat within a sandbox.
"""

from sandbox.tiktok.answers import TikTokAnswers
from sandbox.tiktok.api import TikTokApi
from sandbox.tiktok.oauth import TikTokOAuth

__all__ = ["TikTokAnswers", "TikTokApi", "TikTokOAuth"]
