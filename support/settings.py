"""The one settings module, driven by environment variables.

With nothing set it runs on the embedded default: a SQLite file, Channels' in-memory layer,
Celery tasks run in-process (eager) and e-mail printed to the console. DATABASE_URL
(PostgreSQL) and REDIS_URL (channel layer, Celery broker, cache) select the production stack.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# The key in this repository is public: good for DEBUG=1 only. With DEBUG off, the system check
# support.E001 refuses it (and any short key), and the ASGI server does not start.
DEVELOPMENT_SECRET_KEY = "insecure-embedded-default-key-set-SECRET_KEY-in-production-0123456789"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "axes",
    "csp",
    "catalog",
    "bot",
    "support",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "support.middleware.DatabaseUnavailableMiddleware",  # the database down: a 503 page, not a bare 500
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the set_language cookie, else Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "support.security.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout page
]

ROOT_URLCONF = "support.urls"
ASGI_APPLICATION = "support.asgi.application"
WSGI_APPLICATION = None

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
                "catalog.context_processors.shop",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
# A broken connection (the database restarted, a proxy dropped it) is found and replaced before
# a request or a consumer call uses it; a database that does not answer fails in seconds.
DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))


def _database(url: str) -> dict:
    config = dj_database_url.parse(url, conn_max_age=300, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    return config


DATABASES = {
    "default": _database(DATABASE_URL)
    if DATABASE_URL
    else {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        # A file (not memory), so that server processes started by the live tests share it.
        "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH", str(BASE_DIR / "var" / f"test-db-{os.getpid()}.sqlite3"))},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Realtime and tasks -----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "support.layers.RedisChannelLayer",  # channels_redis, fewer round trips per group send
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the same as the
                # layer's blocking receive: idle sockets would die with 1011. Read longer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 3}],
                "prefix": os.environ.get("CHANNELS_PREFIX", "asgi"),
                "capacity": 1500,
                "expiry": 60,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "shop"),
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Redis down: a chat socket stays open (the bot answers on it) and re-joins its groups once Redis
# answers again, probing with backoff up to this many seconds apart (bot/outages.py).
REALTIME_RETRY_SECONDS = float(os.environ.get("REALTIME_RETRY_SECONDS", "5"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Without a broker the tasks run in-process, right where they are enqueued (after commit).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or os.environ.get("CELERY_BROKER_URL")))
CELERY_TASK_EAGER_PROPAGATES = env_bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = 30
CELERY_TASK_TIME_LIMIT = 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
# A dead broker must not hold a shopper's request for long: fail fast, log, let sweeps recover.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULE: dict = {}  # filled by support/celery.py

# --- Auth, i18n, static -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Shoppers sign in on the storefront (catalog/account_views.py); staff pages (admin, desk) send
# to the admin's own sign-in (staff_member_required), whatever this says.
LOGIN_URL = "catalog:sign_in"
LOGIN_REDIRECT_URL = "catalog:my_orders"
# How long the link that confirms a shopper account's e-mail address, and a password-reset link, work.
ACCOUNT_VERIFY_MAX_AGE_SECONDS = int(os.environ.get("ACCOUNT_VERIFY_MAX_AGE_SECONDS", str(24 * 3600)))
PASSWORD_RESET_TIMEOUT = int(os.environ.get("PASSWORD_RESET_TIMEOUT", str(24 * 3600)))
# django-axes counts failed sign-ins (in its own tables) and refuses a username from an address
# after AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_MINUTES, even with the right password.
# Behind a proxy run daphne with --proxy-headers, or every shopper shares the proxy's address.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The same client address as the chat's limits: the peer, or behind TRUSTED_PROXY the last hop.
AXES_CLIENT_IP_CALLABLE = "bot.clients.request_client_address"
AXES_LOCKOUT_CALLABLE = "support.security.lockout_response"  # templates/admin/locked_out.html, 429

# The languages one deployment serves (storefront, chat, e-mails); the first is the default.
# Django's LANGUAGES is derived from it. SHOP_LANGUAGES=en for an English-only shop.
_LANGUAGE_NAMES = {"en": "English", "ja": "日本語"}
SHOP_LANGUAGES = [code.strip() for code in os.environ.get("SHOP_LANGUAGES", "en,ja").split(",") if code.strip()]
LANGUAGES = [(code, _LANGUAGE_NAMES.get(code, code)) for code in SHOP_LANGUAGES]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English keeps Django's own default tag (en-us: CLDR's US formats for money and dates).
LANGUAGE_CODE = "en-us" if SHOP_LANGUAGES[0] == "en" else SHOP_LANGUAGES[0]
# Dates through the active language's formats ("DATE_FORMAT", "SHORT_DATE_FORMAT"); the shop's
# English ones are in support/formats/en/.
FORMAT_MODULE_PATH = ["support.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "support.storage.ShopStaticFilesStorage"
        if env_bool("STATIC_MANIFEST", default=not DEBUG and bool(DATABASE_URL))
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=True)

# --- E-mail -----------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# Where django.core.mail.backends.filebased.EmailBackend writes (a demo, or a test reading codes).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Northwind & Co. <support@northwind.example>")

# --- Security (production behind HTTPS: set HTTPS=1) ------------------------------------
HTTPS = env_bool("HTTPS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts and styles only from our own static files, no
# inline code; support.security adds this site's own ws(s)://host to connect-src per request.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
# WebSockets are accepted from this site's own origin (scheme, host and port of the request;
# https only when HTTPS=1) and from these origins (scheme://host[:port]).
WS_ALLOWED_ORIGINS = env_list("WS_ALLOWED_ORIGINS") or CSRF_TRUSTED_ORIGINS
# Limits per client address across every socket and process (bot.limits, in the shared cache).
# RATE_LIMITS=off lifts them all: only for load benches and replays on a private machine.
RATE_LIMITS = env_bool("RATE_LIMITS", default=True)
# High enough for a shop's shoppers behind one office or carrier NAT (a page load is a connect).
CHAT_CONNECTIONS_PER_MINUTE = int(os.environ.get("CHAT_CONNECTIONS_PER_MINUTE", "60"))
CHAT_MESSAGES_PER_MINUTE = int(os.environ.get("CHAT_MESSAGES_PER_MINUTE", "120"))

# --- The shop and its assistant ---------------------------------------------------------
SHOP_NAME = os.environ.get("SHOP_NAME", "Northwind & Co.")
SHOP_BASE_URL = os.environ.get("SHOP_BASE_URL", "http://127.0.0.1:8000")
# The shop's currency (ISO 4217) when an amount carries none; amounts are written for the locale
# (LANGUAGE_CODE) by catalog.money.money_format.
SHOP_CURRENCY = os.environ.get("SHOP_CURRENCY", "EUR").strip().upper()
if not (len(SHOP_CURRENCY) == 3 and SHOP_CURRENCY.isalpha()):
    raise ValueError(f"SHOP_CURRENCY must be a 3-letter ISO 4217 code such as EUR, not {SHOP_CURRENCY!r}")
# import_help files an article whose topic is missing or unknown under this topic.
HELP_IMPORT_DEFAULT_TOPIC = os.environ.get("HELP_IMPORT_DEFAULT_TOPIC", "orders").strip().lower()
# Hosts besides the site that product pictures may come from (imported picture addresses, e.g.
# Shopify's CDN): added to the Content-Security-Policy's img-src.
IMAGE_SOURCES = env_list("IMAGE_SOURCES", "https://cdn.shopify.com")
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += IMAGE_SOURCES
# The shipped SLM artifact; train_slm writes new versions beside it.
SLM_ARTIFACT_DIR = Path(os.environ.get("SLM_ARTIFACT_DIR", BASE_DIR / "bot" / "slm_artifact"))
# The Japanese classifier (messages with kana or kanji; bot.language), loaded only when one comes.
SLM_ARTIFACT_DIR_JA = Path(os.environ.get("SLM_ARTIFACT_DIR_JA", BASE_DIR / "bot" / "slm_artifact_ja"))
SLM_THREADS = int(os.environ.get("SLM_THREADS", "1"))
# What `manage.py adapt_assistant` fits to this shop (its catalogue vocabulary) goes here, never
# into the shipped model; the chat re-reads it when it changes (bot.adaptation).
ASSISTANT_DATA_DIR = Path(os.environ.get("ASSISTANT_DATA_DIR", BASE_DIR / "var" / "assistant"))
# An out_of_scope message that mentions a product kind of the shop (or a help article's subject)
# becomes that question, with this confidence, unless the model's out_of_scope probability is above
# ASSISTANT_ADAPT_MAX_OUT_OF_SCOPE (1, the default: a mention of the shop's products always counts;
# the model is most sure of "out of scope" exactly for products it never saw).
ASSISTANT_ADAPT_CONFIDENCE = float(os.environ.get("ASSISTANT_ADAPT_CONFIDENCE", "0.8"))
ASSISTANT_ADAPT_MAX_OUT_OF_SCOPE = float(os.environ.get("ASSISTANT_ADAPT_MAX_OUT_OF_SCOPE", "1"))
# A shop term made only of words the classifier knows ("laptop", not "Voltra") turns an out_of_scope reading
# into a product question only when the model gave out_of_scope at most this probability, unless
# the message asks for a product in its wording or is a bare mention (bot.adaptation.Matcher).
ASSISTANT_ADAPT_KNOWN_MAX_OUT_OF_SCOPE = float(os.environ.get("ASSISTANT_ADAPT_KNOWN_MAX_OUT_OF_SCOPE", "0.9"))
SHARED_DIR = Path(os.environ.get("SHARED_DIR", BASE_DIR.parent / "shared"))
# Serving processes re-read which model version serves (bot.models.ModelVersion) at most this
# often, and load a newly promoted one without a restart.
SLM_VERSION_CHECK_SECONDS = float(os.environ.get("SLM_VERSION_CHECK_SECONDS", "5"))
# --- Retraining on the shop's labels (bot.retraining; the admin's "Intent models" page) ---------
# RETRAIN_SCHEDULE: empty (off), "daily", "weekly" (Mondays 03:00) or a crontab "min hour dom mon dow",
# run by Celery beat; a scheduled run is skipped when no label came in since the last one.
RETRAIN_SCHEDULE = os.environ.get("RETRAIN_SCHEDULE", "").strip()
if RETRAIN_SCHEDULE and RETRAIN_SCHEDULE not in ("daily", "weekly") and len(RETRAIN_SCHEDULE.split()) != 5:
    raise ValueError(f"RETRAIN_SCHEDULE must be empty, daily, weekly or a 5-field crontab, not {RETRAIN_SCHEDULE!r}")
RETRAIN_SHADOW = env_bool("RETRAIN_SHADOW")  # scheduled candidates that pass the gate go into shadow, not straight to serving
# The training recipe (the shipped model's by default: all layers, 3 epochs).
RETRAIN_EPOCHS = int(os.environ.get("RETRAIN_EPOCHS", "3"))
RETRAIN_LAYERS = int(os.environ.get("RETRAIN_LAYERS", "0"))
RETRAIN_MAX_PER_INTENT = int(os.environ.get("RETRAIN_MAX_PER_INTENT", "0"))  # 0: no cap
RETRAIN_MAX_LENGTH = int(os.environ.get("RETRAIN_MAX_LENGTH", "64"))
RETRAIN_LEARNING_RATE = float(os.environ.get("RETRAIN_LEARNING_RATE", "8e-5"))
RETRAIN_HEAD_LEARNING_RATE = float(os.environ.get("RETRAIN_HEAD_LEARNING_RATE", "0"))  # 0: RETRAIN_LEARNING_RATE
# The candidate also learns the serving model's readings (distillation), except on the agents'
# labels: what was right stays right, what agents corrected changes (bench/bench_learning.py).
RETRAIN_DISTILL = env_bool("RETRAIN_DISTILL", default=True)
# The candidate starts from the serving model's own weights (read back from its ONNX graph,
# bot.training.warm_start), not from the base model: it begins where serving is and moves only as
# far as the new labels pull it. Off, or when the serving artifact cannot be read back, the base model.
RETRAIN_WARM_START = env_bool("RETRAIN_WARM_START", default=True)
# Rehearsal, with a warm start: every agent label RETRAIN_AGENT_REPEAT times (numbers drawn again) and a stratified
# sample of RETRAIN_REPLAY of the other training examples, learnt as the serving model reads them
# (RETRAIN_WARM_DISTILL_WEIGHT: 1, its readings only), instead of the whole training split again.
# RETRAIN_REPLAY=0 trains on the whole split (the recipe of a run from the base model).
RETRAIN_REPLAY = int(os.environ.get("RETRAIN_REPLAY", "6000"))
RETRAIN_AGENT_REPEAT = int(os.environ.get("RETRAIN_AGENT_REPEAT", "8"))
RETRAIN_WARM_DISTILL_WEIGHT = float(os.environ.get("RETRAIN_WARM_DISTILL_WEIGHT", "1"))
RETRAIN_WARM_LEARNING_RATE = float(os.environ.get("RETRAIN_WARM_LEARNING_RATE", "1.2e-4"))
# With a warm start, the embeddings and the encoder's bottom RETRAIN_WARM_FREEZE layers stay as serving
# has them: only the top layers and the head learn the new labels (0: every layer learns).
RETRAIN_WARM_FREEZE = int(os.environ.get("RETRAIN_WARM_FREEZE", "4"))
RETRAIN_DISTILL_WEIGHT = float(os.environ.get("RETRAIN_DISTILL_WEIGHT", "0.5"))
RETRAIN_BATCH_SIZE = int(os.environ.get("RETRAIN_BATCH_SIZE", "32"))
RETRAIN_THREADS = int(os.environ.get("RETRAIN_THREADS", "2"))
RETRAIN_FULL_REPORT = env_bool("RETRAIN_FULL_REPORT", default=True)  # the full evaluation report and model card as well as the gate's figures
# The gate: a candidate may lose at most this much accuracy (0.005 = 0.5 points) on each guard set
# and must beat the serving model on the share of the shop's labels held out of training.
RETRAIN_GUARD_TOLERANCE = float(os.environ.get("RETRAIN_GUARD_TOLERANCE", "0.005"))
RETRAIN_HOLDOUT_PERCENT = int(os.environ.get("RETRAIN_HOLDOUT_PERCENT", "20"))
# A running job whose worker has not beaten for this long is taken as lost (killed mid-training).
RETRAIN_STALE_SECONDS = int(os.environ.get("RETRAIN_STALE_SECONDS", "120"))
# An open agent workspace socket re-reads its access (active staff agent, session still logged
# in) at most this often, on a frame from or to the agent; removals that fire signals (logout,
# deactivation, a lost group or permission) close it at once, this bounds the ones that don't.
SUPPORT_AGENT_RECHECK_SECONDS = float(os.environ.get("SUPPORT_AGENT_RECHECK_SECONDS", "5"))

# --- Mail to addresses typed into the chat (after-hours confirmations, newsletter links) -------
# Such an address is not proved to be the shopper's, so these mails carry only shop-written
# text and are counted in the shared cache, per kind of mail, in a window starting with the
# first one: per recipient address, per conversation, per client address (the socket's peer).
MAIL_LIMIT_PER_ADDRESS = int(os.environ.get("MAIL_LIMIT_PER_ADDRESS", "3"))
MAIL_LIMIT_PER_CONVERSATION = int(os.environ.get("MAIL_LIMIT_PER_CONVERSATION", "3"))
MAIL_LIMIT_PER_CLIENT = int(os.environ.get("MAIL_LIMIT_PER_CLIENT", "10"))
MAIL_LIMIT_WINDOW_SECONDS = int(os.environ.get("MAIL_LIMIT_WINDOW_SECONDS", str(24 * 3600)))
# How long the link in a newsletter confirmation e-mail works (double opt-in).
NEWSLETTER_CONFIRM_MAX_AGE_SECONDS = int(os.environ.get("NEWSLETTER_CONFIRM_MAX_AGE_SECONDS", str(3 * 24 * 3600)))
# How long an invoice link the assistant shares (a signed token, no sign-in) can be opened.
INVOICE_LINK_MAX_AGE_SECONDS = int(os.environ.get("INVOICE_LINK_MAX_AGE_SECONDS", str(7 * 24 * 3600)))
# --- Proving an order is yours (bot.verification) ----------------------------------------
# Failed order checks (number + e-mail that don't match, wrong codes) are counted in the shared
# cache (Redis in production, so every process sees them) per e-mail, per order number and per
# client address, in a window of VERIFY_WINDOW_SECONDS; at the limit even the right pair is refused.
VERIFY_WINDOW_SECONDS = int(os.environ.get("VERIFY_WINDOW_SECONDS", "3600"))
VERIFY_FAILURES_PER_EMAIL = int(os.environ.get("VERIFY_FAILURES_PER_EMAIL", "5"))
VERIFY_FAILURES_PER_ORDER = int(os.environ.get("VERIFY_FAILURES_PER_ORDER", "5"))
VERIFY_FAILURES_PER_ADDRESS = int(os.environ.get("VERIFY_FAILURES_PER_ADDRESS", "20"))  # 0: no per-address ceiling
# The client address is the socket's peer; behind a trusted proxy, the last X-Forwarded-For hop.
TRUSTED_PROXY = env_bool("TRUSTED_PROXY")
# Guests confirm a cancel, return or address change with a code e-mailed to the order's address.
VERIFY_CODE_TTL_SECONDS = int(os.environ.get("VERIFY_CODE_TTL_SECONDS", "600"))
VERIFY_CODE_TRIES = int(os.environ.get("VERIFY_CODE_TRIES", "3"))
VERIFY_CODES_PER_ORDER = int(os.environ.get("VERIFY_CODES_PER_ORDER", "5"))  # code e-mails per order per window

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}, "daphne": {"level": "WARNING"}},
}
