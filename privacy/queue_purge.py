"""Queued collection tasks of an erased account, removed from RabbitMQ.

AMQP has no "delete the messages matching X". The purge takes each waiting message once
(basic_get, as many as the queue held when it started), acknowledges the erased account's tasks
(dropped) and republishes every other task, with its properties, under publisher confirms
before acknowledging the original: a crash in between leaves a duplicate, which the ledger
makes harmless, never a loss. Workers keep consuming meanwhile.

Messages a worker holds at that moment (delivered, not acknowledged) are not visible to the
purge. They are safe anyway: the suppression row is committed before the purge runs, and the
collector checks it before calling the platform and again inside the transaction that would
store anything, under the suppression lock (connectors/suppression.py); such a task is
acknowledged as "suppressed" and leaves nothing behind.
"""

from __future__ import annotations

import json

from connectors.queue import declare_queues


def _is_subject(body: bytes, platform: str, account_id: str) -> bool:
    try:
        task = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(task, dict)
        and task.get("platform") == platform
        and str(task.get("account_id")) == account_id
    )


def purge(amqp_url: str, prefix: str, platform: str, account_id: str) -> dict[str, int]:
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        ch.confirm_delivery()
        declare_queues(ch, prefix)
        queue = f"{prefix}.collect"
        waiting = ch.queue_declare(queue, passive=True).method.message_count
        dropped = kept = 0
        for _ in range(waiting):
            method, props, body = ch.basic_get(queue, auto_ack=False)
            if method is None:
                break
            if _is_subject(body, platform, account_id):
                dropped += 1
            else:
                ch.basic_publish("", queue, body, properties=props, mandatory=True)
                kept += 1
            ch.basic_ack(method.delivery_tag)
        return {"dropped": dropped, "requeued": kept}
    finally:
        if conn.is_open:
            conn.close()


def remaining(amqp_url: str, prefix: str, platform: str, account_id: str) -> int:
    """Tasks of the account still waiting (read without consuming: get, then requeue all)."""
    import pika

    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        declare_queues(ch, prefix)
        queue = f"{prefix}.collect"
        waiting = ch.queue_declare(queue, passive=True).method.message_count
        found, tags = 0, []
        for _ in range(waiting):
            method, _props, body = ch.basic_get(queue, auto_ack=False)
            if method is None:
                break
            tags.append(method.delivery_tag)
            found += _is_subject(body, platform, account_id)
        if tags:
            ch.basic_nack(tags[-1], multiple=True, requeue=True)
        return found
    finally:
        if conn.is_open:
            conn.close()
