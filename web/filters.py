"""Jinja filters: JSON, message parameters, and dates in the reader's locale (Babel)."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache

from babel import Locale
from babel.dates import format_date, format_datetime
from jinja2 import pass_context
from markupsafe import Markup, escape

from core.clock import TZ, as_utc
from core.i18n import current_locale, format_params, gettext


def fromjson(value: str | None) -> dict:
    try:
        result = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return result if isinstance(result, dict) else {}


@cache
def _locale(name: str) -> Locale:
    """Babel parses a locale name on every call; a page formats dozens of dates."""
    return Locale.parse(name)


def datetime_filter(value: datetime | str | None, fmt: str = "medium") -> str:
    if value in (None, ""):
        return "—"
    return format_datetime(as_utc(value), format=fmt, tzinfo=TZ, locale=_locale(current_locale.get()))


def date_filter(value: date | str | None, fmt: str = "medium") -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return format_date(value, format=fmt, locale=_locale(current_locale.get()))


def template_gettext():
    """The templates' `_()` and `gettext()`: Jinja's new-style gettext (the text is always a
    format string, escaped when autoescaping), with each translated text without parameters kept
    per locale — a page asks for a hundred of them on every render."""
    kept: dict[tuple[str, str, bool], str] = {}

    @pass_context
    def template_gettext_(context, string: str, **variables) -> str:
        autoescape = context.eval_ctx.autoescape
        if variables:
            text = gettext(string)
            return (Markup(text) if autoescape else text) % variables
        key = (current_locale.get(), string, autoescape)
        text = kept.get(key)
        if text is None:
            if len(kept) > 20_000:  # texts come from templates, but keep the memory bounded
                kept.clear()
            text = kept[key] = (Markup(gettext(string)) if autoescape else gettext(string)) % {}
        return text

    return template_gettext_


def tr(msgid: str, params: dict | None = None) -> str:
    """Translate a stored message id and fill its parameters (for notifications and events)."""
    from core.i18n import gettext

    return format_params(gettext(msgid), params)


ICONS = "/static/vendor/bootstrap-icons-1.13.2/icons.svg"


def icon(name: str, label: str = "") -> Markup:
    """A Bootstrap icon from the vendored sprite; decorative unless it has a `label`."""
    a11y = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return Markup(f'<svg class="bi" {a11y} focusable="false"><use href="{ICONS}#{escape(name)}"></use></svg>')


# What a status means, for its badge's colour (interface.md: waiting blue, in progress cyan,
# needs sign-off or review amber, refused red, done green, closed grey). Keys of every module.
STATUS_TONES = {
    "submitted": "waiting", "dispatched": "waiting", "in_progress": "progress", "refusal_pending": "signoff",
    "refused": "refused", "under_review": "signoff", "resolved": "done", "closed": "closed", "withdrawn": "closed",
    "merged": "closed",
    "open": "waiting", "investigating": "progress", "concluded": "done",  # inspections, campaigns
    "drafting": "progress", "adopted": "done",  # policies
    "applied": "waiting", "verified": "progress", "publicity": "signoff", "final": "done",  # fault tolerance
    "mediating": "progress", "settled": "done", "repaying": "progress", "completed": "done",  # mediation
    "defaulted": "refused", "enforced": "signoff",
}


def status_badge(key: str, label: str | None = None, **attributes) -> Markup:
    """The one status badge: a fixed minimum width, never wrapping, coloured by meaning; the word
    is always there, so colour is never the only signal. `attributes` become data-* attributes
    (data_status_label=True gives `data-status-label`)."""
    tone = STATUS_TONES.get(key, "closed")
    extra = "".join(f" {escape(k.replace('_', '-'))}" if v is True else f' {escape(k.replace("_", "-"))}="{escape(v)}"'
                     for k, v in attributes.items())
    text = gettext(label) if label else key
    return Markup(f'<span class="status-badge tone-{tone}" data-status-key="{escape(key)}"{extra}>{escape(text)}</span>')


FILTERS = {"fromjson": fromjson, "format_params": format_params, "datetime": datetime_filter, "date": date_filter}
