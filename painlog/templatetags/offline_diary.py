from django import template
from django.utils.translation import gettext as _

from painlog.offline import offline_key

register = template.Library()


@register.simple_tag(takes_context=True)
def offline_diary_key(context):
    """The logged-in patient's key for their queue and cached pages (base.html asks only for
    patients)."""
    return offline_key(context["request"].user)


@register.simple_tag
def offline_diary_text():
    """What static/js/offline-diary.js and the service worker say, in the page's language: the
    page carries them (json_script), since a kept page must speak without the server. Words in
    braces are filled in by the script."""
    return {
        "entry": _("{when}: phantom limb pain {phantom}, residual limb pain {residual}"),
        "notSaved": _("Not saved: {reason}"),
        "remove": _("Remove from this phone"),
        "waiting": _("Waiting to send"),
        "noConnection": _(
            "No connection yet. Your entries are kept on this phone and sent when it is back."
        ),
        "logInAgain": _(
            "Log in again to send your entries: they are kept on this phone until then."
        ),
        "refused": _("the entry was refused."),
        "noAnswer": _(
            "The clinic's server did not answer. Your entries are kept; try again later."
        ),
        "sentOne": _("Sent {count} entry to your clinic."),
        "sentMany": _("Sent {count} entries to your clinic."),
        "chooseBoth": _("Choose both scores, phantom and residual limb pain, then tap Save."),
        "savedHere": _("Saved on this phone: it will be sent when you are back online."),
        # The service worker's page for a page it has not kept (static/js/service-worker.js).
        "notKeptTitle": _("No connection"),
        "notKept": _(
            "This page was not kept on this phone. Open your pain log once with a connection, "
            "and it will open without one next time."
        ),
    }
