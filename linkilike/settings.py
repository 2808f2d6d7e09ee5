"""Linkilike settings: one module, every deployment difference read from the environment.

With nothing configured the platform runs on embedded defaults (SQLite, a file-system
Celery broker, a file cache), so ``make run`` works on a fresh machine. Setting
``DATABASE_URL``, ``REDIS_URL`` and ``CELERY_BROKER_URL`` moves the same code onto
PostgreSQL and Redis. Every variable is listed in ``.env.example``.
"""

from __future__ import annotations

import hmac
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINKILIKE_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- core -----------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
# Under pytest the suite always runs on PostgreSQL and Redis (see the defaults below).
TESTING = env_bool("LINKILIKE_TESTING", "pytest" in sys.modules)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("LINKILIKE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sites",
    # third party
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "knox",  # hashed, expiring API tokens (accounts.ApiToken)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_countries",
    "csp",
    # Linkilike
    "linkilike.apps.PlatformConfig",
    "accounts",
    "brands",
    "influencers",
    "campaigns",
    "payouts",
    "networks",
    "sandbox",
]
# The benchmarks' seeding commands and the browser journey's steps (bench/management/commands) exist only
# where tests, benchmarks or the browser journey run.
if TESTING or env_bool("LINKILIKE_BENCH") or env_bool("LINKILIKE_JOURNEY"):
    INSTALLED_APPS.append("bench")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # TRACE: 405 before any view runs (after LocaleMiddleware: the API's JSON detail is translated).
    "linkilike.http_errors.RefusedMethodMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "linkilike.audit.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffMfaRequiredMiddleware",
]

ROOT_URLCONF = "linkilike.urls"
WSGI_APPLICATION = "linkilike.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linkilike.workspaces.workspaces",
            ],
        },
    },
]

