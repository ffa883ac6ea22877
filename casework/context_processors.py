from casework.access import Perm, has_perm


def navigation(request):
    """Which menu entries the signed-in user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "cases": has_perm(user, Perm.CASE_VIEW),
            "register": has_perm(user, Perm.CASE_REGISTER),
            "referrals": has_perm(user, Perm.REFERRAL_DECIDE),
            "audit": has_perm(user, Perm.AUDIT_VIEW),
            "dashboard": has_perm(user, Perm.DASHBOARD_VIEW),
            "dedupe": has_perm(user, Perm.DEDUPE_REVIEW),
            "research": has_perm(user, Perm.RESEARCH_VIEW),
            "transfer": has_perm(user, Perm.IMPORT_CASES),
            "admin": user.is_staff,
        }
    }
