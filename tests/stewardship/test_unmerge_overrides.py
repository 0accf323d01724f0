"""A merged review whose records were split apart again (issue 14, finding 6): the review page
says who merged and who unmerged, lists the values chosen in the merge that are still in force
as steward overrides, and clears them (``clear_override``, one audit row); the unmerge
confirmation says that overrides chosen in merges stay unless cleared."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from golden_records.history import ChangeOrigin
from golden_records.models import GOLDEN_MODELS, AttributeOverride
from golden_records.services import merge_golden, set_override
from stewardship import records, services
from stewardship.models import StewardDecision
from tests.stewardship import factories

pytestmark = pytest.mark.django_db

Customer = GOLDEN_MODELS["customer"]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def steward():
    return factories.user("stella", "steward")


@pytest.fixture
def otto():
    return factories.user("otto", "steward")


@pytest.fixture
def viewer():
    return factories.user("vic", "viewer")


@pytest.fixture
def merged(steward):
    """Review 1 merged by stella, who chose the CRM record's name (an override on the
    survivor, the ERP record's golden record)."""
    review = factories.pair(1)
    response = client_for(steward).post(
        reverse("stewardship:decide", args=[review.pk]),
        {"decision": "merge", "keep_name": f"s{review.source_record_id}"},
    )
    assert response.status_code == 302
    survivor = review.candidate_record.golden_id
    assert Customer.objects.get(pk=survivor).name == "Northwind Traders 1"
    return review


@pytest.fixture
def unmerged(merged, otto):
    """Then otto split the CRM record out again: the chosen name stays on the survivor."""
    survivor = merged.candidate_record.golden_id
    records.unmerge_records("customer", survivor, {merged.source_record_id}, otto, "two firms")
    return merged


def review_page(user, review) -> str:
    response = client_for(user).get(reverse("stewardship:review", args=[review.pk]))
    assert response.status_code == 200
    return response.content.decode()


def clear_url(review) -> str:
    return reverse("stewardship:clear-overrides", args=[review.pk])


class TestReviewPage:
    def test_says_merged_then_unmerged_and_lists_the_overrides_in_force(self, unmerged, viewer):
        survivor = unmerged.candidate_record.golden_id
        html = review_page(viewer, unmerged)
        assert "Merged, then unmerged" in html
        assert "data-decided-by>stella<" in html
        assert "unmerged by <b data-unmerged-by>otto</b>" in html
        assert "two firms" in html
        # The name chosen in the merge, on the survivor, still in force.
        assert f'data-override="name" data-golden="{survivor}"' in html
        assert "Northwind Traders 1<" in html
        assert "stay in force" in html
        # A viewer reads it but gets no form to clear.
        assert 'id="clear-overrides-btn"' not in html

    def test_a_steward_is_offered_to_clear_them(self, unmerged, steward):
        html = review_page(steward, unmerged)
        override = AttributeOverride.objects.get()
        assert f'name="override" value="{override.pk}"' in html
        assert 'id="clear-overrides-btn"' in html and "csrfmiddlewaretoken" in html

    def test_a_merge_not_unmerged_says_just_merged(self, merged, steward):
        html = review_page(steward, merged)
        assert "unmerged" not in html.lower().replace("/unmerge", "")
        assert 'id="merge-overrides"' not in html
        assert services.unmerge_of(merged) is None

    def test_an_unmerge_that_kept_the_pair_together_is_not_theirs(self, steward, otto):
        """A third record split out of the survivor: the review's records stay together."""
        review = factories.pair(1)
        services.decide_review(review.pk, "merge", steward)
        survivor = review.candidate_record.golden_id
        third = factories.customer("ecom", "W-1", name="Northwind Shop", country="DE")
        # Put the third record on the survivor, then split it out again.
        merge_golden("customer", survivor, [third.golden_id], ChangeOrigin.command("test"))
        records.unmerge_records("customer", survivor, {third.pk}, otto)
        review.refresh_from_db()
        assert services.unmerge_of(review) is None
        assert "unmerged by" not in review_page(steward, review)


