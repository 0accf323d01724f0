"""The rules pages: ownership and match rules readable by every steward-UI role, changed by admins
only (ownership through save_ownership_rule with its history, thresholds as a new match rule
version), with clear errors and the history on the page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from golden_records.models import ActorType, Channel, OwnershipRule
from matching.models import MatchRuleVersion
from matching.rule_versions import active_rules
from tests.conftest import make_system
from tests.stewardship import factories

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def rule():
    for code in ("erp", "crm", "wms"):
        make_system(code)
    return OwnershipRule.objects.get(domain="customer", attribute="name")


@pytest.fixture
def admin():
    return factories.user("ada", "admin")


def urls(rule_id: int) -> dict[str, tuple[str, str, dict]]:
    return {
        "rules": ("get", reverse("stewardship:rules"), {"domain": "customer"}),
        "edit-form": ("get", reverse("stewardship:ownership-rule", args=[rule_id]), {}),
        "edit": (
            "post",
            reverse("stewardship:ownership-rule", args=[rule_id]),
            {"strategy": "source_priority", "systems": "crm, erp", "fallback_to_any": "on"},
        ),
        "thresholds": (
            "post",
            reverse("stewardship:match-thresholds", args=["customer"]),
            {"auto_match": "0.98", "review": "0.6"},
        ),
    }


class TestPermissions:
    @pytest.mark.parametrize("view", list(urls(1)))
    def test_anonymous_goes_to_the_login_page(self, rule, view):
        method, url, data = urls(rule.pk)[view]
        response = getattr(Client(), method)(url, data)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")

    @pytest.mark.parametrize("role", ["viewer", "steward"])
    @pytest.mark.parametrize("view", list(urls(1)))
    def test_viewer_and_steward_read_but_do_not_change(self, rule, view, role):
        method, url, data = urls(rule.pk)[view]
        response = getattr(client_for(factories.user("someone", role)), method)(url, data)
        assert response.status_code == (200 if view == "rules" else 403)
        rule.refresh_from_db()
        assert rule.systems == ["erp", "crm"]
        assert not MatchRuleVersion.objects.exists()

    @pytest.mark.parametrize("view", list(urls(1)))
    def test_a_user_without_a_role_gets_403(self, rule, view):
        method, url, data = urls(rule.pk)[view]
        assert getattr(client_for(factories.user("nobody")), method)(url, data).status_code == 403

    @pytest.mark.parametrize("groups,superuser", [(("admin",), False), ((), True)])
    @pytest.mark.parametrize("view", list(urls(1)))
    def test_admin_and_superuser_change(self, rule, view, groups, superuser):
        method, url, data = urls(rule.pk)[view]
        actor = factories.user("actor", *groups, superuser=superuser)
        response = getattr(client_for(actor), method)(url, data)
        assert response.status_code in (200, 302)
        if view == "edit":
            rule.refresh_from_db()
            assert rule.systems == ["crm", "erp"]
        if view == "thresholds":
            assert MatchRuleVersion.objects.get(active=True).created_by == "actor"

    def test_only_admins_see_edit_buttons(self, rule, admin):
        for role in ("viewer", "steward"):
            page = client_for(factories.user(role, role)).get(reverse("stewardship:rules"))
            body = page.content.decode()
            assert "data-edit=" not in body and 'id="save-thresholds"' not in body
            assert "Read only: admins change them." in body
        body = client_for(admin).get(reverse("stewardship:rules")).content.decode()
        assert 'data-edit="name"' in body and 'id="save-thresholds"' in body

    def test_changes_need_csrf(self, rule, admin):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(admin)
        _, url, data = urls(rule.pk)["edit"]
        assert strict.post(url, data).status_code == 403
        rule.refresh_from_db()
        assert rule.systems == ["erp", "crm"]


class TestReading:
    def test_ownership_and_match_rules_of_a_domain(self, rule):
        client = client_for(factories.user("vic", "viewer"))
        response = client.get(reverse("stewardship:rules"), {"domain": "customer"})
        body = response.content.decode()
        assert 'data-rule="credit_limit"' in body and 'data-systems="erp,crm"' in body
        rules = active_rules("customer")
        assert response.context["rules"] == rules
        assert 'data-threshold="auto_match"' in body
        for comparison in rules.comparisons:
            assert comparison.name.replace("_", " ") in body
        assert " + ".join(rules.blocking[0]) in body

    def test_price_is_matched_by_identifiers(self, rule):
        client = client_for(factories.user("vic", "viewer"))
        body = client.get(reverse("stewardship:rules"), {"domain": "price"}).content.decode()
        assert "linked by their identifiers only" in body
        assert 'data-rule="unit_price"' in body


class TestOwnershipEdit:
    def test_saved_with_history_naming_the_admin(self, rule, admin):
        url = reverse("stewardship:ownership-rule", args=[rule.pk])
        response = client_for(admin).post(
            url,
            {"strategy": "source_priority", "systems": "crm > erp", "note": "CRM cleans names"},
            follow=True,
        )
        rule.refresh_from_db()
        assert (rule.systems, rule.fallback_to_any) == (["crm", "erp"], False)
        last = rule.history.first()
        assert (last.actor_type, last.actor, last.channel, last.history_user) == (
            ActorType.STEWARD,
            "ada",
            Channel.UI,
            admin,
        )
        assert last.history_change_reason == "CRM cleans names"
        change = response.context["history"][0]
        assert change["attribute"] == "name" and change["who"] == "ada"
        assert ("systems", ["erp", "crm"], ["crm", "erp"]) in change["diffs"]
        assert "Saved customer.name" in response.content.decode()

    @pytest.mark.parametrize(
        "data,field,message",
        [
            ({"strategy": "source_priority", "systems": ""}, "systems", "at least one system"),
            ({"strategy": "source_priority", "systems": "erp, erp"}, "systems", "twice: erp"),
            ({"strategy": "source_priority", "systems": "erp, sap"}, "systems", "Unknown system"),
            ({"strategy": "loudest", "systems": "erp"}, "strategy", "not a valid choice"),
        ],
    )
    def test_invalid_rules_are_refused_with_clear_errors(self, rule, admin, data, field, message):
        url = reverse("stewardship:ownership-rule", args=[rule.pk])
        response = client_for(admin).post(url, data)
        assert response.status_code == 400
        assert message in " ".join(response.context["errors"][field])
        assert message in response.content.decode()
        rule.refresh_from_db()
        assert (rule.strategy, rule.systems) == ("source_priority", ["erp", "crm"])
        assert not rule.history.filter(channel=Channel.UI).exists()


class TestThresholds:
    def test_a_new_version_with_the_new_thresholds(self, rule, admin):
        before = active_rules("customer")
        url = reverse("stewardship:match-thresholds", args=["customer"])
        response = client_for(admin).post(
            url, {"auto_match": "0.97", "review": "0.55", "note": "fewer reviews"}, follow=True
        )
        version = MatchRuleVersion.objects.get(active=True)
        assert version.version == before.version + 1 and version.created_by == "ada"
        assert "fewer reviews" in version.note and "0.55" in version.note
        after = active_rules("customer")
        assert (after.thresholds.auto_match, after.thresholds.review) == (0.97, 0.55)
        assert after.comparisons == before.comparisons and after.blocking == before.blocking
        assert response.context["versions"][0]["row"] == version
        # A second change adds another version; the first stays listed.
        client_for(admin).post(url, {"auto_match": "0.99", "review": "0.55"})
        assert list(MatchRuleVersion.objects.values_list("version", "active")) == [
            (before.version + 2, True),
            (before.version + 1, False),
        ]

    @pytest.mark.parametrize(
        "auto_match,review,field",
        [("0.5", "0.7", "review"), ("1.5", "0.5", "auto_match"), ("x", "0.5", "auto_match")],
    )
    def test_invalid_thresholds(self, rule, admin, auto_match, review, field):
        url = reverse("stewardship:match-thresholds", args=["customer"])
        response = client_for(admin).post(url, {"auto_match": auto_match, "review": review})
        assert response.status_code == 400
        assert response.context["threshold_errors"][field]
        assert not MatchRuleVersion.objects.exists()

    def test_price_has_no_thresholds(self, rule, admin):
        url = reverse("stewardship:match-thresholds", args=["price"])
        response = client_for(admin).post(url, {"auto_match": "0.9", "review": "0.5"})
        assert response.status_code == 400
        assert not MatchRuleVersion.objects.exists()
