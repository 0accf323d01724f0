"""Match decisions (why a record was linked where it is) and the match-review queue, read-only.

Deciding a review is a steward action: stewardship/api/views.py, through the steward UI's service.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from golden_records.api.errors import ApiError
from golden_records.api.serializers import ErrorSerializer
from golden_records.domains import DOMAINS
from matching.api.serializers import MatchDecisionSerializer, MatchReviewSerializer
from matching.models import MatchDecision, MatchReview, ReviewStatus

READ_ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer}


class Page(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


def _param(request: Request, name: str) -> str:
    """A query parameter; NUL characters are refused (PostgreSQL cannot compare text with them)."""
    value = request.query_params.get(name, "")
    if "\x00" in value:
        raise ApiError("invalid_character", f"{name}: NUL characters are not allowed.")
    return value


def _choice(request: Request, name: str, allowed: list[str]) -> str:
    value = _param(request, name)
    if value and value not in allowed:
        raise ApiError(f"invalid_{name}", f"{name} must be one of: {', '.join(allowed)}.")
    return value


class MatchReviewList(generics.ListAPIView):
    """Open (or other) match reviews, most probable first, each with its explanation."""

    serializer_class = MatchReviewSerializer
    pagination_class = Page

    @extend_schema(
        operation_id="match_reviews_list",
        parameters=[
            OpenApiParameter("domain", str, enum=list(DOMAINS), required=False),
            OpenApiParameter("status", str, enum=list(ReviewStatus.values), required=False),
        ],
        responses={200: MatchReviewSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        rows = MatchReview.objects.select_related(
            "source_record__system", "candidate_record__system"
        )
        domain = _choice(self.request, "domain", list(DOMAINS))
        status = _choice(self.request, "status", list(ReviewStatus.values)) or ReviewStatus.OPEN
        if domain:
            rows = rows.filter(domain=domain)
        return rows.filter(status=status).order_by("-probability", "id")


class MatchReviewDetail(APIView):
    @extend_schema(
        operation_id="match_review_get",
        responses={200: MatchReviewSerializer, **READ_ERRORS, 404: ErrorSerializer},
    )
    def get(self, request: Request, review_id: int) -> Response:
        review = (
            MatchReview.objects.select_related("source_record__system", "candidate_record__system")
            .filter(pk=review_id)
            .first()
        )
        if review is None:
            raise ApiError("review_not_found", f"No match review {review_id}.", status_code=404)
        return Response(MatchReviewSerializer(review).data)


class MatchDecisionList(generics.ListAPIView):
    """How the matcher decided for a source record (newest first), with explanations."""

    serializer_class = MatchDecisionSerializer
    pagination_class = Page

    @extend_schema(
        operation_id="match_decisions_list",
        parameters=[
            OpenApiParameter("system", str, required=True),
            OpenApiParameter("domain", str, enum=list(DOMAINS), required=True),
            OpenApiParameter("source_id", str, required=True),
        ],
        responses={200: MatchDecisionSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = {n: _param(self.request, n) for n in ("system", "domain", "source_id")}
        missing = [n for n, value in params.items() if not value]
        if missing:
            raise ApiError("missing_parameter", f"Give {', '.join(missing)}.")
        domain = _choice(self.request, "domain", list(DOMAINS))
        return (
            MatchDecision.objects.select_related("source_record__system")
            .filter(
                domain=domain,
                source_record__system__code=params["system"],
                source_record__source_id=params["source_id"],
            )
            .order_by("-created_at", "-id")
        )