class TestClear:
    def test_clears_the_override_recomputes_and_audits_once(self, unmerged, steward):
        survivor = unmerged.candidate_record.golden_id
        override = AttributeOverride.objects.get()
        client = client_for(steward)
        response = client.post(clear_url(unmerged), {"override": [override.pk], "note": "oops"})
        assert response.status_code == 302
        assert response["Location"] == reverse("stewardship:review", args=[unmerged.pk])
        assert not AttributeOverride.objects.exists()
        # The ownership rules decide the name again: the ERP record's.
        assert Customer.objects.get(pk=survivor).name == "Northwind Traders 1 GmbH"
        decision = StewardDecision.objects.get(action="clear_override")
        assert (decision.review_id, decision.actor_name, decision.channel, decision.note) == (
            unmerged.pk,
            "stella",
            "ui",
            "oops",
        )
        assert decision.golden_id == survivor
        assert decision.before["overrides"][0]["attribute"] == "name"
        assert decision.after["golden"][str(survivor)]["attributes"]["name"] == (
            "Northwind Traders 1 GmbH"
        )
        # The page says so, and has nothing left to clear.
        html = client.get(response["Location"]).content.decode()
        assert "Cleared 1 override chosen in the merge (name)" in html
        assert "No override chosen in this merge is in force" in html
        assert 'id="clear-overrides-btn"' not in html

    def test_a_second_clear_changes_nothing(self, unmerged, steward, otto):
        override = AttributeOverride.objects.get()
        client_for(steward).post(clear_url(unmerged), {"override": [override.pk]})
        response = client_for(otto).post(
            clear_url(unmerged), {"override": [override.pk]}, follow=True
        )
        assert "Nothing was cleared" in response.content.decode()
        assert StewardDecision.objects.filter(action="clear_override").count() == 1

    def test_a_later_edit_is_not_the_merges(self, unmerged, steward):
        """A steward who set the attribute again after the merge made it their own value."""
        survivor = unmerged.candidate_record.golden_id
        set_override("customer", survivor, "name", "Northwind Ltd", steward, reason="checked")
        assert services.merge_overrides(unmerged) == []
        with pytest.raises(services.StewardshipError) as raised:
            services.clear_merge_overrides(unmerged.pk, steward)
        assert raised.value.code == "nothing_to_clear"
        assert AttributeOverride.objects.get().value == "Northwind Ltd"

    def test_a_viewer_gets_403(self, unmerged, viewer):
        override = AttributeOverride.objects.get()
        response = client_for(viewer).post(clear_url(unmerged), {"override": [override.pk]})
        assert response.status_code == 403
        assert AttributeOverride.objects.filter(pk=override.pk).exists()
        assert not StewardDecision.objects.filter(action="clear_override").exists()

    def test_needs_post_and_a_ticked_override(self, unmerged, steward):
        client = client_for(steward)
        assert client.get(clear_url(unmerged)).status_code == 405
        response = client.post(clear_url(unmerged), {}, follow=True)
        assert "Tick the overrides to clear" in response.content.decode()
        assert AttributeOverride.objects.exists()

    def test_needs_csrf(self, unmerged, steward):
        client = Client(enforce_csrf_checks=True)
        client.force_login(steward)
        override = AttributeOverride.objects.get()
        response = client.post(clear_url(unmerged), {"override": [override.pk]})
        assert response.status_code == 403
        assert AttributeOverride.objects.exists()


class TestUnmergeConfirmation:
    def test_mentions_the_overrides_chosen_in_merges(self, merged, steward):
        survivor = merged.candidate_record.golden_id
        response = client_for(steward).post(
            reverse("stewardship:unmerge", args=["customer", survivor]),
            {"source": [merged.source_record_id]},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert f'data-merge-override="{merged.pk}"' in html
        assert "stay in force after the split" in html
        assert response.context["preview"].merge_overrides == [
            ("name", "Northwind Traders 1", merged.pk)
        ]
