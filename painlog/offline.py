"""The offline diary's server side: which browser data belongs to whom, and the web app
manifest. The browser side is static/js/offline-diary.js (pages) and
static/js/service-worker.js (the cache of the patient's own pages)."""

from django.templatetags.static import static
from django.urls import reverse
from django.utils.crypto import salted_hmac

# The header that marks a page the service worker may keep for offline use, and for whom.
OFFLINE_KEY_HEADER = "X-Offline-Diary"


def offline_key(user):
    """An opaque name for one patient's queue and cached pages on a device: the browser never
    learns the user's id, and a key seen after another means another person logged in."""
    return salted_hmac("painlog.offline-diary", str(user.pk)).hexdigest()[:32]


def web_manifest():
    """What a phone needs to install the diary: it opens on the patient's home."""
    home = reverse("painlog:home")
    return {
        "id": home,
        "name": "TMR Clinic pain log",
        "short_name": "Pain log",
        "description": "Log phantom and residual limb pain, with or without a signal.",
        "start_url": home,
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0d6efd",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("icons/icon-maskable-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "maskable",
            },
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
