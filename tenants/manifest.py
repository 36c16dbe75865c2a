"""Tenant manifests (租户清单): a district or township described in one TOML file.

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

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"


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
    settings: dict[str, str | int | float | bool] = {}
    departments: list[DepartmentSpec] = []
    categories: list[CategorySpec] = []
    users: list[UserSpec] = []


class ManifestError(Exception):
    """A manifest was rejected; `problems` lists every problem found, each naming its field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def parse_manifest(text: str) -> Manifest:
    """Parse and check the shape (types and required fields) of a manifest's TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([f"TOML: {exc}"]) from None
    try:
        return msgspec.convert(data, Manifest)
    except msgspec.ValidationError as exc:
        raise ManifestError([str(exc).replace("$.", "")]) from None


def check_manifest(m: Manifest, known_plugins: set[str], known_roles: set[str],
                   existing_districts: set[str]) -> list[str]:
    """Every problem of meaning in a well-shaped manifest, each naming its field."""
    problems: list[str] = []
    if not SLUG_RE.match(m.slug):
        problems.append(f"slug: {m.slug!r} must be 2–63 lower-case letters, digits or '-', starting with a letter")
    for field in ("name_zh", "name_en"):
        if not getattr(m, field).strip() or len(getattr(m, field)) > 200:
            problems.append(f"{field}: must be 1–200 characters")
    if m.kind not in ("district", "township"):
        problems.append(f"kind: {m.kind!r} must be 'district' or 'township'")
    if m.kind == "township":
        if not m.parent:
            problems.append("parent: a township needs its parent district's slug")
        elif m.parent not in existing_districts:
            problems.append(f"parent: no district with slug {m.parent!r}")
    elif m.parent:
        problems.append("parent: only a township has a parent")
    for i, name in enumerate(m.plugins):
        if name not in known_plugins:
            problems.append(f"plugins[{i}]: unknown plugin {name!r} (known: {', '.join(sorted(known_plugins))})")
    dept_codes: dict[str, set[str]] = {}
    for i, d in enumerate(m.departments):
        if not CODE_RE.match(d.code):
            problems.append(f"departments[{i}].code: {d.code!r} is not a valid code")
        if d.code in dept_codes:
            problems.append(f"departments[{i}].code: {d.code!r} appears twice")
        if not d.name_zh.strip():
            problems.append(f"departments[{i}].name_zh: must not be empty")
        sections: set[str] = set()
        for j, s in enumerate(d.sections):
            if not CODE_RE.match(s.code) or s.code in sections:
                problems.append(f"departments[{i}].sections[{j}].code: {s.code!r} is invalid or appears twice")
            sections.add(s.code)
        dept_codes[d.code] = sections
    seen: set[str] = set()
    for i, c in enumerate(m.categories):
        if not CODE_RE.match(c.code) or c.code in seen:
            problems.append(f"categories[{i}].code: {c.code!r} is invalid or appears twice")
        seen.add(c.code)
        if c.lead not in dept_codes:
            problems.append(f"categories[{i}].lead: no department with code {c.lead!r}")
        for j, code in enumerate(c.co):
            if code not in dept_codes:
                problems.append(f"categories[{i}].co[{j}]: no department with code {code!r}")
        if not 1 <= c.deadline_days <= 365:
            problems.append(f"categories[{i}].deadline_days: must be between 1 and 365 working days")
    usernames: set[str] = set()
    for i, u in enumerate(m.users):
        if not u.username.strip() or len(u.username) > 150 or u.username in usernames:
            problems.append(f"users[{i}].username: {u.username!r} is empty, too long or appears twice")
        usernames.add(u.username)
        if not u.roles:
            problems.append(f"users[{i}].roles: at least one role is needed")
        for j, role in enumerate(u.roles):
            if role not in known_roles:
                problems.append(f"users[{i}].roles[{j}]: unknown role {role!r}")
        if u.department and u.department not in dept_codes:
            problems.append(f"users[{i}].department: no department with code {u.department!r}")
        elif u.section and u.section not in dept_codes.get(u.department, set()):
            problems.append(f"users[{i}].section: no section {u.section!r} in department {u.department!r}")
    return problems


def demo_manifest_paths() -> list[Path]:
    """The demo manifests, districts before townships."""
    order = {"luqiao": 0, "jiaojiang": 1, "pengjie": 2}
    return sorted(MANIFEST_DIR.glob("*.toml"), key=lambda p: (order.get(p.stem, 9), p.stem))