# --- data -----------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        env_str(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/linkilike" if TESTING else f"sqlite:///{VAR_DIR / 'linkilike.sqlite3'}",
        ),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if TESTING:
    # One test database per run, so parallel runs on a shared server never collide.
    DATABASES["default"]["TEST"] = {"NAME": env_str("LINKILIKE_TEST_DB_NAME", f"test_linkilike_{os.getpid()}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the embedded database.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# A read replica for analytics reads (results pages and results API; linkilike/db_routing.py, ADR 16).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env_str("DATABASE_REPLICA_URL"), conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )
elif TESTING:
    # Tests get the alias even without a replica; the router uses it only where a test turns
    # ANALYTICS_READS_DATABASE on.
    DATABASES["replica"] = DATABASES["default"].copy()
if "replica" in DATABASES:
    # In tests the replica is a mirror: a second connection to the test database (same data).
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
ANALYTICS_READS_DATABASE = "replica" if env_str("DATABASE_REPLICA_URL") else None
DATABASE_ROUTERS = ["linkilike.db_routing.AnalyticsReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0" if TESTING else "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    if TESTING:  # parallel test runs share the Redis server; each clears only its own keys
        CACHES["default"]["KEY_PREFIX"] = f"test{os.getpid()}"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- auth -----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: its password_changed hook revokes the person's API tokens on every password change.
    {"NAME": "accounts.password_hooks.RevokeApiTokensOnPasswordChange"},
]
if TESTING:
    # Tests make thousands of users: a fast hash there (never outside tests), the real ones everywhere else.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# The sign-in form says how to get in (the password reset) while "login_failed" below pauses an address.
ACCOUNT_FORMS = {"login": "accounts.forms_login.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Linkilike] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https:") else "http"
# allauth's defaults, stated so nobody switches them off by accident.
ACCOUNT_RATE_LIMITS = {
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "20/m/ip",
    "signup": "20/m/ip",
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Linkilike"
MFA_TOTP_PERIOD = 30

# --- email ----------------------------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Linkilike <hello@linkilike.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- i18n -----------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
# locale/ first: our translations win over every app's. locale_overrides/ holds German translations of
# django-allauth's own strings in our form of address ("Sie"); it is kept apart because makemessages would
# mark msgids that occur in no source of ours as obsolete in locale/ (see that catalogue's header).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_overrides"]
#: Day-first English dates and a 24-hour clock (linkilike/formats/en/formats.py).
FORMAT_MODULE_PATH = ["linkilike.formats"]
TIME_ZONE = "Europe/Vienna"
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("LINKILIKE_MEDIA_ROOT", str(VAR_DIR / "media")))
# Uploads go through Django's storage API: the file system under MEDIA_ROOT (`make run`; only development
# serves /media/), or, with LINKILIKE_MEDIA_S3_BUCKET set, a private bucket on any S3-compatible service
# (linkilike/media_storage.py) whose files pages and networks reach through presigned URLs.
#: How long a presigned URL in a page (or the API) stays valid.
MEDIA_URL_SECONDS = env_int("LINKILIKE_MEDIA_URL_SECONDS", 60 * 60)
#: How long a network that fetches images itself (Instagram, Threads) may take to fetch its copy.
MEDIA_NETWORK_URL_SECONDS = env_int("LINKILIKE_MEDIA_NETWORK_URL_SECONDS", 60 * 60)
MEDIA_S3_BUCKET = env_str("LINKILIKE_MEDIA_S3_BUCKET")
#: Where browsers load uploaded files from (added to the Content-Security-Policy); "" on the file system.
MEDIA_ORIGIN = ""
_media_storage: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if MEDIA_S3_BUCKET:
    _s3_region = env_str("LINKILIKE_MEDIA_S3_REGION", "us-east-1")
    _s3_endpoint = env_str("LINKILIKE_MEDIA_S3_ENDPOINT_URL")  # empty: AWS itself
    _s3_public = (
        env_str("LINKILIKE_MEDIA_S3_PUBLIC_URL") or _s3_endpoint or f"https://s3.{_s3_region}.amazonaws.com"
    ).rstrip("/")
    _s3_style = env_str("LINKILIKE_MEDIA_S3_ADDRESSING_STYLE") or ("path" if _s3_endpoint else "virtual")
    _s3_options: dict[str, Any] = {
        "bucket_name": MEDIA_S3_BUCKET,
        "region_name": _s3_region,
        "endpoint_url": _s3_endpoint or None,
        "public_endpoint_url": _s3_public,
        "addressing_style": _s3_style,
        "signature_version": "s3v4",
        "querystring_auth": True,  # private bucket: every URL is signed and expires
        "querystring_expire": MEDIA_URL_SECONDS,
        "default_acl": None,  # no public-read: objects inherit the bucket's private default
        "file_overwrite": False,
    }
    if env_str("LINKILIKE_MEDIA_S3_ACCESS_KEY_ID"):  # else boto3's own chain (instance role, AWS_* variables)
        _s3_options["access_key"] = env_str("LINKILIKE_MEDIA_S3_ACCESS_KEY_ID")
        _s3_options["secret_key"] = env_str("LINKILIKE_MEDIA_S3_SECRET_ACCESS_KEY")
    _media_storage = {"BACKEND": "linkilike.media_storage.MediaS3Storage", "OPTIONS": _s3_options}
    _s3_parts = urlsplit(_s3_public)
    _s3_host = f"{MEDIA_S3_BUCKET}.{_s3_parts.netloc}" if _s3_style == "virtual" else _s3_parts.netloc
    MEDIA_ORIGIN = f"{_s3_parts.scheme}://{_s3_host}"
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API ------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "accounts.api_auth.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env_str("API_USER_RATE", "2000/hour"), "money": "60/minute"},
}
# Personal API tokens (accounts.ApiToken, django-rest-knox): stored as SHA-512 digests, sent as
# "Authorization: Token <token>", valid for API_TOKEN_TTL_DAYS, made and revoked at /accounts/tokens/.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name, not a secret
# Knox's own migrations create its (swapped, unused) table anyway, whose foreign key to the user then
# blocks TRUNCATE in test flushes; the model in use is migrated by accounts.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 30)),
    "TOKEN_PREFIX": "lk_",  # lets secret scanners recognise a leaked token
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Linkilike API",
    "DESCRIPTION": "Brand workspaces, campaigns, influencer offers and payouts. All brand data "
    "lives under /api/v1/brands/{brand_slug}/ and answers 404 to non-members. Authenticate with a "
    "personal token made at /accounts/tokens/ and sent as `Authorization: Token <token>`; tokens "
    "expire (30 days unless configured otherwise) and are revoked when you revoke them or change "
    "or reset your password.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge image from validator.swagger.io: the docs load nothing from other hosts (the CSP forbids it).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"LanguageEnum": "influencers.topics.LANGUAGE_CHOICES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "linkilike.api_schema.document_error_responses",
    ],
}

