"""Tenant manifests (租户清单): a city, district, township or court described in one TOML file.

A city (市) is above its districts: it names its `districts`, a district names its `city`, and, as
for a court, the link is active only when both sides name each other (so either may be onboarded
first, or without the other).

A court (人民法院) is a tenant of its own: it names the districts it `serves`, a district names the
`courts` that serve it, and a link between them is active only when both sides name each other.

A manifest is parsed and validated completely before anything is written: the shape is checked
field by field (`read_manifest`: a missing key, a wrong type or an unknown field each becomes a
problem naming its path, and the check goes on), then the meaning (known plugins and roles, no
system-only role, existing lead departments, unique codes, valid credit codes, a township's parent
district).  Every problem is collected, so a manifest is accepted or rejected whole.

Company users (企业用户) are linked to their company by its unified social credit code
(统一社会信用代码): `company = "<code>"` on a [[users]] entry (with the role `company`).  The
company must be declared in the manifest's [[companies]] or already be registered in the tenant.
"""

from __future__ import annotations

import re
import tomllib
import typing
from pathlib import Path

import msgspec

from core.i18n import N_
from core.roles import role_fits
from core.uscc import InvalidCreditCode, validate_uscc

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"
KINDS = ("city", "district", "township", "court")
SYSTEM_ONLY_ROLES = frozenset({"system_admin"})  # granted by `qinqing user create --system-admin`, never a manifest


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


class CompanySpec(msgspec.Struct, forbid_unknown_fields=True):
    """A company (市场主体) registered with the tenant, keyed by its credit code."""

    credit_code: str
    name: str
    industry: str = ""
    township: str = ""
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    email: str = ""


class UserSpec(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    display_name: str
    roles: list[str]
    department: str = ""
    section: str = ""
    email: str = ""
    password: str = ""
    company: str = ""  # a company user's: the credit code of the company it acts for
    liaison: bool = False  # the company's named liaison (企业联络员)


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
    districts: list[str] = []  # a city's: the slugs of its districts
    city: str = ""  # a district's: the slug of its city
    settings: dict[str, str | int | float | bool] = {}
    departments: list[DepartmentSpec] = []
    categories: list[CategorySpec] = []
    companies: list[CompanySpec] = []
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


TYPE_MESSAGES = {str: N_("must be text"), int: N_("must be a whole number"), bool: N_("must be true or false"),
                 list[str]: N_("must be a list of text")}
PLACEHOLDERS = {str: "", int: 0, bool: False}


def _spec_of(tp) -> type | None:
    """The spec type of a `list[Spec]` field, else None."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) is list and args and isinstance(args[0], type) and issubclass(args[0], msgspec.Struct):
        return args[0]
    return None


def _shape(data, spec: type, path: str, problems: list[Problem], broken: set[str]) -> dict:
    """`data` checked field by field against `spec`: every misfit is added to `problems` and its
    path to `broken`, and a placeholder stands in for it, so the check goes on past it."""
    fields = msgspec.structs.fields(spec)
    out: dict = {}
    if not isinstance(data, dict):
        problems.append(Problem(path, N_("must be a table")))
        data = {}
        broken.add(path)
    names = {f.encode_name for f in fields}
    for key in data:
        if key not in names:
            problems.append(Problem(f"{path}.{key}" if path else key, N_("unknown field")))
    for f in fields:
        where = f"{path}.{f.name}" if path else f.name
        nested = _spec_of(f.type)
        if f.name not in data:
            if f.required:
                problems.append(Problem(where, N_("is missing")))
                broken.add(where)
                out[f.name] = PLACEHOLDERS.get(f.type, [])
            continue
        value = data[f.name]
        if nested is not None and isinstance(value, list):
            out[f.name] = [_shape(item, nested, f"{where}[{i}]", problems, broken) for i, item in enumerate(value)]
            continue
        try:
            out[f.name] = msgspec.convert(value, f.type)
        except msgspec.ValidationError:
            message = N_("must be a list of tables") if nested else TYPE_MESSAGES.get(f.type, N_("has the wrong type"))
            problems.append(Problem(where, message))
            broken.add(where)
            if f.required:
                out[f.name] = PLACEHOLDERS.get(f.type, [])
    return out


def read_manifest(text: str) -> tuple[Manifest, list[Problem], set[str]]:
    """Parse a manifest's TOML text leniently: (the manifest with placeholders where its shape is
    wrong, every shape problem, the paths of those problems).  Raises ManifestError only when the
    text is not TOML at all."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([Problem("TOML", N_("not valid TOML: %(detail)s"), detail=str(exc))]) from None
    except RecursionError:  # tomllib recurses once per nesting level: bad input, not our fault
        raise ManifestError([Problem("TOML", N_("not valid TOML: nested too deeply"))]) from None
    problems: list[Problem] = []
    broken: set[str] = set()
    return msgspec.convert(_shape(data, Manifest, "", problems, broken), Manifest), problems, broken


