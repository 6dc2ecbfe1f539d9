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