# --- Celery ---------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than any countdown/ETA we schedule and any task time limit (T3).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", TESTING)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "health-heartbeat": {"task": "linkilike.tasks.heartbeat", "schedule": timedelta(minutes=1)},
    "partitions-maintain": {"task": "linkilike.tasks.partitions_maintain", "schedule": timedelta(hours=6)},
    "campaigns-complete-due": {"task": "campaigns.tasks.campaigns_complete_due", "schedule": timedelta(minutes=15)},
    "matching-live": {"task": "campaigns.matching.tasks.matching_run_live", "schedule": timedelta(minutes=15)},
    "offers-expire": {"task": "campaigns.matching.tasks.offers_expire_due", "schedule": timedelta(minutes=15)},
    "payouts-release-held-earnings": {
        "task": "campaigns.earnings.tasks.earnings_release_due",
        "schedule": timedelta(hours=1),
    },
    "sandbox-simulate": {"task": "sandbox.tasks.sandbox_simulate", "schedule": timedelta(minutes=1)},
    "publishing-run-due": {"task": "campaigns.publishing.tasks.publications_run_due", "schedule": timedelta(minutes=1)},
    "metrics-pull-due": {"task": "campaigns.metrics.tasks.metrics_pull_due", "schedule": timedelta(minutes=1)},
    "networks-refresh-tokens": {"task": "networks.tasks.tokens_refresh_due", "schedule": timedelta(minutes=10)},
    "networks-refresh-profiles": {"task": "networks.tasks.profiles_refresh_stale", "schedule": timedelta(hours=6)},
    "tracking-clicks-drain": {"task": "campaigns.tracking.tasks.clicks_drain_task", "schedule": timedelta(seconds=10)},
    "tracking-click-earnings": {
        "task": "campaigns.tracking.tasks.click_earnings_accrue_due",
        "schedule": timedelta(minutes=5),
    },
}

# Queues by kind (docs/SCALING.md §2): each kind of work has its own queue and worker pool, so a backlog of
# one kind (10,000 metric pulls) never delays another (a publish due now; drill Q1). Every task is routed by
# name, explicitly: tests/test_celery_queues.py fails for a registered task without a route here, a route to
# an undeclared queue, or a queue no worker group consumes. Beat sends through the same routes.
#   publish  network-bound, latency-sensitive: publishing, resolving expired leases, proof checks
#   metrics  network reads under the shared rate limiter (ADR 13): the metrics sweep (which is the pull
#            itself, in batches) and profile refreshes
#   clicks   database-bound booking: the click drain, click and metric earnings accrual, the hold release
#   email    every email
#   default  matching, token refresh, payouts, the demo network's simulation
#   sweeps   the periodic sweeps that find due work and hand it on or resolve it; short, on a small pool of
#            their own so they never wait behind a backlog (the T1 drill saw expired leases queued behind
#            1,000 publishes). Sweeps that are the bulk work themselves go to the queue of their kind.
TASK_QUEUE_NAMES = ("publish", "metrics", "clicks", "email", "default", "sweeps")
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in TASK_QUEUE_NAMES)
CELERY_TASK_DEFAULT_QUEUE = "default"  # only for a task sent by a name with no route (tests refuse that)
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {
    "campaigns.publishing.tasks.publication_publish": {"queue": "publish"},
    "campaigns.publishing.tasks.publication_resolve": {"queue": "publish"},
    "campaigns.publishing.tasks.proof_verify": {"queue": "publish"},
    "campaigns.metrics.tasks.metrics_pull_due": {"queue": "metrics"},
    "networks.tasks.account_profile_refresh": {"queue": "metrics"},
    "campaigns.tracking.tasks.clicks_drain_task": {"queue": "clicks"},
    "campaigns.tracking.tasks.click_earnings_accrue_due": {"queue": "clicks"},
    "campaigns.earnings.tasks.earnings_accrue": {"queue": "clicks"},
    "campaigns.earnings.tasks.earnings_release_due": {"queue": "clicks"},
    "brands.tasks.invitation_email_send": {"queue": "email"},
    "campaigns.matching.tasks.offer_new_email_send": {"queue": "email"},
    "campaigns.tasks.campaign_status_email_send": {"queue": "email"},
    "campaigns.tasks.caption_waiting_email_send": {"queue": "email"},
    "campaigns.influencer.tasks.caption_decision_email_send": {"queue": "email"},
    "networks.tasks.account_reconsent_email_send": {"queue": "email"},
    "payouts.tasks.payout_status_email_send": {"queue": "email"},
    "campaigns.matching.tasks.matching_run": {"queue": "default"},
    "campaigns.matching.tasks.matching_run_live": {"queue": "default"},
    "networks.tasks.account_token_refresh": {"queue": "default"},
    "payouts.tasks.payout_batches_run": {"queue": "default"},
    "payouts.tasks.local_checkout_webhook_send": {"queue": "default"},
    "sandbox.tasks.sandbox_simulate": {"queue": "default"},
    "linkilike.tasks.heartbeat": {"queue": "sweeps"},
    "linkilike.tasks.partitions_maintain": {"queue": "sweeps"},
    "campaigns.publishing.tasks.publications_run_due": {"queue": "sweeps"},
    "campaigns.tasks.campaigns_complete_due": {"queue": "sweeps"},
    "campaigns.matching.tasks.offers_expire_due": {"queue": "sweeps"},
    "networks.tasks.tokens_refresh_due": {"queue": "sweeps"},
    "networks.tasks.profiles_refresh_stale": {"queue": "sweeps"},
}
# Worker groups: the queues each pool consumes. docker-compose.yml runs one service per group
# (``worker-<group>``, ``-Q`` exactly these queues) and Procfile.dev one worker for all of them; the queue
# tests check both files against this.
WORKER_QUEUE_GROUPS: dict[str, tuple[str, ...]] = {name: (name,) for name in TASK_QUEUE_NAMES}

