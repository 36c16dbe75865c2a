"""Tenant manifests (租户清单): a district, township or court described in one TOML file.

A court (人民法院) is a tenant of its own: it names the districts it `serves`, a district names the
`courts` that serve it, and a link between them is active only when both sides name each other.

`load_manifest` parses and validates a manifest completely before anything is written: the
shape is checked by msgspec (the error names the field), then the meaning (known plugins and
roles, existing lead departments, unique codes, a township's parent district).  Every problem
is collected, so a manifest is accepted or rejected whole.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import msgspec

from core.i18n import N_

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
KINDS = ("district", "township", "court")
COURT_CORE_ROLES = frozenset({"tenant_admin", "system_admin"})


class SectionSpec(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name_zh: str
    name_en: str = ""


class DepartmentSpec(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name_zh: str
    name_en: str = ""
    sections: list[SectionSpec] = []


class CategorySpec(msgspec.Struct, forbid_unknown_fields=True):
    code: str
    name_zh: str
    lead: str
    deadline_days: int
    name_en: str = ""
    co: list[str] = []


class UserSpec(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    display_name: str
    roles: list[str]
    department: str = ""
    section: str = ""
    email: str = ""
    password: str = ""


class Manifest(msgspec.Struct, forbid_unknown_fields=True):
    slug: str
    name_zh: str
    name_en: str
    kind: str
    parent: str = ""
    plugins: list[str] = []
    hosts: list[str] = []
    courts: list[str] = []  # a district's: the slugs of the courts serving it
    serves: list[str] = []  # a court's: the slugs of the districts it serves
    settings: dict[str, str | int | float | bool] = {}
    departments: list[DepartmentSpec] = []
    categories: list[CategorySpec] = []
    users: list[UserSpec] = []


class Problem(str):
    """One problem of a manifest: the `field` it concerns, an English msgid `message` and its
    `params` (translated where it is shown).  As a string it reads "field: message" in English."""

    field: str
    message: str
    params: dict

    def __new__(cls, field: str, message: str, **params) -> "Problem":
        text = message % params if params else message
        problem = super().__new__(cls, f"{field}: {text}" if field else text)
        problem.field, problem.message, problem.params = field, message, params
        return problem

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message, "params": self.params}


class ManifestError(Exception):
    """A manifest was rejected; `problems` lists every problem found, each naming its field."""

    def __init__(self, problems: list[str]):
        self.problems = [p if isinstance(p, Problem) else Problem("", p) for p in problems]
        super().__init__("; ".join(self.problems))


def parse_manifest(text: str) -> Manifest:
    """Parse and check the shape (types and required fields) of a manifest's TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([Problem("TOML", N_("not valid TOML: %(detail)s"), detail=str(exc))]) from None
    except RecursionError:  # tomllib recurses once per nesting level: bad input, not our fault
        raise ManifestError([Problem("TOML", N_("not valid TOML: nested too deeply"))]) from None
    try:
        return msgspec.convert(data, Manifest)
    except msgspec.ValidationError as exc:
        detail = str(exc)
        where = re.search(r"`\$\.([^`]+)`$", detail) or re.search(r"field `(\w+)`", detail)
        raise ManifestError([Problem(where.group(1) if where else "manifest", N_("wrong shape: %(detail)s"),
                                     detail=detail.replace("$.", ""))]) from None


def role_fits(key: str, kinds: frozenset[str], kind: str) -> bool:
    """Whether a tenant of `kind` has the role `key` declared for `kinds` (empty: every kind but a
    court, which has only its own roles and its administrators)."""
    if kinds:
        return kind in kinds
    return kind != "court" or key in COURT_CORE_ROLES


