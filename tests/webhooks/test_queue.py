"""A slow receiver holds only the webhooks' own queue, and only briefly: deliveries run on the
``webhooks`` task queue with a short connect timeout and a bounded attempt."""

import socket
import threading
import time

import pytest
from django_tasks_db.backend import DatabaseBackend

from config.settings import base
from reviews.notifications import send_notification
from reviews.services import review_submit
from webhooks.models import Delivery
from webhooks.services import webhook_create
from webhooks.tasks import deliver

pytestmark = pytest.mark.django_db


def test_deliveries_have_their_own_queue_and_e_mails_keep_theirs(settings):
    assert deliver.queue_name == "webhooks"
    assert send_notification.queue_name == "default"
    for tasks in (base.TASKS, settings.TASKS):  # production and tests declare both queues
        assert set(tasks["default"]["QUEUES"]) == {"default", "webhooks"}
    backend = DatabaseBackend("default", base.TASKS["default"])
    for task in (deliver, send_notification):
        backend.validate_task(task)


@pytest.fixture
def black_hole():
    """A loopback port whose accept queue is full: a connection to it neither succeeds nor
    fails, it waits (as a receiver behind a firewall that drops packets does)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    address = server.getsockname()
    fillers = []
    for _ in range(3):
        try:
            fillers.append(socket.create_connection(address, timeout=0.3))
        except OSError:
            break
    yield address
    for s in fillers:
        s.close()
    server.close()


def _attempt(world, url, django_capture_on_commit_callbacks):
    hook = webhook_create(actor=world.lead, project=world.project, url=url)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        review_submit(actor=world.author, review=world.review)
    return time.monotonic() - started, Delivery.objects.filter(webhook=hook).earliest("id")


def test_a_receiver_that_does_not_accept_is_given_up_after_the_connect_timeout(
    world, settings, black_hole, django_capture_on_commit_callbacks
):
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SPECGATE_WEBHOOK_CONNECT_TIMEOUT = 0.5
    settings.SPECGATE_WEBHOOK_READ_TIMEOUT = 10
    host, port = black_hole
    took, delivery = _attempt(world, f"http://{host}:{port}/", django_capture_on_commit_callbacks)
    assert took < 2.5
    assert delivery.status == "failed" and delivery.error == "Could not connect to the receiver."


def test_a_receiver_that_never_answers_is_given_up_after_the_read_timeout(
    world, settings, receiver, django_capture_on_commit_callbacks
):
    rx = receiver()
    rx.hang_first = True
    settings.SPECGATE_WEBHOOK_CONNECT_TIMEOUT = 1
    settings.SPECGATE_WEBHOOK_READ_TIMEOUT = 0.5
    took, delivery = _attempt(world, rx.url, django_capture_on_commit_callbacks)
    assert took < 3
    assert delivery.status == "failed"
    assert delivery.error == "No answer from the receiver in time."


@pytest.fixture
def trickler():
    """A receiver that answers one byte every 0.2 s, for ever: the read timeout never fires."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(0.5)
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                while not stop.is_set():
                    conn.sendall(b"X")
                    time.sleep(0.2)
            except OSError:
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()
    stop.set()
    thread.join(5)
    server.close()


def test_a_receiver_that_trickles_its_answer_is_cut_off(
    world, settings, trickler, django_capture_on_commit_callbacks
):
    settings.SPECGATE_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.SPECGATE_WEBHOOK_CONNECT_TIMEOUT = 0.5
    settings.SPECGATE_WEBHOOK_READ_TIMEOUT = 1  # the whole attempt: at most 2 s
    host, port = trickler
    took, delivery = _attempt(world, f"http://{host}:{port}/", django_capture_on_commit_callbacks)
    assert took < 4
    assert delivery.status == "failed"
