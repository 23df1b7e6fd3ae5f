"""The Instagram API with Instagram Login, emulated over a SandboxWorld.

`InstagramOAuth` serves the login hosts (www.instagram.com, api.instagram.com) and token
renewal; `InstagramGraph` serves graph.instagram.com and hands token renewal to it.
"""

from sandbox.instagram.graph import InstagramGraph
from sandbox.instagram.oauth import InstagramOAuth

__all__ = ["InstagramGraph", "InstagramOAuth"]
