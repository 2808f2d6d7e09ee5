from __future__ import annotations

from django import template

from payouts.windows import window_words as _window_words

register = template.Library()


@register.filter
def window_words(window: str) -> str:
    """{{ accrual.window|window_words }} -> "2 minutes after publishing" (payouts.windows)."""
    return _window_words(str(window or ""))
