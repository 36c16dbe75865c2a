"""Translation completeness: every user-facing message in the code and templates is translated."""

import re

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


def test_every_message_has_an_english_translation():
    en = catalog("en")
    missing = sorted(i for i in extracted() if not en.get(i))
    assert not missing, f"untranslated in en: {missing}"


# Words a template may show as they are: language names in their own language (the switcher),
# units and file-format names.
AS_IS = {"中文", "English", "KB", "Excel", "CSV", "XLSX", "·", ":"}
VISIBLE_ATTRIBUTES = r'\b(title|placeholder|aria-label|alt)="([^"]*)"'


def literal_text(template: str) -> list[str]:
    """Text a user would see that does not pass through the translation layer."""
    t = re.sub(r"\{#.*?#\}", " ", template, flags=re.S)
    t = re.sub(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", " ", t, flags=re.S)
    t = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", t, flags=re.S)
    t = re.sub(r"<(script|style)\b.*?</\1>", " ", t, flags=re.S)
    found = [m.group(2) for m in re.finditer(VISIBLE_ATTRIBUTES, t)
             if re.search(r"[A-Za-z\u4e00-\u9fff]", m.group(2)) and not re.fullmatch(r"[a-z_,]+", m.group(2))]
    t = re.sub(r"<[^>]*>", " ", t, flags=re.S)
    found += [word for word in re.split(r"\s+", t) if re.search(r"[A-Za-z\u4e00-\u9fff]", word) and word not in AS_IS]
    return found


def test_templates_show_no_untranslated_text():
    untranslated = {}
    for folder in ("web", "plugins", "core"):
        for path in (ROOT / folder).rglob("templates/**/*.html"):
            words = literal_text(path.read_text(encoding="utf-8"))
            if words:
                untranslated[str(path.relative_to(ROOT))] = words
    assert not untranslated, f"text outside the translation layer: {untranslated}"


def test_literal_text_finder_catches_what_it_should():
    assert literal_text('<p>{{ _("Cases") }} 提交</p>') == ["提交"]
    assert literal_text('<input placeholder="Search here">') == ["Search here"]
    assert literal_text('{% trans %}Hello{% endtrans %} <b>{{ n }}</b> KB') == []


def test_placeholders_survive_translation():
    import re

    zh = catalog("zh_CN")
    for msgid, text in zh.items():
        assert set(re.findall(r"%\(\w+\)s", msgid)) == set(re.findall(r"%\(\w+\)s", text)), msgid


def test_accept_language_ranks_by_weight_and_skips_what_we_do_not_speak():
    from core.i18n import accepted_locale

    assert accepted_locale("en-US,en;q=0.9") == "en"
    assert accepted_locale("zh-CN,zh;q=0.9,en;q=0.8") == "zh_CN"
    assert accepted_locale("fr-FR, en;q=0.5, zh;q=0.7") == "zh_CN"
    assert accepted_locale("de, en;q=0") is None      # q=0: not acceptable
    assert accepted_locale("en;q=abc, zh-TW") == "zh_CN"
    assert accepted_locale("") is None and accepted_locale(None) is None


async def test_a_first_visit_speaks_the_browsers_language_and_a_chosen_one_wins(client):
    english = await client.get("/t/luqiao/login", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert english.status_code == 200 and '<html lang="en"' in english.text and "Log in" in english.text
    chinese = await client.get("/t/luqiao/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN"' in chinese.text and "登录" in chinese.text
    nothing = await client.get("/t/luqiao/login", headers={"Accept-Language": "fr-FR"})
    assert '<html lang="zh-CN"' in nothing.text  # the default
    client.cookies.set("lang", "zh_CN")
    chosen = await client.get("/t/luqiao/login", headers={"Accept-Language": "en-US"})
    assert '<html lang="zh-CN"' in chosen.text