# --- monthly partitions (ADR 19; PostgreSQL only) -----------------------------------------
# Months kept ready ahead of the current one by the partitions_maintain task.
PARTITIONS_MONTHS_AHEAD = env_int("LINKILIKE_PARTITIONS_MONTHS_AHEAD", 3)
# Whole months kept before the current one; 0 keeps every month. Clicks of a month with a billable click
# not yet turned into earnings are kept whatever this says.
CLICKS_RETENTION_MONTHS = env_int("LINKILIKE_CLICKS_RETENTION_MONTHS", 0)
AUDIT_RETENTION_MONTHS = env_int("LINKILIKE_AUDIT_RETENTION_MONTHS", 0)
# What happens to a month past its retention: "detach" keeps it as a table <partition>_archived_<when>
# for the operator to archive (pg_dump -t) and drop; "drop" deletes it.
PARTITIONS_EXPIRED = env_str("LINKILIKE_PARTITIONS_EXPIRED", "detach")

# --- tracking links (campaigns.tracking) --------------------------------------------------

TRACKING_DEDUPE_HOURS = env_int("LINKILIKE_TRACKING_DEDUPE_HOURS", 24)
TRACKING_VELOCITY_PER_MINUTE = env_int("LINKILIKE_TRACKING_VELOCITY_PER_MINUTE", 30)
# One network address (IPv4, or an IPv6 /64) earns at most this many billable clicks across all links
# in the window (ADR 10).
TRACKING_IP_RATE_LIMIT = env_int("LINKILIKE_TRACKING_IP_RATE_LIMIT", 10)
TRACKING_IP_RATE_MINUTES = env_int("LINKILIKE_TRACKING_IP_RATE_MINUTES", 10)
TRACKING_REACH_FOLLOWERS_FACTOR = env_int("LINKILIKE_TRACKING_REACH_FOLLOWERS_FACTOR", 10)
# F3: engagements per follower above k x the influencer's median over their last shares (with enough history
# and above a floor of engagements, so small numbers never trip it) put the share on hold.
TRACKING_ENGAGEMENT_ANOMALY_FACTOR = env_int("LINKILIKE_TRACKING_ENGAGEMENT_ANOMALY_FACTOR", 5)
TRACKING_ENGAGEMENT_ANOMALY_MIN_HISTORY = 3
TRACKING_ENGAGEMENT_ANOMALY_HISTORY = 20
TRACKING_ENGAGEMENT_ANOMALY_FLOOR = 50
TRACKING_DRAIN_BATCH = 500
TRACKING_DRAIN_TRIGGER = 500
TRACKING_ACCRUE_SETTLE_MINUTES = 5
TRACKING_TRUST_X_FORWARDED_FOR = env_bool("LINKILIKE_TRACKING_TRUST_X_FORWARDED_FOR", False)
# How many proxies of ours sit in front: the visitor is the entry the outermost one added, counted from
# the right of X-Forwarded-For (entries further left are written by the client).
TRACKING_FORWARDED_FOR_PROXIES = env_int("LINKILIKE_TRACKING_FORWARDED_FOR_PROXIES", 1)
TRACKING_REFERRER_POLICY = "strict-origin-when-cross-origin"

