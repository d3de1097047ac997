"""The user's own API tokens page: list, create (the token is shown once, on this response only) and
revoke. Thin: the work is api.tokens'."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .models import ApiToken
from .tokens import TokenError, api_token_create, api_token_revoke, expiry_parse


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Name (what it is for)")
    expires = forms.ChoiceField(choices=[("7d", "7 days"), ("30d", "30 days"), ("90d", "90 days"),
                                         ("365d", "1 year"), ("never", "never")], initial="90d", label="Expires in")
    read_only = forms.BooleanField(required=False, initial=True, label="Read-only")


@never_cache
def tokens_page(request):
    shown = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            expires_in = expiry_parse(form.cleaned_data["expires"])
        except TokenError as exc:
            form.add_error("expires", str(exc))
        else:
            token, shown = api_token_create(user=request.user, name=form.cleaned_data["name"],
                                            expires_in=expires_in, read_only=form.cleaned_data["read_only"])
            form = TokenForm()
    response = render(request, "api/tokens.html", {
        "tokens": ApiToken.objects.filter(user=request.user), "form": form, "shown": shown})
    return response


@require_POST
def token_revoke(request, prefix):
    token = get_object_or_404(ApiToken, user=request.user, prefix=prefix)
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token {prefix}… revoked.")
    return redirect("api_tokens")
