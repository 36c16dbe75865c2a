"""A tenant of a test file's own, shaped like luqiao (all three modules, demo data, one account
per role `<role>@<slug>`), for suites that write freely (fuzzing, hostile input) without touching
what the rest of the suite reads."""

from __future__ import annotations

from tests.helpers import DEMO_PASSWORD

_made: set[str] = set()


async def luqiao_copy(slug: str, demo_cases: int = 400) -> str:
    """Create the tenant once per test process; returns its slug."""
    if slug not in _made:
        from tenants.demo import load_demo
        from tenants.manifest import demo_manifest_paths

        luqiao = next(p for p in demo_manifest_paths() if p.stem == "luqiao").read_text(encoding="utf-8")
        manifest = (luqiao.replace('slug = "luqiao"', f'slug = "{slug}"').replace("@luqiao", f"@{slug}")
                    .replace("demo_cases = 2000", f"demo_cases = {demo_cases}"))
        await load_demo(DEMO_PASSWORD, [manifest])
        _made.add(slug)
    return slug
