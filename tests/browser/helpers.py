"""Small helpers the review page's browser tests share."""

from reviews.models import Response


def item_row(page, item):
    """The item's row on the review page."""
    return page.locator(f"#item-{item.pk}")


def saved_answer(world, item) -> tuple[str, str]:
    """The verdict and note the server holds for the item."""
    response = Response.objects.get(review=world.review, item=item)
    return response.verdict, response.note
