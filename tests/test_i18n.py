"""Translation completeness: every user-facing message in the code and templates is translated."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR
from tests.conftest import ROOT

KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "UserError": (2,), "tr": (1,),
            "to_users": (3,), "to_role": (4,), "to_company": (2,), "notify": (3,)}
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def extracted() -> set[str]:
    ids = set()
    for folder in ("core", "web", "workers", "tenants", "plugins"):
        for _, _, message, _, _ in extract_from_dir(ROOT / folder, METHOD_MAP, OPTIONS, KEYWORDS):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                ids.add(msgid)
    return ids


def catalog(locale: str) -> dict[str, str]:
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id}


def test_messages_are_found():
    ids = extracted()
    assert "Wrong username or password." in ids and "Log in" in ids and "Court staff" in ids


def test_every_message_has_a_chinese_translation():
    zh = catalog("zh_CN")
    missing = sorted(i for i in extracted() if not zh.get(i))
    assert not missing, f"untranslated in zh_CN: {missing}"


def test_every_message_is_in_the_english_catalog():
    en = catalog("en")
    missing = sorted(i for i in extracted() if i not in en)
    assert not missing, f"missing in en: {missing}"


def test_placeholders_survive_translation():
    import re

    zh = catalog("zh_CN")
    for msgid, text in zh.items():
        assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", text)), msgid
