"""Digest data -> subject, plain text and HTML (templates under templates/email/)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string

TEMPLATES = {"team": "email/team_digest", "security": "email/security_summary"}
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    body_html: str  # the HTML body without the document wrapper, for the browser preview


def header_value(text: str) -> str:
    """One line for an email header: CR, LF and every other control character become a space, so a
    team name can neither inject a header nor make Django raise BadHeaderError."""
    return " ".join(_HEADER_BREAKS.sub(" ", text).split())


def digest_subject(data: dict) -> str:
    who = data["team"]["name"] if data["kind"] == "team" else "security summary"
    if data.get("all_clear"):
        state = "all clear"
    else:
        state = f"{data['counts']['critical']} critical, {data['counts']['high']} high open"
    return header_value(f"[BotAudit] {who}: {state} \u2014 week {data['week']}")


def _plain(text: str) -> str:
    """A plain str, not the SafeString render_to_string returns: the text part is rendered with
    autoescape off, so it must never be trusted as HTML (the preview page escapes it like any text)."""
    return "".join([text])


def digest_render(data: dict) -> RenderedDigest:
    base = TEMPLATES[data["kind"]]
    context = {"d": data, "subject": digest_subject(data)}
    body_html = render_to_string(f"{base}_body.html", context)
    return RenderedDigest(
        subject=context["subject"],
        text=_plain(render_to_string(f"{base}.txt", context)),
        html=render_to_string("email/document.html", {**context, "body": body_html}),
        body_html=body_html,
    )


def digest_message(*, rendered: RenderedDigest, recipients: list[str], connection=None) -> EmailMultiAlternatives:
    """The email; a recipient that is not one valid address (a CR/LF, a second address) is an error."""
    for address in recipients:
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(f"invalid recipient address {address!r}") from None
    message = EmailMultiAlternatives(subject=rendered.subject, body=rendered.text,
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=recipients, connection=connection)
    message.attach_alternative(rendered.html, "text/html")
    return message