# --- security -------------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "linkilike.views.csrf_failure"
if not DEBUG and not TESTING:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        "media-src": ["'self'", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- logging --------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "linkilike.log_filters.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # requests-oauthlib logs token request bodies and answers (codes, client secrets, tokens) at DEBUG.
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
    },
}

# --- Linkilike ------------------------------------------------------------------------

INVITATION_MAX_AGE = timedelta(days=env_int("LINKILIKE_INVITATION_DAYS", 7))
# Invitations mail whatever address is typed in: caps keep them from becoming a spam relay
# (brands/services.py counts every invitation created, withdrawn ones too, since each was mailed).
INVITATION_LIMIT_PER_BRAND_PER_HOUR = env_int("LINKILIKE_INVITATIONS_PER_BRAND_PER_HOUR", 20)
INVITATION_LIMIT_PER_ADDRESS_PER_DAY = env_int("LINKILIKE_INVITATIONS_PER_ADDRESS_PER_DAY", 3)
STAFF_MFA_REQUIRED = env_bool("LINKILIKE_STAFF_MFA_REQUIRED", True)
# The landing page lists the demo accounts (make run); never on in production.
LINKILIKE_SHOW_DEMO_LOGINS = env_bool("LINKILIKE_SHOW_DEMO_LOGINS", DEBUG)

# Money (payouts/): hold period, minimum payout, providers by dotted path, provider endpoints.
PAYOUTS_HOLD_DAYS = env_int("PAYOUTS_HOLD_DAYS", 14)
PAYOUTS_MINIMUM_MINOR = env_int("PAYOUTS_MINIMUM_MINOR", 2000)
# Card top-ups in test mode: development and demos have no Stripe account (and often no network), so the
# card provider is the app's own checkout page (payouts/providers/local_checkout.py), which sends Stripe's
# signed webhook to the real webhook path. On by default with DJANGO_DEBUG; production refuses it.
PAYOUTS_CARD_TEST_MODE = env_bool("PAYOUTS_CARD_TEST_MODE", DEBUG)
if PAYOUTS_CARD_TEST_MODE and not DEBUG and not TESTING:
    raise ImproperlyConfigured(
        "PAYOUTS_CARD_TEST_MODE is for development and demos (DJANGO_DEBUG=1): with it anyone could top up a "
        "brand with a test card. Unset it in production; card top-ups then go through Stripe Checkout."
    )
PAYOUTS_FUNDING_PROVIDERS = {
    "card": "payouts.providers.local_checkout.LocalCheckoutProvider"
    if PAYOUTS_CARD_TEST_MODE
    else "payouts.providers.stripe_checkout.StripeCheckoutProvider",
    "bank_transfer": "payouts.providers.bank_transfer.BankTransferProvider",
}
PAYOUTS_PAYOUT_PROVIDERS = {
    "sepa": "payouts.providers.sepa.SepaFileProvider",
    "paypal": "payouts.providers.paypal.PayPalPayoutsProvider",
    "stripe": "payouts.providers.stripe_connect.StripeConnectProvider",
}
PAYOUTS_PLATFORM_ACCOUNT_NAME = env_str("PAYOUTS_PLATFORM_ACCOUNT_NAME", "Linkilike GmbH")
# The account brands wire top-ups to and SEPA payout files pay from: no default (an example IBAN would be
# shown to brands as the account to pay). Unset, the funds page says transfers are not available, no SEPA
# file is written, and the deploy check payouts.E002 fails (payouts/checks.py).
PAYOUTS_PLATFORM_IBAN = env_str("PAYOUTS_PLATFORM_IBAN")
PAYOUTS_PLATFORM_BIC = env_str("PAYOUTS_PLATFORM_BIC")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
if PAYOUTS_CARD_TEST_MODE and not STRIPE_WEBHOOK_SECRET:
    # The test checkout signs its webhooks like Stripe, so the same verification runs; with no secret
    # configured it uses one derived from SECRET_KEY (nobody outside can forge it).
    STRIPE_WEBHOOK_SECRET = "whsec_test_" + hmac.new(SECRET_KEY.encode(), b"card-test-mode", "sha256").hexdigest()
