"""Run the platform sandbox in the foreground: `python -m sandbox --port 8765`."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from sandbox.app import create_app
from sandbox.world import SandboxConfig, SandboxWorld

log = logging.getLogger("sandbox")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--influencers", type=int, default=5, help="influencers per platform")
    parser.add_argument("--posts", type=int, default=40, help="posts per influencer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    world = SandboxWorld(
        SandboxConfig(
            seed=args.seed,
            influencers_per_platform=args.influencers,
            posts_per_influencer=args.posts,
        )
    )
    base = f"http://{args.host}:{args.port}"
    log.info("Platform sandbox on %s (seed %s)", base, args.seed)
    log.info("  INSTAGRAM_AUTHORIZE_URL=%s/instagram/www/oauth/authorize", base)
    log.info("  INSTAGRAM_API_URL=%s/instagram/api", base)
    log.info("  INSTAGRAM_GRAPH_URL=%s/instagram/graph", base)
    log.info("  TIKTOK_AUTHORIZE_URL=%s/tiktok/www/v2/auth/authorize/", base)
    log.info("  TIKTOK_API_URL=%s/tiktok/open", base)
    uvicorn.run(create_app(world), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
