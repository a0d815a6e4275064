import os

from django.core.wsgi import get_wsgi_application

from backoffice.checks import refuse_to_start_if_misconfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
application = get_wsgi_application()
refuse_to_start_if_misconfigured("web server")