PAYPAL_API_BASE = env_str("PAYPAL_API_BASE", "https://api-m.paypal.com")
PAYPAL_CLIENT_ID = env_str("PAYPAL_CLIENT_ID")
PAYPAL_CLIENT_SECRET = env_str("PAYPAL_CLIENT_SECRET")
# Production refuses to start without the settings its money providers need (development and tests run on
# local doubles): a bank-transfer top-up would show no account to pay into, a SEPA file no debtor, and a
# Stripe or PayPal call would fail only when a brand pays or an influencer is paid.
_MONEY_SETTINGS_BY_PROVIDER = {
    "payouts.providers.stripe_checkout.StripeCheckoutProvider": ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"),
    "payouts.providers.stripe_connect.StripeConnectProvider": ("STRIPE_SECRET_KEY",),
    "payouts.providers.paypal.PayPalPayoutsProvider": ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET"),
    "payouts.providers.bank_transfer.BankTransferProvider": (
        "PAYOUTS_PLATFORM_ACCOUNT_NAME",
        "PAYOUTS_PLATFORM_IBAN",
        "PAYOUTS_PLATFORM_BIC",
    ),
    "payouts.providers.sepa.SepaFileProvider": (
        "PAYOUTS_PLATFORM_ACCOUNT_NAME",
        "PAYOUTS_PLATFORM_IBAN",
        "PAYOUTS_PLATFORM_BIC",
    ),
}
if not DEBUG and not TESTING:
    _money_missing: dict[str, list[str]] = {}
    for _kind, _path in (*PAYOUTS_FUNDING_PROVIDERS.items(), *PAYOUTS_PAYOUT_PROVIDERS.items()):
        for _name in _MONEY_SETTINGS_BY_PROVIDER.get(_path, ()):
            if not str(globals()[_name]).strip():
                _money_missing.setdefault(_name, []).append(_kind)
    if _money_missing:
        raise ImproperlyConfigured(
            "Production needs the settings of every configured payment provider; missing: "
            + "; ".join(f"{name} (for {', '.join(kinds)})" for name, kinds in _money_missing.items())
            + ". Set them in the environment (.env.example lists them), or DJANGO_DEBUG=1 for development."
        )

# The sandbox network (sandbox/): a Mastodon-compatible demo network with a simulated audience.
# A development and demo network only (ADR 17): on in development and tests, off in production
# (its URLs 404, no account can be connected to it) unless LINKILIKE_SANDBOX_ENABLED=1 turns it on
# explicitly, which the deploy check reports as a warning.
SANDBOX_ENABLED = env_bool("LINKILIKE_SANDBOX_ENABLED", DEBUG or TESTING)
if not SANDBOX_ENABLED:
    CELERY_BEAT_SCHEDULE.pop("sandbox-simulate")
SANDBOX_SEED = env_int("SANDBOX_SEED", 20261126)
SANDBOX_RATE_LIMIT = env_int("SANDBOX_RATE_LIMIT", 300)  # requests per token per window, as Mastodon
SANDBOX_RATE_LIMIT_PERIOD_SECONDS = env_int("SANDBOX_RATE_LIMIT_PERIOD_SECONDS", 300)
SANDBOX_MEDIA_RATE_LIMIT = env_int("SANDBOX_MEDIA_RATE_LIMIT", 30)  # uploads per account per window
SANDBOX_MEDIA_RATE_LIMIT_PERIOD_SECONDS = env_int("SANDBOX_MEDIA_RATE_LIMIT_PERIOD_SECONDS", 30 * 60)
# 0: images are ready when the upload answers (200), as Mastodon 4 processes them; above 0, every upload
# is processed in the background for that long (202, then 206 until ready), as Mastodon does video.
SANDBOX_MEDIA_PROCESSING_SECONDS = float(env_str("SANDBOX_MEDIA_PROCESSING_SECONDS", "0"))
SANDBOX_NEW_ACCOUNT_FOLLOWERS = env_int("SANDBOX_NEW_ACCOUNT_FOLLOWERS", 40)
SANDBOX_VAPID_KEY = "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4UkkDTpaZwozy0TzdZ2M="

