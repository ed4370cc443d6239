"""Both signature schemes: ``X-Specgate-Signature`` and the Standard Webhooks headers, checked
with the ``standardwebhooks`` library exactly as an integrator would."""

import hashlib
import hmac
import json

import pytest
import standardwebhooks

from reviews.services import review_submit
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def specgate_verify(secret: str, headers: dict, body: bytes) -> bool:
    timestamp = headers["X-Specgate-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["X-Specgate-Signature"], "sha256=" + expected.hexdigest())


def _deliver_one(world, rx, as_user, django_capture_on_commit_callbacks, **extra):
    r = as_user(world.lead).post(
        "/api/v1/webhooks/", {"project": world.project.slug, "url": rx.url, **extra}
    )
    assert r.status_code == 201, r.content
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    (headers, body) = rx.requests[0]
    return r.json()["secret"], headers, body


def test_a_delivery_verifies_with_the_standard_webhooks_library(
    world, receiver, as_user, django_capture_on_commit_callbacks
):
    rx = receiver()
    secret, headers, body = _deliver_one(world, rx, as_user, django_capture_on_commit_callbacks)
    assert secret.startswith("whsec_")
    payload = standardwebhooks.Webhook(secret).verify(body, headers)
    assert payload["type"] == "review.submitted"
    assert headers["webhook-id"] == headers["X-Specgate-Delivery"] == payload["delivery"]
    assert headers["webhook-timestamp"] == headers["X-Specgate-Timestamp"]
    assert specgate_verify(secret, headers, body)

    tampered = json.dumps({**json.loads(body), "type": "review.approved"}).encode()
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(tampered, headers)
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(other).verify(body, headers)
    assert not specgate_verify(other, headers, body)


def test_a_secret_of_ones_own_signs_both_ways(
    world, receiver, as_user, django_capture_on_commit_callbacks
):
    """A secret that is not ``whsec_…`` is the key as it is (its UTF-8 bytes)."""
    rx = receiver()
    own = "correct-horse-battery-staple"
    secret, headers, body = _deliver_one(
        world, rx, as_user, django_capture_on_commit_callbacks, secret=own
    )
    assert secret == own
    assert standardwebhooks.Webhook(own.encode()).verify(body, headers)["type"]
    assert specgate_verify(own, headers, body)


def test_a_malformed_standard_secret_is_refused(world, as_user):
    for secret in ("whsec_not*base64*at*all!!", "whsec_" + "QUJD" * 2):
        r = as_user(world.lead).post(
            "/api/v1/webhooks/",
            {"project": world.project.slug, "url": "https://hooks.example.net/", "secret": secret},
        )
        assert "secret" in assert_error(r, 400)["details"]
