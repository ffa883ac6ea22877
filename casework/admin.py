"""Django admin: missions, staff accounts and their roles. Restricted to administrators.

People and cases are deliberately absent: their identifiers are only shown through the
application, where every view is audited.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from casework.models import AuditEvent, Membership, Mission, User


def _administrators_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = _administrators_only


@admin.register(Mission)
class MissionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False  # cases and audit rows refer to missions: close them instead


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["mission"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation role", {"fields": ("org_role",)}),
    )
    list_display = ["username", "email", "org_role", "is_active", "is_superuser", "last_login"]
    list_filter = ["org_role", "is_active", "is_superuser", "memberships__mission"]
    inlines = [MembershipInline]

    def has_delete_permission(self, request, obj=None):
        return False  # the audit log refers to users: deactivate them instead


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "actor", "mission", "case", "object_type", "object_id"]
    list_filter = ["action", "mission"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
