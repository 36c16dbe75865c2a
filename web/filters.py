"""Jinja filters: JSON, message parameters, names, dates and numbers in the reader's locale (Babel)."""

from __future__ import annotations

import json
from functools import lru_cache

from babel.numbers import format_decimal, format_percent
from jinja2 import pass_context
from markupsafe import Markup, escape

from core.cases.states import STATUS_LABELS as CASE_STATUSES
from core.formats import babel_locale, date_filter, datetime_filter, month_filter, reader_params
from core.i18n import current_locale, format_params, gettext
from core.names import localized, township


def fromjson(value: str | None) -> dict:
    try:
        result = json.loads(value or "{}")
    except (TypeError, ValueError):
        return {}
    return result if isinstance(result, dict) else {}


def number_filter(value, digits: int = 0) -> str:
    """A count or figure with the locale's grouping (1,234), `digits` decimals at most."""
    if value in (None, ""):
        return "—"
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=babel_locale(current_locale.get()))


def percent_filter(value, digits: int = 1) -> str:
    """A rate (0–1) as a percentage with `digits` decimals: 99.3%; "—" when there is none."""
    if value in (None, ""):
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(value, format=pattern, locale=babel_locale(current_locale.get()))


def localized_filter(value, key: str = "name") -> str:
    """The name in the reader's language (see `core.names.localized`): `{{ d|localized }}`,
    `{{ case|localized("department_name") }}`, `{{ tenant|localized }}`."""
    return localized(value, key)


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


_KEPT: dict[tuple[str, str], Markup] = {}


def kept_text(string: str) -> Markup:
    """What a template's `{{ _(string) }}` prints (autoescaping, no parameters), for texts a page
    puts together in Python: the translation as markup, kept per locale like the templates' own."""
    key = (current_locale.get(), string)
    text = _KEPT.get(key)
    if text is None:
        if len(_KEPT) > 20_000:  # texts come from code and templates, but keep the memory bounded
            _KEPT.clear()
        text = _KEPT[key] = Markup(gettext(string)) % {}
    return text


def tr(msgid: str, params: dict | None = None) -> str:
    """Translate a stored message id and fill its parameters (for notifications and events)."""
    return format_params(gettext(msgid), reader_params(params))


ICONS = "/static/vendor/bootstrap-icons-1.13.2/icons.svg"


@lru_cache(maxsize=512)  # a page shows a dozen; the same few names on every page
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
    "planned": "waiting", "inspected": "done", "cancelled": "closed",  # enforcement: inspections, outcomes
    "awaiting_signoff": "signoff", "returned": "refused",
}


def status_badge(key: str, label: str | None = None, **attributes) -> Markup:
    """The one status badge: a fixed minimum width, never wrapping, coloured by meaning; the word
    is always there, so colour is never the only signal. `attributes` become data-* attributes
    (data_status_label=True gives `data-status-label`).  Without a `label`, a case status reads as
    its label; never the raw key where a label is known."""
    tone = STATUS_TONES.get(key, "closed")
    extra = "".join(f" {escape(k.replace('_', '-'))}" if v is True else f' {escape(k.replace("_", "-"))}="{escape(v)}"'
                     for k, v in attributes.items())
    text = gettext(label or CASE_STATUSES.get(key) or key)
    return Markup(f'<span class="status-badge tone-{tone}" data-status-key="{escape(key)}"{extra}>{escape(text)}</span>')


FILTERS = {"fromjson": fromjson, "format_params": format_params, "datetime": datetime_filter, "date": date_filter,
           "month": month_filter, "number": number_filter, "percent": percent_filter, "localized": localized_filter,
           "township": township}
