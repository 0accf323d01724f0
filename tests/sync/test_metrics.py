"""/metrics: the Prometheus exposition parses and says what the dashboard says."""

from __future__ import annotations

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.sync.factories import EXPECTED, seed_figures


@pytest.fixture
def seeded(db):
    return seed_figures(timezone.now())


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {
        family.name: {
            tuple(sorted(sample.labels.items())): sample.value for sample in family.samples
        }
        for family in families
    }


def value(metrics, name: str, **labels) -> float | None:
    return metrics[name].get(tuple(sorted(labels.items())))


def test_the_exposition_parses_and_matches_the_figures(client, seeded):
    metrics = scrape(client)
    systems = {"erp-items": "erp", "ecom-all": "ecom", "wms-gone": "wms"}
    for name, expected in EXPECTED.items():
        labels = {"subscription": name, "system": systems[name]}
        assert value(metrics, "mdm_delivery_backlog", **labels) == expected["backlog"]
        assert value(metrics, "mdm_delivery_delivering", **labels) == expected["delivering"]
        assert value(metrics, "mdm_delivery_dead", **labels) == expected["dead"]
        oldest = value(metrics, "mdm_delivery_oldest_pending_seconds", **labels)
        assert oldest == pytest.approx(expected["oldest"], abs=2)
        attempts = {
            (outcome, window): value(
                metrics, "mdm_delivery_attempts", **labels, outcome=outcome, window=window
            )
            for outcome in ("delivered", "retry", "dead", "disabled")
            for window in ("1h", "24h")
        }
        assert attempts[("delivered", "1h")] == expected["delivered_hour"]
        assert attempts[("delivered", "24h")] == expected["delivered_day"]
        failed = ("retry", "dead", "disabled")
        assert sum(attempts[(o, "1h")] for o in failed) == expected["failed_hour"]
        assert sum(attempts[(o, "24h")] for o in failed) == expected["failed_day"]
        p50 = value(metrics, "mdm_delivery_latency_seconds", **labels, quantile="0.5")
        p95 = value(metrics, "mdm_delivery_latency_seconds", **labels, quantile="0.95")
        assert (p50, p95) == pytest.approx((expected["p50"], expected["p95"]))
        sample = value(metrics, "mdm_delivery_latency_sample", **labels)
        assert sample == expected["latency_count"]
    states = {
        (labels["subscription"], labels["state"]): v
        for key, v in metrics["mdm_subscription_state"].items()
        for labels in [dict(key)]
        if v == 1
    }
    assert states == {
        ("erp-items", "active"): 1,
        ("ecom-all", "paused"): 1,
        ("wms-gone", "disabled"): 1,
    }
    assert len(metrics["mdm_subscription_state"]) == 9  # three states per subscription


def test_an_idle_hub_exports_empty_families(client, db):
    metrics = scrape(client)
    assert metrics["mdm_delivery_backlog"] == {}


def test_a_configured_token_is_required(client, seeded, settings):
    settings.MDM_METRICS_TOKEN = "s3cret"
    response = client.get("/metrics")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    metrics = scrape(client, Authorization="Bearer s3cret")
    assert value(metrics, "mdm_delivery_backlog", subscription="erp-items", system="erp") == 4


def test_metrics_take_a_fixed_number_of_queries(client, seeded, django_assert_num_queries):
    with django_assert_num_queries(4):
        scrape(client)
