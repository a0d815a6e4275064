"""Settings of the InfinitePay back office, read from the environment (see .env.example).

The defaults are the embedded ones: SQLite, a broker on the file system, the sandbox as
InfinitePay's test endpoint. Production sets DEBUG=false and real services by URL.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ

from backoffice.development import DEVELOPMENT_SECRET_KEY, development_encryption_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# Production (DEBUG=false) has no default: a missing or published key is reported by
# `manage.py check` and refused at start (backoffice.checks).
SECRET_KEY = env.str("SECRET_KEY", default="") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # modeltranslation patches the admin, so it comes before it.
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_countries",
    "axes",
    "backoffice",
    "integrations",
    "payment_rules",
    "payment_term",
    "checkout",
    "infinitepay",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"
ASGI_APPLICATION = "backoffice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'backoffice.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# backoffice.prepared: off behind a proxy that shares sessions (PgBouncer in transaction mode).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one SQLite file: wait for locks
    # instead of failing, and let readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# Login throttling (django-axes), on the back office's and the shop's login alike: after
# LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address, that pair is
# locked for LOGIN_LOCKOUT_MINUTES (counted from the last failure), right password or not.
# A successful login clears the count. Failures are kept in the database, so every web
# process sees them; staff unlock early by deleting the "access attempt" in the back office.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "backoffice.views.login_locked_out"
# Throttling needs only the failures; a row per successful login would grow without end.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner at every start; failures and lockouts are still logged

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "German")]
# The catalogue of the top-level templates; each app keeps its own in <app>/locale/.
LOCALE_PATHS = [BASE_DIR / "locale"]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# The shop's time zone: dates on invoices and InfinitePay's TRS_DT are written in it.
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# gunicorn serves static files through WhiteNoise; hashed names need collectstatic first,
# so only production (DEBUG=false, the Docker image) uses them.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request at INFO; provider calls are recorded as ApiCall rows instead.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-axes logs every failed login at INFO too; failures and lockouts stay.
        "axes": {"level": "WARNING"},
    },
}

# Security: behind TLS in production (DEBUG=false), plain HTTP on a developer's machine.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probes speak plain HTTP inside the network
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Secrets of integrations (passwords, HMAC secrets) are encrypted with Fernet keys.
# FIELD_ENCRYPTION_KEYS lists them newest first: the first encrypts, all decrypt, so a
# new key goes in front and `manage.py rotate_encryption_keys` re-encrypts everything.
# The development default derives one key from SECRET_KEY; production must set its own
# (backoffice.checks refuses a derived one).
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[development_encryption_key(SECRET_KEY)] if DEBUG else []
)

# Celery: the embedded broker, a folder of files (backoffice.broker, no server) by default;
# Redis in production.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filequeue://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's own file transport can hand a worker a half-written message: an old .env's
    # filesystem:// gets the embedded broker instead.
    CELERY_BROKER_URL = "filequeue://"
if CELERY_BROKER_URL.startswith("filequeue://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Created with its subfolders by the broker when it is first used.
        "folder": str(env.path("CELERY_BROKER_FOLDER", default=VAR_DIR / "broker")),
        # The file system is polled; a short interval keeps each pipeline step quick.
        "polling_interval": 0.1,
    }
else:
    # A message a killed worker held comes back after this long (tasks are acks_late).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
# Every task is idempotent: acknowledged once done, and redelivered if its worker died.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fixup closes the database connection before and after every task unless
# this is set, so each task of a worker thread paid for a new connection (bench/pipeline.py).
# backoffice.celery instead closes only broken or CONN_MAX_AGE-old ones, as Django does
# between requests.
CELERY_DB_REUSE_MAX = 2**62
# Periodic tasks (Celery beat): each entry names a task by its explicit name.
CELERY_BEAT_SCHEDULE: dict = {}

# InfinitePay's endpoints; an integration's Test Mode picks the test one. Each serves its
# contract at ?wsdl. The run command, docker-compose, the tests and the benchmarks point the
# test endpoint at the sandbox themselves.
INFINITEPAY_LIVE_URL = env.str(
    "INFINITEPAY_LIVE_URL", default="https://app.infinitepay.de/ws/InfinitePayAPI"
)
INFINITEPAY_TEST_URL = env.str(
    "INFINITEPAY_TEST_URL", default="https://test.infinitepay.de/ws/InfinitePayAPI"
)
INFINITEPAY_CONNECT_TIMEOUT = env.float("INFINITEPAY_CONNECT_TIMEOUT", default=5.0)
INFINITEPAY_READ_TIMEOUT = env.float("INFINITEPAY_READ_TIMEOUT", default=30.0)

# Storefront: the one shipping method is a flat rate, net, in the cart's currency.
SHIPPING_FLAT_RATE = Decimal(env.str("SHIPPING_FLAT_RATE", default="9.90"))
# The guarantee pipeline: how often a step is tried, how long between tries, when the
# sweeper takes over a step whose worker vanished, and how often it looks.
INFINITEPAY_MAX_ATTEMPTS = env.int("INFINITEPAY_MAX_ATTEMPTS", default=6)
INFINITEPAY_RETRY_BASE_SECONDS = env.float("INFINITEPAY_RETRY_BASE_SECONDS", default=2.0)
INFINITEPAY_RETRY_MAX_SECONDS = env.float("INFINITEPAY_RETRY_MAX_SECONDS", default=300.0)
# Longer than any one step can last (loading the endpoint's WSDL, then the call), so a step
# still in flight after it has lost its worker.
INFINITEPAY_STEP_LEASE_SECONDS = env.float(
    "INFINITEPAY_STEP_LEASE_SECONDS",
    default=2 * (INFINITEPAY_CONNECT_TIMEOUT + INFINITEPAY_READ_TIMEOUT) + 30,
)
# No task outlives a step's lease: past it, the soft limit interrupts the task (the step is
# recorded as failed with the reason); the hard limit ends a process that did not stop. The
# thread pool does not enforce them; there the calls' own timeouts bound each step.
CELERY_TASK_SOFT_TIME_LIMIT = INFINITEPAY_STEP_LEASE_SECONDS
CELERY_TASK_TIME_LIMIT = INFINITEPAY_STEP_LEASE_SECONDS + 30
INFINITEPAY_PENDING_GRACE_SECONDS = env.float("INFINITEPAY_PENDING_GRACE_SECONDS", default=60.0)
INFINITEPAY_SWEEP_INTERVAL_SECONDS = env.float("INFINITEPAY_SWEEP_INTERVAL_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["infinitepay-sweep"] = {
    "task": "infinitepay.sweep_guarantees",
    "schedule": INFINITEPAY_SWEEP_INTERVAL_SECONDS,
}
