"""Names in the reader's language (名称本地化): on English pages and in English notifications and
exports, the English name (`name_en`) of a tenant, department, section, category or township
where there is one, the Chinese name otherwise.  Company and people's names stay as registered."""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import current_locale


class LocalName(str):
    """A Chinese name that carries its English one: it is the Chinese name wherever a string is
    used (sorting, JSON, logs), and `localized()` gives the English name to an English reader.
    For names kept in shared caches, which every locale reads."""

    en: str

    def __new__(cls, zh: str, en: str | None = None) -> LocalName:
        name = super().__new__(cls, zh or "")
        name.en = en or ""
        return name


def _pair(value, key: str) -> tuple[str, str]:
    """(Chinese, English) of `value` under `key`: a row with `<key>_zh`/`<key>_en` (a department
    row) or `<key>`/`<key>_en` (a case row's `department_name`/`department_name_en`), or an object
    with those attributes (a tenant)."""
    get = value.get if type(value) is dict or isinstance(value, Mapping) else (lambda k, d=None: getattr(value, k, d))
    zh = get(f"{key}_zh")
    if zh is None:
        zh = get(key)
    return zh or "", get(f"{key}_en") or ""


def localized(value, key: str = "name", locale: str | None = None) -> str:
    """The name of `value` for a reader of `locale` (the current one by default): "" for none,
    a plain string as it is, a `LocalName` or a row/object by `key` (see `_pair`)."""
    if value is None:
        return ""
    if type(value) is str:  # a plain string as it is, in every locale (no locale to look up)
        return value
    english = (locale or current_locale.get()) == "en"
    if isinstance(value, LocalName):
        return value.en if english and value.en else str(value)
    if isinstance(value, str):
        return value
    zh, en = _pair(value, key)
    return en if english and en else zh


TOWNSHIP_SETTING = "township_en."  # a tenant setting per township: "township_en.路桥街道" = "Luqiao Subdistrict"


def township(name: str | None, locale: str | None = None) -> str:
    """A township (街道、镇) as a company gives it, in the reader's language: its English name from
    the current tenant's settings (`township_en.<name>`) for an English reader, else as given."""
    if not name:
        return ""
    if (locale or current_locale.get()) != "en":
        return name
    from core.tenant_context import current_tenant_or_none

    tenant = current_tenant_or_none()
    english = tenant.settings.get(TOWNSHIP_SETTING + name) if tenant is not None else None
    return english if isinstance(english, str) and english else name
