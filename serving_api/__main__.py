"""`python -m serving_api [--host H] [--port P] [--workers N] [--tls-cert C --tls-key K]
[--keep-alive S]`:
serve the API with uvicorn (HTTPS with TLS 1.3 only when given a certificate and key)."""

from __future__ import annotations

import argparse

from serving_api.app import KEEP_ALIVE_SECONDS, run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m serving_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--tls-cert", default=None)
    parser.add_argument("--tls-key", default=None)
    parser.add_argument(
        "--keep-alive",
        type=int,
        default=KEEP_ALIVE_SECONDS,
        help="seconds an idle keep-alive connection stays open",
    )
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("give both --tls-cert and --tls-key")
    if args.keep_alive < 1:
        parser.error("--keep-alive must be at least 1 second")
    run(
        args.host,
        args.port,
        workers=args.workers,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        keep_alive_seconds=args.keep_alive,
    )


if __name__ == "__main__":
    main()