def under(field: str, paths: set[str]) -> bool:
    """Whether `field` is one of `paths` or inside one (a meaning problem of a placeholder)."""
    return any(field == p or field.startswith((p + ".", p + "[")) for p in paths)


def parse_manifest(text: str) -> Manifest:
    """Parse a manifest's TOML text; ManifestError lists every shape problem (types, required and
    unknown fields), each with its path."""
    manifest, problems, _ = read_manifest(text)
    if problems:
        raise ManifestError(problems)
    return manifest


def check_manifest(m: Manifest, known_plugins: set[str], known_roles: set[str],
                   existing_districts: set[str], role_kinds: dict[str, frozenset[str]] | None = None,
                   existing_companies: set[str] = frozenset()) -> list[Problem]:  # type: ignore[assignment]
    """Every problem of meaning in a well-shaped manifest, each naming its field
    (`existing_companies`: the credit codes already registered in the tenant)."""
    problems: list[Problem] = []
    add = problems.append
    if not SLUG_RE.match(m.slug):
        add(Problem("slug", N_("%(value)s must be 2–63 lower-case letters, digits or '-', starting with a letter"),
                    value=repr(m.slug)))
    for field in ("name_zh", "name_en"):
        if not getattr(m, field).strip() or len(getattr(m, field)) > 200:
            add(Problem(field, N_("must be 1–200 characters")))
    if m.kind not in KINDS:
        add(Problem("kind", N_("%(value)s must be 'city', 'district', 'township' or 'court'"), value=repr(m.kind)))
    if m.kind == "township":
        if not m.parent:
            add(Problem("parent", N_("a township needs its parent district's slug")))
        elif m.parent not in existing_districts:
            add(Problem("parent", N_("no district with slug %(value)s"), value=repr(m.parent)))
    elif m.parent:
        add(Problem("parent", N_("only a township has a parent")))
    for field, slugs, kind in (("courts", m.courts, "district"), ("serves", m.serves, "court"),
                               ("districts", m.districts, "city"), ("city", [m.city] if m.city else [], "district")):
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
    companies = set(existing_companies)
    for i, co in enumerate(m.companies):
        code = credit_code_problem(f"companies[{i}].credit_code", co.credit_code, add)
        if code and code in companies - set(existing_companies):
            add(Problem(f"companies[{i}].credit_code", N_("%(value)s appears twice"), value=repr(co.credit_code)))
        companies.add(code or "")
        if not co.name.strip() or len(co.name) > 200:
            add(Problem(f"companies[{i}].name", N_("must be 1–200 characters")))
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
            elif role in SYSTEM_ONLY_ROLES:
                add(Problem(f"users[{i}].roles[{j}]", N_("%(value)s is a system role: a system administrator "
                                                         "is made with 'qinqing user create --system-admin'"),
                            value=repr(role)))
            elif role_kinds is not None and not role_fits(role, role_kinds.get(role, frozenset()), m.kind):
                add(Problem(f"users[{i}].roles[{j}]", N_("a %(kind)s has no role %(value)s"), kind=m.kind,
                            value=repr(role)))
        if u.department and u.department not in dept_codes:
            add(Problem(f"users[{i}].department", N_("no department with code %(value)s"), value=repr(u.department)))
        elif u.section and u.section not in dept_codes.get(u.department, set()):
            add(Problem(f"users[{i}].section", N_("no section %(value)s in department %(department)s"),
                        value=repr(u.section), department=repr(u.department)))
        if u.company:
            code = credit_code_problem(f"users[{i}].company", u.company, add)
            if code and code not in companies:
                add(Problem(f"users[{i}].company", N_("no company with credit code %(value)s: declare it in "
                                                      "[[companies]] or register it first"), value=repr(u.company)))
            if "company" not in u.roles:
                add(Problem(f"users[{i}].company", N_("only a user with the role 'company' acts for a company")))
        elif u.liaison:
            add(Problem(f"users[{i}].liaison", N_("a liaison needs the credit code of its company")))
    return problems


def credit_code_problem(field: str, code: str, add) -> str | None:
    """The normalised credit code, or None after adding its problem (in the user's language)."""
    try:
        return validate_uscc(code)
    except InvalidCreditCode as exc:
        add(Problem(field, exc.message, **exc.params))
        return None


def demo_manifest_paths() -> list[Path]:
    """The demo manifests: the city, its districts, their townships, then the court serving them."""
    order = {"taizhou": -1, "luqiao": 0, "jiaojiang": 1, "pengjie": 2, "luqiao-court": 3}
    return sorted(MANIFEST_DIR.glob("*.toml"), key=lambda p: (order.get(p.stem, 9), p.stem))
