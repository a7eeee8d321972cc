"""POST fired alerts to the configured webhooks, with retries and backoff.

Each (alert, webhook) pair is a delivery row written with the alert (scanner/store/
daemon_state.py); it is marked when the webhook answered 2xx. What is still unmarked -- the
webhook was down, or the daemon stopped -- is sent again on the next round and after a
restart. The body carries the alert's `id`: a crash between a webhook's 2xx and the mark is
the one case that can send a message twice, and the id lets a receiver drop it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random

import aiohttp

from scanner.daemon.metrics import DaemonMetrics
from scanner.daemon.settings import AlertRules
from scanner.store.daemon_state import DaemonState, PendingDelivery

log = logging.getLogger(__name__)
BACKOFF_CAP_SECONDS = 30.0


class WebhookSender:
    def __init__(self, state: DaemonState, rules: AlertRules, metrics: DaemonMetrics) -> None:
        self.state, self.rules, self.metrics = state, rules, metrics

    async def deliver_pending(self, chain: str) -> int:
        """Send every unacknowledged delivery of `chain`; returns how many are still pending."""
        pending = self.state.pending_deliveries(chain)
        if not pending:
            return 0
        timeout = aiohttp.ClientTimeout(total=self.rules.webhook_timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            results = await asyncio.gather(*(self._deliver(session, d) for d in pending))
        return results.count(False)

    async def _deliver(self, session: aiohttp.ClientSession, delivery: PendingDelivery) -> bool:
        body = {"id": delivery.event_id, **delivery.payload}
        for attempt in range(self.rules.webhook_max_attempts):
            error = await _post(session, delivery.webhook, body)
            self.state.mark_attempt(delivery.event_id, delivery.webhook, error is None, error)
            self.metrics.webhook_posts.labels("ok" if error is None else "failed").inc()
            if error is None:
                log.info("alert %d sent to %s: %s", delivery.event_id, delivery.webhook,
                         delivery.payload.get("text"))
                return True
            delay = min(BACKOFF_CAP_SECONDS, 0.5 * 2**attempt) * random.uniform(0.5, 1.0)
            log.warning("alert %d to %s failed (%s), attempt %d of %d; next in %.1f s",
                        delivery.event_id, delivery.webhook, error, attempt + 1,
                        self.rules.webhook_max_attempts, delay)
            if attempt + 1 < self.rules.webhook_max_attempts:
                await asyncio.sleep(delay)
        return False


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, object]) -> str | None:
    """None on a 2xx answer, else what went wrong."""
    try:
        async with session.post(url, data=json.dumps(body, sort_keys=True),
                                headers={"Content-Type": "application/json"}) as response:
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return f"{type(exc).__name__}: {exc}".strip(": ")
