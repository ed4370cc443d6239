"""Server-side request forgery: webhook URLs that reach internal addresses are refused when a
lead subscribes and again at every delivery, after resolving, and the worker connects to the
address it checked. The deliveries list shows nothing that maps the inside of the network."""

import pytest

from reviews.services import review_submit
from tests.api.conftest import assert_error
from webhooks.models import Delivery
from webhooks.services import webhook_create

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.216.34"

INTERNAL_URLS = [
    "http://127.0.0.1:5432/",
    "http://localhost:5432/",
    "http://localhost./",
    "http://169.254.169.254/latest/meta-data/iam/",
    "http://10.0.0.1/hook",
    "http://172.16.5.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0:8000/",
    "http://[::]:8000/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped 169.254.169.254
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[fe80::1]/",  # link-local
    "http://[fd00::1]/",  # unique-local
    "http://[ff02::1]/",  # multicast
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://2130706433/",  # 127.0.0.1 in decimal
    "http://0177.0.0.1/",  # 127.0.0.1 in octal
    "http://0x7f.1/",  # 127.0.0.1 in hex, short form
    "http://127.1:6379/",
    "https://127.0.0.1/",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_urls_are_refused_at_subscription(world, as_user, url):
    lead = as_user(world.lead)
    error = assert_error(
        lead.post(
            "/api/v1/webhooks/",
            {"project": world.project.slug, "url": url},
            format="json",
        ),
        400,
    )
    assert "url" in error["details"], error
    assert "Refused" in " ".join(error["details"]["url"])
    assert url.split("/")[2] in error["message"]  # names the URL by its host
    assert not world.project.webhooks.exists()


def test_changing_a_url_to_an_internal_one_is_refused(world, as_user, fake_dns):
    fake_dns({"hooks.example.net": [PUBLIC]})
    hook = webhook_create(
        actor=world.lead, project=world.project, url="https://hooks.example.net/x"
    )
    error = assert_error(
        as_user(world.lead).patch(
            f"/api/v1/webhooks/{hook.pk}/", {"url": "http://169.254.169.254/"}, format="json"
        ),
        400,
    )
    assert "url" in error["details"]
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example.net/x"


def test_a_host_with_any_internal_address_is_refused(world, as_user, fake_dns):
    fake_dns({"mixed.example.net": [PUBLIC, "10.0.0.7"], "v6.example.net": [PUBLIC, "::1"]})
    for host in ("mixed.example.net", "v6.example.net"):
        error = assert_error(
            as_user(world.lead).post(
                "/api/v1/webhooks/",
                {"project": world.project.slug, "url": f"https://{host}/hook"},
                format="json",
            ),
            400,
        )
        assert host in error["message"]
    fake_dns({"public.example.net": [PUBLIC, "2606:2800:220:1:248:1893:25c8:1946"]})
    r = as_user(world.lead).post(
        "/api/v1/webhooks/",
        {"project": world.project.slug, "url": "https://public.example.net/hook"},
        format="json",
    )
    assert r.status_code == 201, r.content


def test_allowed_hosts_admit_named_internal_hosts_only(world, as_user, settings):
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "Receiver.Internal"]
    lead = as_user(world.lead)
    for url in ("http://127.0.0.1:8080/hook", "http://receiver.internal/hook"):
        r = lead.post("/api/v1/webhooks/", {"project": world.project.slug, "url": url})
        assert r.status_code == 201, r.content
    for url in ("http://localhost:8080/hook", "http://2130706433/", "http://127.0.0.2/"):
        r = lead.post("/api/v1/webhooks/", {"project": world.project.slug, "url": url})
        assert_error(r, 400)


