"""Opaque paging cursors for media lists, shaped like the platform's ("QVFI...").

A cursor encodes the sort key of the boundary post, so paging stays correct while posts are
published and deleted between two page requests.
"""

from __future__ import annotations

import base64
import binascii

from sandbox.world import InstagramMedia

_PREFIX = "QVFI"


def sort_key(media: InstagramMedia) -> tuple[int, str]:
    """The order of a media list (newest first is descending by this key)."""
    return int(media.timestamp.timestamp()), media.media_id


def encode_cursor(media: InstagramMedia) -> str:
    """Opaque like the platform's ("QVFI..."); it encodes the boundary post's sort key."""
    raw = f"{int(media.timestamp.timestamp())}:{media.media_id}".encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The sort key a cursor marks; ValueError for anything this sandbox did not issue."""
    if not cursor.startswith(_PREFIX):
        raise ValueError("not a cursor")
    body = cursor[len(_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        stamp, media_id = raw.split(":", 1)
        return int(stamp), media_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc
