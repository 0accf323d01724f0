"""Guessing is throttled: failed log-ins lock the user name for the client address
(django-axes), and bad API tokens get 429 with Retry-After after a few failures."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.conftest import client_for, make_token

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery"


@pytest.fixture
def stella():
    return get_user_model().objects.create_user("stella", password=PASSWORD)


def log_in(client: Client, password: str):
    return client.post("/accounts/login/", {"username": "stella", "password": password})


class TestLogin:
    def test_wrong_passwords_then_the_right_one_is_refused_until_the_cool_off(
        self, stella, settings
    ):
        settings.AXES_FAILURE_LIMIT = 3
        client = Client()
        for _ in range(2):
            assert "Wrong user name or password" in log_in(client, "nope").content.decode()
        locked = log_in(client, "nope")
        assert locked.status_code == 429
        refused = log_in(client, PASSWORD)
        assert refused.status_code == 429
        page = refused.content.decode()
        assert 'id="locked-out"' in page and "Too many failed log-ins for stella" in page
        assert "15 minutes" in page
        assert "_auth_user_id" not in client.session

        # Another address is not locked out.
        assert log_in(Client(REMOTE_ADDR="10.0.0.9"), PASSWORD).status_code == 302

        # After the cool-off the right password works again.
        AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
        assert log_in(client, PASSWORD).status_code == 302
        assert client.session["_auth_user_id"] == str(stella.pk)

    def test_a_success_before_the_limit_starts_the_count_again(self, stella, settings):
        settings.AXES_FAILURE_LIMIT = 3
        client = Client()
        log_in(client, "nope")
        log_in(client, "nope")
        assert log_in(client, PASSWORD).status_code == 302
        client.logout()
        log_in(client, "nope")
        log_in(client, "nope")
        assert log_in(client, PASSWORD).status_code == 302


class TestBadTokens:
    def test_bad_tokens_get_429_with_retry_after_and_a_good_token_still_works(
        self, systems, settings
    ):
        settings.MDM_TOKEN_FAILURE_LIMIT = 5
        settings.MDM_TOKEN_FAILURE_WINDOW_SECONDS = 60
        bad = client_for("mdm_not-a-token")
        for _ in range(5):
            response = bad.get("/api/v1/golden/customer")
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "invalid_token"
        throttled = bad.get("/api/v1/golden/customer")
        assert throttled.status_code == 429
        assert throttled.json()["error"]["code"] == "too_many_failed_authentications"
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60

        good = client_for(make_token(None, "read"))
        for _ in range(10):
            assert good.get("/api/v1/golden/customer").status_code == 200
        assert bad.get("/api/v1/golden/customer").status_code == 429

        elsewhere = client_for("mdm_not-a-token")
        elsewhere.defaults["REMOTE_ADDR"] = "10.0.0.9"
        assert elsewhere.get("/api/v1/golden/customer").status_code == 401

    def test_a_forged_forwarded_for_does_not_escape_the_count(self, systems, settings):
        settings.MDM_TOKEN_FAILURE_LIMIT = 2
        for n in range(2):
            client_for("mdm_bad").get("/api/v1/golden/customer", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
        response = client_for("mdm_bad").get(
            "/api/v1/golden/customer", HTTP_X_FORWARDED_FOR="9.9.9.9"
        )
        assert response.status_code == 429
