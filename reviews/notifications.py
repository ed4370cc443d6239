"""E-mail notifications, sent after commit as background tasks (django.tasks)."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task

from reviews.models import Review, SignOff

logger = logging.getLogger("specgate.notifications")


@task()
def send_notification(recipients: list[str], subject: str, body: str) -> int:
    recipients = sorted({r for r in recipients if r})
    if not recipients:
        return 0
    sent = send_mail(
        subject=f"[{settings.SPECGATE_SITE_NAME}] {subject}",
        message=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )
    logger.info("notification sent", extra={"subject": subject, "recipients": len(recipients)})
    return sent


def _enqueue(recipients, subject, body) -> None:
    try:
        send_notification.enqueue(list(recipients), subject, body)
    except Exception:  # a notification must never break the change that caused it
        logger.exception("could not enqueue notification %r", subject)


def _review_line(review: Review) -> str:
    return f'"{review.spec.title}" (review #{review.pk}, project {review.spec.project.slug})'


def notify_assignment(review: Review, emails: list[str]) -> None:
    _enqueue(
        emails,
        f"You were asked to review {review.spec.title}",
        f"You have been assigned to review {_review_line(review)}.",
    )


def notify_changes_requested(review: Review, comment: str) -> None:
    _enqueue(
        [review.spec.author.email, review.created_by.email],
        f"Changes requested on {review.spec.title}",
        f"A lead requested changes on {_review_line(review)}.\n\n{comment}",
    )


def notify_approved(review: Review) -> None:
    reviewers = [a.user.email for a in review.assignments.select_related("user")]
    _enqueue(
        [review.spec.author.email, review.created_by.email, *reviewers],
        f"{review.spec.title} is ready for development",
        f"{_review_line(review)} was approved: ready for development.",
    )


def notify_stale_signoffs(signoff_ids: list[int]) -> None:
    for signoff in SignOff.objects.filter(pk__in=signoff_ids).select_related(
        "user", "review__spec__project"
    ):
        _enqueue(
            [signoff.user.email],
            f"Your sign-off on {signoff.review.spec.title} is stale",
            f"Your sign-off on {_review_line(signoff.review)} no longer covers the "
            f"current content: {signoff.stale_reason}. Please review again.",
        )
