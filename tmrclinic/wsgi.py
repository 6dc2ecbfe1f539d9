import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tmrclinic.settings")

application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules and models) lives as long as the
# worker: frozen, it is left out of the garbage collector's full collections, which then scan
# only what requests create. A worklist of a thousand patients makes enough objects to trigger
# one every third request, about 30 ms each with the startup heap in it, 3 ms without
# (bench/README.md, "Garbage collection"). gunicorn imports this module in each worker.
gc.freeze()
# A clinician's page makes tens of thousands of short-lived objects (a chart of two years is
# 1,500 points): at Python's default threshold (700) the young generation was collected six
# times a page, 4 ms of a 100 ms page. Collected every 10,000 allocations it is 1 to 3 ms; the
# cycles a request leaves are few and small, so memory hardly grows (bench/README.md).
gc.set_threshold(10_000, 10, 10)
