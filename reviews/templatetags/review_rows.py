"""``{% review_rows reviews "Shown when empty." %}``: the lines of a list of reviews."""

from django import template

from reviews.views.fragments import review_rows_html

register = template.Library()


@register.simple_tag
def review_rows(reviews, empty: str = ""):
    return review_rows_html(reviews, empty)
