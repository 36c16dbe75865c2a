"""The translation layer: gettext catalogs (Babel), zh-CN by default, English second.

Message ids are English.  Catalogs live in `web/locale/<locale>/LC_MESSAGES/messages.po` and are
compiled in memory at first use, so no build step is needed.  The current locale is a context
variable set per request (cookie `lang`, then the user's preference, then zh-CN).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "web" / "locale"

current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)


@lru_cache(maxsize=None)
def translations(locale: str) -> Translations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def normalize_locale(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_").strip()
    if value.lower().startswith("zh"):
        return "zh_CN"
    if value.lower().startswith("en"):
        return "en"
    return None


def accepted_locale(header: str | None) -> str | None:
    """The locale we speak that an Accept-Language header ranks first (by q-value), or None."""
    ranked = []
    for order, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        ranked.append((-weight, order, tag.strip()))
    for weight, _, tag in sorted(ranked):
        found = normalize_locale(tag) if weight < 0 else None
        if found:
            return found
    return None


def gettext(message: str, **params) -> str:
    """Translate `message` into the current locale and fill its parameters."""
    text = translations(current_locale.get()).ugettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations(current_locale.get()).ungettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


def format_params(text: str, params: dict | None) -> str:
    """Fill a translated message's `%(name)s` parameters; the text as it is if they do not fit."""
    if not params:
        return text
    try:
        return text % params
    except (KeyError, TypeError, ValueError):
        return text


def N_(message: str) -> str:
    """Mark a message id for extraction; it is translated where it is shown."""
    return message


_ = gettext
