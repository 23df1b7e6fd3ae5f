"""A local emulator of the Instagram Graph and TikTok v2 APIs, deterministic from a seed.

The platforms are unreachable from tests and need credentials; this sandbox follows their
documented contracts so the connectors and the whole pipeline can run end to end.
"""

from sandbox.server import SandboxServer
from sandbox.world import SandboxConfig, SandboxWorld

__all__ = ["SandboxConfig", "SandboxServer", "SandboxWorld"]
