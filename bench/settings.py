"""
Settings for bench/run_http.py only: the app's own settings, whatever the environment makes of
them, plus two bare views to compare the app's pages with (bench/urls.py). Never deployed.
"""

from tmrclinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
