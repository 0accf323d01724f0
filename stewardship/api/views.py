"""Steward actions over the REST API.

``POST /api/v1/match-reviews/{id}/decision`` decides through ``stewardship.services.decide_review``,
the service the steward UI uses: the same merge or never-match memory, the same
``StewardDecision`` audit row (``channel`` ``api``), authorised by the same role (steward or
admin, ``StewardAction``). The view lives here, not in matching/api/, so the dependency points
down: the steward actions (stewardship) use matching, never the other way round. The read
routes of the review queue stay in matching/api/.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from golden_records.api.errors import ApiError
from golden_records.api.serializers import ErrorSerializer
from golden_records.models import Channel
from matching.api.serializers import MatchReviewSerializer, ReviewDecisionSerializer
from matching.models import MatchReview
from stewardship import services
from stewardship.permissions import ApiRole, StewardAction

STATUS_BY_CODE = {"review_not_found": 404, "invalid_decision": 400}
"""Error codes of ``decide_review`` and their HTTP status; any other refusal (``review_not_open``,
``already_merged``, a merge refused) is a conflict, 409."""


class MatchReviewDecision(APIView):
    """A steward's answer: ``merge`` (same entity) or ``reject`` (never match these)."""

    permission_classes = [ApiRole, StewardAction]

    @extend_schema(
        operation_id="match_review_decide",
        request=ReviewDecisionSerializer,
        responses={
            200: MatchReviewSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        description=(
            "Needs a session with the steward or admin role (superusers too), as in the steward "
            "UI; tokens and viewers get 403 `steward_required`, users without a role 403 "
            "`role_required`. Decides through the UI's service: the same effects and one "
            "steward decision in the audit, with channel `api`. 409 `review_not_open` when the "
            "review was decided already."
        ),
    )
    def post(self, request: Request, review_id: int) -> Response:
        body = ReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.decide_review(
                review_id,
                body.validated_data["decision"],
                request.user,
                body.validated_data["note"],
                channel=Channel.API,
            )
        except services.StewardshipError as exc:
            status_code = STATUS_BY_CODE.get(exc.code, 409)
            raise ApiError(exc.code, exc.message, status_code=status_code) from exc
        review = MatchReview.objects.select_related(
            "source_record__system", "candidate_record__system"
        ).get(pk=review_id)
        return Response(MatchReviewSerializer(review).data)
