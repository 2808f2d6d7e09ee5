"""Sending transactional email in the recipient's language, as HTML and plain text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation

from linkilike.text_safety import single_line

_P = ParamSpec("_P")


def email_task(name: str) -> Callable[[Callable[_P, None]], Task[_P, None]]:
    """A Celery task that sends an email: retried up to five times, backing off up to ten minutes with jitter,
    while the mail server cannot be reached (``OSError``). ``name`` is the task's registered name (queued
    messages and the routes in settings name it)."""
    return shared_task(
        name=name, max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True
    )


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_render(*, template: str, context: dict[str, Any], language: str | None = None) -> RenderedEmail:
    """Render ``<template>_subject.txt``, ``_body.txt`` and ``_body.html`` in ``language``.

    ``template`` is a path prefix such as ``brands/email/invitation``.
    """
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        # One line whatever the names in it hold: a line break in a subject fails the send with
        # BadHeaderError, and names stored before input was checked may still carry one.
        subject = single_line(_render_plain(f"{template}_subject.txt", context))
        text = _render_plain(f"{template}_body.txt", context)
        html = render_to_string(f"{template}_body.html", context)
    return RenderedEmail(subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, text=text, html=html)


def _render_plain(name: str, context: dict[str, Any]) -> str:
    """Renders a plain-text template without HTML escaping (a brand named "Tom's" stays "Tom's")."""
    template = get_template(name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def email_send(*, to: str, template: str, context: dict[str, Any], language: str | None = None) -> None:
    rendered = email_render(template=template, context=context, language=language)
    message = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()


def email_send_to_user(*, user: Any, template: str, context: dict[str, Any]) -> None:
    """``email_send`` to a person's address, in the language they chose (the site's default if none)."""
    email_send(to=user.email, template=template, context=context, language=user_email_language(user))


def user_email_language(user: Any) -> str | None:
    return getattr(user, "preferred_language", None) or None
