from django import template

from painlog.offline import offline_key

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_diary_key(context):
    """The logged-in patient's key for their queue and cached pages (base.html asks only for
    patients)."""
    return offline_key(context["request"].user)