# A server a person names (a Mastodon instance) must resolve to a public address, checked again on every
# connection (S7, networks.providers.http). Private networks listed here are allowed as well: a deliberately
# internal server, or the local doubles of the drills. Development and tests allow every address.
NETWORKS_ALLOWED_PRIVATE_NETWORKS = env_list("LINKILIKE_NETWORKS_ALLOWED_PRIVATE_NETWORKS")
# Social networks (networks/): providers by dotted path; the token vault's keys, newest first.
SANDBOX_BASE_URL = env_str("LINKILIKE_SANDBOX_BASE_URL", f"{SITE_URL}/sandbox").rstrip("/")
NETWORK_PROVIDERS: dict[str, dict[str, str]] = {
    "mastodon": {"class": "networks.providers.mastodon.MastodonProvider"},
    "bluesky": {"class": "networks.providers.bluesky.BlueskyProvider", "base_url_setting": "BLUESKY_PDS_URL"},
    "x": {
        "class": "networks.providers.x.XProvider",
        "base_url_setting": "X_API_URL",
        "client_id_setting": "X_CLIENT_ID",
        "client_secret_setting": "X_CLIENT_SECRET",
    },
    "linkedin": {
        "class": "networks.providers.linkedin.LinkedInProvider",
        "base_url_setting": "LINKEDIN_API_URL",
        "client_id_setting": "LINKEDIN_CLIENT_ID",
        "client_secret_setting": "LINKEDIN_CLIENT_SECRET",
    },
    "tumblr": {
        "class": "networks.providers.tumblr.TumblrProvider",
        "base_url_setting": "TUMBLR_API_URL",
        "client_id_setting": "TUMBLR_CLIENT_ID",
        "client_secret_setting": "TUMBLR_CLIENT_SECRET",
    },
    "instagram": {
        "class": "networks.providers.instagram.InstagramProvider",
        "base_url_setting": "INSTAGRAM_GRAPH_URL",
        "client_id_setting": "INSTAGRAM_APP_ID",
        "client_secret_setting": "INSTAGRAM_APP_SECRET",
    },
    "threads": {
        "class": "networks.providers.threads.ThreadsProvider",
        "base_url_setting": "THREADS_GRAPH_URL",
        "client_id_setting": "THREADS_APP_ID",
        "client_secret_setting": "THREADS_APP_SECRET",
    },
    "facebook": {
        "class": "networks.providers.facebook.FacebookProvider",
        "base_url_setting": "FACEBOOK_GRAPH_URL",
        "client_id_setting": "FACEBOOK_APP_ID",
        "client_secret_setting": "FACEBOOK_APP_SECRET",
    },
    # "You post, we verify" (networks.providers.proof_of_post): no API posting, connected by handle.
    "facebook_profile": {
        "class": "networks.providers.facebook_profile.FacebookProfileProvider",
        "base_url": "https://www.facebook.com",
    },
    "instagram_personal": {
        "class": "networks.providers.instagram_personal.InstagramPersonalProvider",
        "base_url": "https://www.instagram.com",
    },
    "tiktok": {"class": "networks.providers.tiktok.TikTokProvider", "base_url_setting": "TIKTOK_WEB_URL"},
    "linkedin_profile": {
        "class": "networks.providers.linkedin_profile.LinkedInProfileProvider",
        "base_url_setting": "LINKEDIN_WEB_URL",
    },
}
if SANDBOX_ENABLED:  # first in the list, as it is the network every demo account starts on
    NETWORK_PROVIDERS = {
        "sandbox": {"class": "networks.providers.sandbox.SandboxProvider", "base_url_setting": "SANDBOX_BASE_URL"},
        **NETWORK_PROVIDERS,
    }
