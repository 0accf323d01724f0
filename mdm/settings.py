"""Settings for the MDM hub.

Every setting that differs between a laptop and production comes from the environment, with an
embedded default that needs no server: SQLite and Celery's filesystem transport. Set DATABASE_URL
(for example ``postgres://postgres@127.0.0.1:5432/mdm``) and CELERY_BROKER_URL (for example
``redis://127.0.0.1:6379/0``) to switch to PostgreSQL and Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MDM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = [
    h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    "golden_records",
    "matching",
    "stewardship",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# Failed logins (steward UI and admin) are counted by django-axes, per user name and client
# address; after MDM_LOGIN_FAILURE_LIMIT failures that pair is refused, right password included,
# for MDM_LOGIN_COOLOFF_MINUTES. `manage.py axes_reset` (or axes_reset_username NAME) unlocks.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("MDM_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = int(os.environ.get("MDM_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("MDM_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "mdm.lockout.login_locked_out"

# The cache counts failed API token authentications (golden_records/api/authentication.py).
# The default, in process memory, counts per process: with several web processes set
# MDM_CACHE_URL (redis://…) so that they share one count.
MDM_CACHE_URL = os.environ.get("MDM_CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": MDM_CACHE_URL}
        if MDM_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Bad bearer tokens: after MDM_TOKEN_FAILURE_LIMIT failed authentications from one client address
# within MDM_TOKEN_FAILURE_WINDOW_SECONDS, further failures are answered 429
# too_many_failed_authentications with Retry-After until the window ends. A valid token is never
# slowed. The client address honours REST_FRAMEWORK["NUM_PROXIES"] (X-Forwarded-For).
MDM_TOKEN_FAILURE_LIMIT = int(os.environ.get("MDM_TOKEN_FAILURE_LIMIT", "20"))
MDM_TOKEN_FAILURE_WINDOW_SECONDS = int(os.environ.get("MDM_TOKEN_FAILURE_WINDOW_SECONDS", "60"))

ROOT_URLCONF = "mdm.urls"
WSGI_APPLICATION = "mdm.wsgi.application"

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
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'mdm.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameter binding: bulk inserts send values as parameters instead of quoting
    # every string into the SQL text on the client, which halves the cost of a 1,000-record batch.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the Celery worker writes; the timeout waits for the
    # single writer instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The hub's own login page (templates/registration/login.html); the admin keeps its own.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Request bodies: the batch API takes at most 1,000 records; 10 MiB leaves room for wide records
# and refuses anything larger with a clear 400 before parsing it.
MDM_MAX_BODY_BYTES = int(os.environ.get("MDM_MAX_BODY_BYTES", str(10 * 1024 * 1024)))
MDM_MAX_BATCH_RECORDS = 1000
# History rows say why a change happened (a merge names the pairs and probabilities behind
# it): a text column, not simple-history's default of 100 characters.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
DATA_UPLOAD_MAX_MEMORY_SIZE = MDM_MAX_BODY_BYTES
MDM_IDEMPOTENCY_KEY_TTL_HOURS = 48

# Propagation to downstream systems (sync/, ../docs/architecture.md "Propagation").
# Seconds to wait before each retry after a failed attempt; after the last one the delivery is
# dead. MDM_WEBHOOK_RETRY_SCHEDULE="1,2,3" (comma-separated seconds) overrides it, e.g. in tests.
MDM_WEBHOOK_RETRY_SCHEDULE = [
    float(x)
    for x in os.environ.get(
        "MDM_WEBHOOK_RETRY_SCHEDULE", "5,300,1800,7200,18000,36000,36000"
    ).split(",")
]
MDM_WEBHOOK_RETRY_JITTER = float(os.environ.get("MDM_WEBHOOK_RETRY_JITTER", "0.1"))
MDM_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("MDM_WEBHOOK_TIMEOUT_SECONDS", "15"))
# An endpoint failing without a single success this long is disabled.
MDM_WEBHOOK_DISABLE_AFTER_SECONDS = float(
    os.environ.get("MDM_WEBHOOK_DISABLE_AFTER_SECONDS", str(5 * 24 * 3600))
)
# Longest Retry-After (429, 503) honoured; longer asks wait this long.
MDM_WEBHOOK_MAX_RETRY_AFTER_SECONDS = 24 * 3600
# A claimed delivery not finished within its lease is due again (its worker died).
MDM_DELIVERY_LEASE_SECONDS = float(os.environ.get("MDM_DELIVERY_LEASE_SECONDS", "60"))
# A worker claims up to MDM_DELIVERY_BATCH due deliveries of a subscription and sends them over
# MDM_DELIVERY_THREADS connections at once. bench/propagation.py with 2 workers: 200 over 32
# delivers 562/s from a backlog, 100 over 16 420/s. Each worker holds at most that many requests
# open to one endpoint: lower MDM_DELIVERY_THREADS for a subscriber that cannot take it. The
# lease grows with the batch (sync/delivery.py lease_seconds).
MDM_DELIVERY_BATCH = int(os.environ.get("MDM_DELIVERY_BATCH", "200"))
MDM_DELIVERY_THREADS = int(os.environ.get("MDM_DELIVERY_THREADS", "32"))
MDM_DELIVERY_RETENTION_DAYS = max(30, int(os.environ.get("MDM_DELIVERY_RETENTION_DAYS", "30")))
MDM_DELIVERY_LAG_SLA_SECONDS = float(os.environ.get("MDM_DELIVERY_LAG_SLA_SECONDS", "900"))
# Catch-up matching (matching/catch_up.py): the beat sweep runs a request still pending this
# long after its batch committed (its on-commit message was lost or its worker died).
MDM_CATCH_UP_GRACE_SECONDS = float(os.environ.get("MDM_CATCH_UP_GRACE_SECONDS", "10"))
# /metrics (sync/metrics.py): when set, a scrape must send "Authorization: Bearer <token>";
# when empty the endpoint is open (serve it on an internal network only).
MDM_METRICS_TOKEN = os.environ.get("MDM_METRICS_TOKEN", "")
# Networks webhooks may reach although they are link-local (for example a test network).
MDM_WEBHOOK_ALLOWED_NETWORKS = [
    n for n in os.environ.get("MDM_WEBHOOK_ALLOWED_NETWORKS", "").split(",") if n
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "golden_records.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Tokens as their scope allows; sessions by the steward UI's roles (stewardship/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": ["stewardship.permissions.ApiRole"],
    "DEFAULT_PARSER_CLASSES": ["golden_records.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "golden_records.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Proxies in front of the hub that append to X-Forwarded-For: the client address (token
    # failure counts) is read from there; 0 uses the connection's address, which a client
    # cannot forge.
    "NUM_PROXIES": int(os.environ.get("MDM_NUM_PROXIES", "0")),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MDM hub API",
    "DESCRIPTION": (
        "Ingest source records from every system, read golden records and translate ids "
        "between systems."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI served from the installed package: the docs work without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several components have a `status`; name the golden records' one.
    "ENUM_NAME_OVERRIDES": {"GoldenStatusEnum": ["active", "merged", "retired"]},
    # Every operation documents 401 and 403 (tokens and sessions with roles: ApiRole).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "golden_records.api.schema.document_auth_errors",
    ],
}

# Celery. Every setting is documented here and can be overridden from the environment.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Results are not used: task state lives in the hub's own tables.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge after the task ran and redeliver when a worker dies mid-task; every task is
# idempotent, so running one twice is safe (../docs/architecture.md, "Tasks").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "purge-idempotency-records": {
        "task": "golden_records.purge_idempotency_records",
        "schedule": 3600.0,
    },
    # The safety net under the on-commit fast path: finds due deliveries and expired leases.
    "sweep-deliveries": {
        "task": "sync.sweep",
        "schedule": float(os.environ.get("MDM_SWEEP_SECONDS", "5")),
        # A sweep that waited longer than its period behind busy workers is dropped: the next
        # one does the same work.
        "options": {"expires": float(os.environ.get("MDM_SWEEP_SECONDS", "5"))},
    },
    # The safety net under catch-up matching's on-commit fast path (matching/catch_up.py).
    "sweep-catch-ups": {
        "task": "matching.sweep_catch_ups",
        "schedule": float(os.environ.get("MDM_CATCH_UP_SWEEP_SECONDS", "5")),
        "options": {"expires": float(os.environ.get("MDM_CATCH_UP_SWEEP_SECONDS", "5"))},
    },
    "purge-catch-ups": {"task": "matching.purge_catch_ups", "schedule": 3600.0},
    "reconcile-deliveries": {"task": "sync.reconcile", "schedule": 600.0},
    "purge-deliveries": {"task": "sync.purge_old_deliveries", "schedule": 3600.0},
    "nightly-resync": {"task": "sync.nightly_resync", "schedule": crontab(hour=2, minute=0)},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("MDM_LOG_LEVEL", "INFO")},
    # axes announces itself at INFO in every process (every manage.py command).
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}
