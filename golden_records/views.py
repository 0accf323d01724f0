"""Pages of the golden-records app. The steward UI comes with the stewardship app; until then the
start page says what the hub holds and where to go."""

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from golden_records.domains import DOMAINS
from golden_records.models import GOLDEN_MODELS, GoldenStatus, SourceRecord, SourceSystem


def home(request: HttpRequest) -> HttpResponse:
    source_counts = dict(
        SourceRecord.objects.values("domain").annotate(n=Count("id")).values_list("domain", "n")
    )
    domains = [
        {
            "name": name,
            "label": spec.label,
            "golden": GOLDEN_MODELS[name].objects.filter(record_status=GoldenStatus.ACTIVE).count(),
            "sources": source_counts.get(name, 0),
        }
        for name, spec in DOMAINS.items()
    ]
    systems = SourceSystem.objects.annotate(record_count=Count("records")).order_by("code")
    return render(request, "home.html", {"domains": domains, "systems": systems})
