import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkilike.settings")

django_application = get_wsgi_application()

# After django.setup(): the tracking redirect's fast path wraps Django (ADR 11).
from campaigns.tracking.fast_redirect import RedirectFastPath  # noqa: E402

application = RedirectFastPath(django_application)