def test_delivery_rechecks_the_address_and_never_connects_inside(
    world, receiver, fake_dns, settings, django_capture_on_commit_callbacks
):
    """Public when the lead subscribed; the name points inside at delivery time."""
    rx = receiver()
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = []  # the receiver is NOT allowed by name
    answers = {"now": [PUBLIC]}
    fake_dns({"rebind.example.net": lambda: answers["now"]})
    hook = webhook_create(
        actor=world.lead,
        project=world.project,
        url=f"http://rebind.example.net:{rx.port}/hook?token=s3cr3t",
    )
    answers["now"] = ["127.0.0.1"]
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)

    assert rx.requests == []
    delivery = Delivery.objects.filter(webhook=hook).earliest("id")
    assert delivery.status == "failed"
    assert "Refused" in delivery.error and "rebind.example.net" in delivery.error
    assert delivery.status_code is None and delivery.response_excerpt == ""
    assert delivery.duration_ms is None
    assert "127.0.0.1" not in delivery.error  # no map of internal names either


def test_the_connection_goes_to_the_address_that_was_checked(
    world, fake_dns, monkeypatch, django_capture_on_commit_callbacks
):
    """DNS rebinding: the first answer is public, every later one internal. One look-up per
    attempt, and the socket is opened to the checked address."""
    calls = {"n": 0}

    def answer():
        calls["n"] += 1
        return [PUBLIC] if calls["n"] % 2 == 0 else ["127.0.0.1"]

    fake_dns({"flip.example.net": [PUBLIC]})
    hook = webhook_create(actor=world.lead, project=world.project, url="http://flip.example.net/")
    fake_dns({"flip.example.net": answer})
    calls["n"] = 1  # the next look-up answers the public address, the one after it loopback
    fake_dns.lookups.clear()
    from webhooks import net

    opened = []

    def refuse(family, sockaddr, timeout):
        opened.append(sockaddr[0])
        raise ConnectionRefusedError("test: not connecting")

    monkeypatch.setattr(net, "_open_socket", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    assert opened == [PUBLIC]
    assert fake_dns.lookups["flip.example.net"] == 1
    delivery = Delivery.objects.filter(webhook=hook).earliest("id")
    assert delivery.status == "failed" and delivery.error == "Could not connect to the receiver."


def test_host_header_and_path_keep_the_name_while_connecting_to_the_address(
    world, receiver, fake_dns, settings, django_capture_on_commit_callbacks
):
    rx = receiver()
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = ["rx.internal"]
    fake_dns({"rx.internal": ["127.0.0.1"]})
    webhook_create(
        actor=world.lead, project=world.project, url=f"http://rx.internal:{rx.port}/p/q?x=1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    (headers, _body) = rx.requests[0]
    assert headers["Host"] == f"rx.internal:{rx.port}"


def test_redirects_are_not_followed(world, receiver, django_capture_on_commit_callbacks):
    inside = receiver()
    rx = receiver([302], headers={"Location": inside.url})
    hook = webhook_create(actor=world.lead, project=world.project, url=rx.url)
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    assert len(rx.requests) == 1 and inside.requests == []
    delivery = Delivery.objects.filter(webhook=hook).earliest("id")
    assert delivery.status == "failed" and delivery.status_code == 302
    assert "redirects are not followed" in delivery.error


def test_the_deliveries_list_is_no_port_scanner(
    world, receiver, as_user, django_capture_on_commit_callbacks, settings
):
    """A real receiver's answer is kept short; a failed connection reads the same whatever the
    reason (refused, reset, unreachable), with no timing."""
    rx = receiver([500], body=b"x" * 5000)
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    talker = webhook_create(actor=world.lead, project=world.project, url=rx.url)
    closed = webhook_create(actor=world.lead, project=world.project, url="http://127.0.0.1:9/")
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    lead = as_user(world.lead)
    (answered,) = [
        d
        for d in lead.get(f"/api/v1/webhooks/{talker.pk}/deliveries/").json()["results"]
        if d["attempted_at"]
    ]
    assert answered["status_code"] == 500 and 0 < len(answered["response_excerpt"]) <= 200
    (refused,) = [
        d
        for d in lead.get(f"/api/v1/webhooks/{closed.pk}/deliveries/").json()["results"]
        if d["attempted_at"]
    ]
    assert refused["error"] == "Could not connect to the receiver."
    assert refused["response_excerpt"] == "" and refused["duration_ms"] is None
    assert refused["status_code"] is None
