"""Login with throttling and an audit trail; logout audited too."""

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from casework.audit import Action, audit_record, client_ip, username_key
from casework.models import AuditEvent, User


class LoginRefused(Exception):
    """Raised when a login is refused; the message is safe to show."""


def _recent_failures(*, key: str, ip: str | None) -> tuple[int, int]:
    since = timezone.now() - settings.LOGIN_FAILURE_WINDOW
    failures = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, at__gte=since)
    by_account = failures.filter(subject_key=key).count()
    # An address gets more room than an account: offices share one address.
    by_address = failures.filter(ip_address=ip).count() if ip else 0
    return by_account, by_address


def login_attempt(*, request: HttpRequest, username: str, password: str) -> User:
    """Log the user in, or raise LoginRefused; every outcome is audited."""
    key = username_key(username)
    ip = client_ip(request)
    by_account, by_address = _recent_failures(key=key, ip=ip)
    limit = settings.LOGIN_FAILURE_LIMIT
    if by_account >= limit or by_address >= limit * 4:
        audit_record(action=Action.LOGIN_REFUSED, request=request, subject_key=key)
        minutes = int(settings.LOGIN_FAILURE_WINDOW.total_seconds() // 60)
        raise LoginRefused(
            _(
                "Too many failed attempts. Sign-in is blocked for up to %(minutes)s minutes; "
                "ask your administrator if you need access sooner."
            )
            % {"minutes": minutes}
        )
    user = authenticate(request, username=username, password=password)
    if user is None:
        audit_record(action=Action.LOGIN_FAILED, request=request, subject_key=key)
        raise LoginRefused(_("The user name or password is not correct."))
    with transaction.atomic():
        login(request, user)
        audit_record(action=Action.LOGIN, actor=user, request=request, subject_key=key)
    return user


def logout_user(request: HttpRequest) -> None:
    if request.user.is_authenticated:
        audit_record(action=Action.LOGOUT, actor=request.user, request=request)
    logout(request)