# Meta apps (Instagram Login, Threads, Facebook Login); the Graph hosts are settings so tests can point them
# at local doubles. Without an app id and secret the network shows as "not configured".
INSTAGRAM_GRAPH_URL = env_str("LINKILIKE_INSTAGRAM_GRAPH_URL", "https://graph.instagram.com")
INSTAGRAM_APP_ID = env_str("LINKILIKE_INSTAGRAM_APP_ID", "")
INSTAGRAM_APP_SECRET = env_str("LINKILIKE_INSTAGRAM_APP_SECRET", "")
THREADS_GRAPH_URL = env_str("LINKILIKE_THREADS_GRAPH_URL", "https://graph.threads.net")
THREADS_APP_ID = env_str("LINKILIKE_THREADS_APP_ID", "")
THREADS_APP_SECRET = env_str("LINKILIKE_THREADS_APP_SECRET", "")
FACEBOOK_GRAPH_URL = env_str("LINKILIKE_FACEBOOK_GRAPH_URL", "https://graph.facebook.com")
FACEBOOK_APP_ID = env_str("LINKILIKE_FACEBOOK_APP_ID", "")
FACEBOOK_APP_SECRET = env_str("LINKILIKE_FACEBOOK_APP_SECRET", "")
# X, LinkedIn and Tumblr apps (OAuth 2 client id + secret); API hosts are settings so tests can point them at
# local doubles. Without a client id and secret the network shows as "not configured".
X_API_URL = env_str("LINKILIKE_X_API_URL", "https://api.x.com")
X_CLIENT_ID = env_str("LINKILIKE_X_CLIENT_ID", "")
X_CLIENT_SECRET = env_str("LINKILIKE_X_CLIENT_SECRET", "")
LINKEDIN_API_URL = env_str("LINKILIKE_LINKEDIN_API_URL", "https://api.linkedin.com")
LINKEDIN_CLIENT_ID = env_str("LINKILIKE_LINKEDIN_CLIENT_ID", "")
LINKEDIN_CLIENT_SECRET = env_str("LINKILIKE_LINKEDIN_CLIENT_SECRET", "")
TUMBLR_API_URL = env_str("LINKILIKE_TUMBLR_API_URL", "https://api.tumblr.com")
TUMBLR_CLIENT_ID = env_str("LINKILIKE_TUMBLR_CLIENT_ID", "")
TUMBLR_CLIENT_SECRET = env_str("LINKILIKE_TUMBLR_CLIENT_SECRET", "")
# Bluesky: sessions and posts on the PDS (entryway), counts from the AppView; the web app builds post links
# (empty: no web app, as in the local dev-env, so posts are linked by their at:// URI).
BLUESKY_PDS_URL = env_str("LINKILIKE_BLUESKY_PDS_URL", "https://bsky.social").rstrip("/")
BLUESKY_APPVIEW_URL = env_str("LINKILIKE_BLUESKY_APPVIEW_URL", "https://public.api.bsky.app").rstrip("/")
BLUESKY_WEB_URL = env_str("LINKILIKE_BLUESKY_WEB_URL", "https://bsky.app").rstrip("/")
# Where proof-of-post checks read posts: TikTok's public oEmbed endpoint, LinkedIn's public post pages.
# Settings so tests point them at a local server.
TIKTOK_WEB_URL = env_str("LINKILIKE_TIKTOK_WEB_URL", "https://www.tiktok.com").rstrip("/")
LINKEDIN_WEB_URL = env_str("LINKILIKE_LINKEDIN_WEB_URL", "https://www.linkedin.com").rstrip("/")
# Proof of post verified by clicks: this many real (billable: not bots, previews, repeats) clicks on the share's
# tracking link from visitors other than the influencer's own addresses, after the link was pasted.
PROOF_CLICKS_TO_VERIFY = env_int("LINKILIKE_PROOF_CLICKS_TO_VERIFY", 3)
FIELD_ENCRYPTION_KEYS = env_list("LINKILIKE_FIELD_ENCRYPTION_KEYS")

# --- publishing and metrics (campaigns.publishing, campaigns.metrics) ------------------
# How long a worker holds a publishing claim before the sweep resolves the row by asking the network.
# Longer than one publish call takes; the T1 drill shortens it so a killed worker's rows resolve quickly.
PUBLISHING_LEASE_SECONDS = env_int("LINKILIKE_PUBLISHING_LEASE_SECONDS", 5 * 60)
# How long a sent publish task may wait in the queue before the sweep assumes it was lost and sends it again.
PUBLISHING_REDISPATCH_SECONDS = env_int("LINKILIKE_PUBLISHING_REDISPATCH_SECONDS", 10 * 60)
# Metric pulls after publishing: "+<n><m|h|d>" offsets. The demo (DEBUG) adds two early windows so
# metrics show up minutes after `make run`.
# A window whose counts cannot be read (the post exists, the network answers without counts) is
# "unknown": nothing stored or booked; it is tried again with doubling backoff and given up, with the
# reason on the share, after the last try (FRAUD.md).
METRICS_RETRY_ATTEMPTS = env_int("LINKILIKE_METRICS_RETRY_ATTEMPTS", 6)
METRICS_RETRY_BASE_SECONDS = env_int("LINKILIKE_METRICS_RETRY_BASE_SECONDS", 5 * 60)
METRICS_RETRY_MAX_SECONDS = env_int("LINKILIKE_METRICS_RETRY_MAX_SECONDS", 6 * 60 * 60)
CAMPAIGN_METRICS_WINDOWS = env_list(
    "LINKILIKE_METRICS_WINDOWS", ("+2m,+10m," if DEBUG and not TESTING else "") + "+1h,+6h,+24h,+72h,+7d,+28d"
)
