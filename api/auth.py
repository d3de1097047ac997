"""How API requests authenticate and what they may do: `Authorization: Bearer bat_…` (or a logged-in
session for the browsable docs), read-only tokens only read, writes need an auditor, and every
token has its own rate limit."""

from rest_framework import authentication, exceptions, permissions, throttling

from inventory.selectors import user_is_auditor

from .tokens import api_token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization: Bearer <token>, one token.")
        token = api_token_authenticate(header[1].decode("ascii", errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenScopes(permissions.BasePermission):
    """Reads for every authenticated user (scoped by the selectors); writes refused to read-only
    tokens. Which writes need an auditor is each view's business (`AuditorOnly`)."""

    message = "This token is read-only."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        return not getattr(token, "read_only", False)


class AuditorOnly(permissions.BasePermission):
    message = "Only auditors may do this."

    def has_permission(self, request, view):
        return user_is_auditor(request.user)


class PerTokenThrottle(throttling.SimpleRateThrottle):
    """One bucket per token (per user for session requests), rate `BOTAUDIT_API_RATE`."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = request.auth
        ident = f"token:{token.pk}" if hasattr(token, "pk") else f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
