"""Prometheus metrics of propagation at /metrics, computed from the database at scrape time.

The figures are sync/stats.py's, the same the dashboard shows, so nothing is counted in process
memory: every web process answers the same, and a restart loses nothing. One scrape costs the
dashboard's four queries.

Labels ``subscription`` and ``system`` on every metric:

* ``mdm_delivery_backlog``: deliveries pending or delivering;
* ``mdm_delivery_delivering``: deliveries being sent now (leased);
* ``mdm_delivery_oldest_pending_seconds``: age of the oldest waiting one (0 when none waits);
* ``mdm_delivery_dead``: dead deliveries kept (they go with the retention);
* ``mdm_delivery_attempts{outcome, window}``: attempts in the last ``1h`` / ``24h`` by outcome
  (delivered, retry, dead, disabled);
* ``mdm_delivery_latency_seconds{quantile}``: change to delivery over the last hour, ``0.5`` and
  ``0.95`` (absent when nothing was delivered); ``mdm_delivery_latency_sample``: how many
  deliveries those quantiles are of;
* ``mdm_subscription_state{state}``: 1 for the current state (active, paused, disabled), else 0.

``mdm_delivery_attempts`` is a gauge over a sliding window, not a counter: the database keeps
attempts for the retention period only, so a monotonic count cannot be rebuilt from it. Alert on
its value (``mdm_delivery_attempts{outcome="dead",window="1h"} > 0``), not on ``rate()``.

Access: when the setting ``MDM_METRICS_TOKEN`` is set, a scrape must send
``Authorization: Bearer <token>`` (401 otherwise); when it is empty, /metrics is open, as is
common for Prometheus endpoints reachable only from an internal network.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sync.models import DeliveryAttempt, Subscription
from sync.stats import subscription_figures

LABELS = ["subscription", "system"]


class DeliveryCollector(Collector):
    """Reads sync/stats.py's figures on every scrape."""

    def collect(self) -> Iterator[Metric]:
        figures = subscription_figures()
        backlog = GaugeMetricFamily(
            "mdm_delivery_backlog", "Deliveries pending or being delivered.", labels=LABELS
        )
        delivering = GaugeMetricFamily(
            "mdm_delivery_delivering", "Deliveries being sent now (leased).", labels=LABELS
        )
        oldest = GaugeMetricFamily(
            "mdm_delivery_oldest_pending_seconds",
            "Age of the oldest pending or delivering delivery; 0 when none waits.",
            labels=LABELS,
        )
        dead = GaugeMetricFamily(
            "mdm_delivery_dead", "Dead deliveries (retries exhausted) still kept.", labels=LABELS
        )
        attempts = GaugeMetricFamily(
            "mdm_delivery_attempts",
            "Delivery attempts by outcome over a sliding window (1h, 24h); not a counter.",
            labels=[*LABELS, "outcome", "window"],
        )
        latency = GaugeMetricFamily(
            "mdm_delivery_latency_seconds",
            "Change-to-delivery latency of the deliveries delivered in the last hour (replays "
            "left out), by quantile.",
            labels=[*LABELS, "quantile"],
        )
        sample = GaugeMetricFamily(
            "mdm_delivery_latency_sample",
            "Deliveries delivered in the last hour behind mdm_delivery_latency_seconds.",
            labels=LABELS,
        )
        state = GaugeMetricFamily(
            "mdm_subscription_state",
            "A subscription's state: 1 for the current one (active, paused, disabled).",
            labels=[*LABELS, "state"],
        )
        for f in figures:
            labels = [f.subscription.name, f.subscription.system.code]
            backlog.add_metric(labels, f.backlog)
            delivering.add_metric(labels, f.delivering)
            oldest.add_metric(labels, f.oldest_waiting_seconds or 0.0)
            dead.add_metric(labels, f.dead)
            for outcome in DeliveryAttempt.Outcome.values:
                attempts.add_metric([*labels, outcome, "1h"], f.outcomes_hour.get(outcome, 0))
                attempts.add_metric([*labels, outcome, "24h"], f.outcomes_day.get(outcome, 0))
            if f.latency_count:
                latency.add_metric([*labels, "0.5"], f.latency_p50)
                latency.add_metric([*labels, "0.95"], f.latency_p95)
            sample.add_metric(labels, f.latency_count)
            for value in Subscription.State.values:
                state.add_metric([*labels, value], 1.0 if f.subscription.state == value else 0.0)
        yield from (backlog, delivering, oldest, dead, attempts, latency, sample, state)


def registry() -> CollectorRegistry:
    """A registry of our own (not the global one): only the delivery figures, collected anew."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(DeliveryCollector())
    return reg


def authorized(request: HttpRequest) -> bool:
    token = settings.MDM_METRICS_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not authorized(request):
        response = HttpResponse("A bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
