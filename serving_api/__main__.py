"""`python -m serving_api [--host H] [--port P] [--workers N]`: serve the API with uvicorn."""

from __future__ import annotations

import argparse

from serving_api.app import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m serving_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    run(args.host, args.port, workers=args.workers)


if __name__ == "__main__":
    main()