def check_manifest(m: Manifest, known_plugins: set[str], known_roles: set[str],
                   existing_districts: set[str], role_kinds: dict[str, frozenset[str]] | None = None) -> list[Problem]:
    """Every problem of meaning in a well-shaped manifest, each naming its field."""
    problems: list[Problem] = []
    add = problems.append
    if not SLUG_RE.match(m.slug):
        add(Problem("slug", N_("%(value)s must be 2–63 lower-case letters, digits or '-', starting with a letter"),
                    value=repr(m.slug)))
    for field in ("name_zh", "name_en"):
        if not getattr(m, field).strip() or len(getattr(m, field)) > 200:
            add(Problem(field, N_("must be 1–200 characters")))
    if m.kind not in KINDS:
        add(Problem("kind", N_("%(value)s must be 'district', 'township' or 'court'"), value=repr(m.kind)))
    if m.kind == "township":
        if not m.parent:
            add(Problem("parent", N_("a township needs its parent district's slug")))
        elif m.parent not in existing_districts:
            add(Problem("parent", N_("no district with slug %(value)s"), value=repr(m.parent)))
    elif m.parent:
        add(Problem("parent", N_("only a township has a parent")))
    for field, slugs, kind in (("courts", m.courts, "district"), ("serves", m.serves, "court")):
        if slugs and m.kind != kind:
            add(Problem(field, N_("only a %(kind)s names %(name)s"), kind=kind, name=field))
        for i, slug in enumerate(slugs):
            if not SLUG_RE.match(slug) or slug == m.slug or slugs.index(slug) != i:
                add(Problem(f"{field}[{i}]", N_("%(value)s is not another tenant's slug, or appears twice"),
                            value=repr(slug)))
    if m.kind == "court" and "mediation" in known_plugins and "mediation" not in m.plugins:
        add(Problem("plugins", N_("a court runs the mediation module: add 'mediation'")))
    for i, name in enumerate(m.plugins):
        if name not in known_plugins:
            add(Problem(f"plugins[{i}]", N_("unknown plugin %(value)s (known: %(known)s)"), value=repr(name),
                        known=", ".join(sorted(known_plugins))))
    dept_codes: dict[str, set[str]] = {}
    for i, d in enumerate(m.departments):
        if not CODE_RE.match(d.code):
            add(Problem(f"departments[{i}].code", N_("%(value)s is not a valid code"), value=repr(d.code)))
        if d.code in dept_codes:
            add(Problem(f"departments[{i}].code", N_("%(value)s appears twice"), value=repr(d.code)))
        if not d.name_zh.strip():
            add(Problem(f"departments[{i}].name_zh", N_("must not be empty")))
        sections: set[str] = set()
        for j, s in enumerate(d.sections):
            if not CODE_RE.match(s.code) or s.code in sections:
                add(Problem(f"departments[{i}].sections[{j}].code", N_("%(value)s is invalid or appears twice"),
                            value=repr(s.code)))
            sections.add(s.code)
        dept_codes[d.code] = sections
    seen: set[str] = set()
    for i, c in enumerate(m.categories):
        if not CODE_RE.match(c.code) or c.code in seen:
            add(Problem(f"categories[{i}].code", N_("%(value)s is invalid or appears twice"), value=repr(c.code)))
        seen.add(c.code)
        if c.lead not in dept_codes:
            add(Problem(f"categories[{i}].lead", N_("no department with code %(value)s"), value=repr(c.lead)))
        for j, code in enumerate(c.co):
            if code not in dept_codes:
                add(Problem(f"categories[{i}].co[{j}]", N_("no department with code %(value)s"), value=repr(code)))
        if not 1 <= c.deadline_days <= 365:
            add(Problem(f"categories[{i}].deadline_days", N_("must be between 1 and 365 working days")))
    usernames: set[str] = set()
    for i, u in enumerate(m.users):
        if not u.username.strip() or len(u.username) > 150 or u.username in usernames:
            add(Problem(f"users[{i}].username", N_("%(value)s is empty, too long or appears twice"),
                        value=repr(u.username)))
        usernames.add(u.username)
        if not u.roles:
            add(Problem(f"users[{i}].roles", N_("at least one role is needed")))
        for j, role in enumerate(u.roles):
            if role not in known_roles:
                add(Problem(f"users[{i}].roles[{j}]", N_("unknown role %(value)s"), value=repr(role)))
            elif role_kinds is not None and not role_fits(role, role_kinds.get(role, frozenset()), m.kind):
                add(Problem(f"users[{i}].roles[{j}]", N_("a %(kind)s has no role %(value)s"), kind=m.kind,
                            value=repr(role)))
        if u.department and u.department not in dept_codes:
            add(Problem(f"users[{i}].department", N_("no department with code %(value)s"), value=repr(u.department)))
        elif u.section and u.section not in dept_codes.get(u.department, set()):
            add(Problem(f"users[{i}].section", N_("no section %(value)s in department %(department)s"),
                        value=repr(u.section), department=repr(u.department)))
    return problems


def demo_manifest_paths() -> list[Path]:
    """The demo manifests, districts before townships, then the court serving them."""
    order = {"luqiao": 0, "jiaojiang": 1, "pengjie": 2, "luqiao-court": 3}
    return sorted(MANIFEST_DIR.glob("*.toml"), key=lambda p: (order.get(p.stem, 9), p.stem))
