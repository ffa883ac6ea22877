"""Settings, driven by the environment.

With nothing set, the product runs for development on SQLite with keys generated once
into the git-ignored `.local/dev-keys.json`. `DJANGO_ENV=production` fails closed: it
refuses to start without its secrets and hosts.
"""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("CASEWORK_LOCAL_DIR", BASE_DIR / ".local"))

ENVIRONMENT = os.environ.get("DJANGO_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = ENVIRONMENT == "production"


def _development_keys() -> dict[str, str]:
    """Read the local development keys, creating them on first run."""
    path = LOCAL_DIR / "dev-keys.json"
    if path.exists():
        return json.loads(path.read_text())
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    keys = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }
    # Written exclusively so that two processes starting together agree on one set.
    try:
        with open(path, "x") as handle:
            json.dump(keys, handle)
        path.chmod(0o600)
    except FileExistsError:
        return json.loads(path.read_text())
    return keys


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production.")
    return value


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    _field_keys = _required("FIELD_ENCRYPTION_KEY")
    BLIND_INDEX_KEY = _required("BLIND_INDEX_KEY")
    ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
    if BLIND_INDEX_KEY in _field_keys.split(","):
        raise ImproperlyConfigured("BLIND_INDEX_KEY must differ from FIELD_ENCRYPTION_KEY.")
else:
    _dev = _development_keys()
    SECRET_KEY = os.environ.get("SECRET_KEY") or _dev["SECRET_KEY"]
    _field_keys = os.environ.get("FIELD_ENCRYPTION_KEY") or _dev["FIELD_ENCRYPTION_KEY"]
    BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY") or _dev["BLIND_INDEX_KEY"]
    ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

# Comma-separated: the first key encrypts, every key decrypts (key rotation).
FIELD_ENCRYPTION_KEY = [k.strip() for k in _field_keys.split(",") if k.strip()]

# Tracebacks would show a person's identifiers, so debug pages are opt-in even locally.
DEBUG = not PRODUCTION and os.environ.get("DJANGO_DEBUG") == "1"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "encrypted_model_fields",
    "formtools",
    "casework",
    "screening",
    "assistance",
    "dedupe",
    "research",
    "transfer",
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
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "casework.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{LOCAL_DIR / 'casework.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0


def _research_database() -> dict:
    """The research layer's own database: anonymised data only, never a casework table.

    In development it defaults to a second SQLite file, or to a second database on the
    casework server; production names it explicitly, with credentials of its own.
    """
    url = os.environ.get("RESEARCH_DATABASE_URL", "").strip()
    if url:
        config = dj_database_url.parse(url, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    elif PRODUCTION:
        raise ImproperlyConfigured("RESEARCH_DATABASE_URL must be set when DJANGO_ENV=production.")
    elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        config = dj_database_url.parse(f"sqlite:///{LOCAL_DIR / 'research.sqlite3'}")
    else:
        config = {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_research"}
        config.pop("TEST", None)
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
        config["CONN_MAX_AGE"] = 0
    if PRODUCTION and config.get("USER") == DATABASES["default"].get("USER"):
        raise ImproperlyConfigured(
            "The research database must be reached with credentials of its own, "
            "not the casework database's user."
        )
    return config


DATABASES["research"] = _research_database()
DATABASE_ROUTERS = ["research.router.ResearchRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "casework.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins allowed per account (and per address) within the window before refusal.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW = timedelta(minutes=int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15")))

# Idle sessions end after 30 minutes; every request extends the session.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith(".")]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else LOCAL_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Request paths carry no identifier (cases are addressed by random ids, searches are
# POSTed), so Django's own request logging is safe to keep.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

CASE_LIST_PAGE_SIZE = 25
