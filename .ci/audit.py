#!/usr/bin/env python3
"""The locked dependency set against PyPI's advisories: an equivalent of `pip-audit -r requirements.lock`.

For every `name==version` pin in requirements.lock:

1. ask PyPI's per-release endpoint, <index>/<name>/<version>/json, whose `vulnerabilities` (PyPI's
   OSV-sourced advisories, the data pip-audit's PyPI service reads) apply to exactly that version;
2. if that endpoint answers 404 (it does through some registry proxies), ask the project endpoint,
   <index>/<name>/json: when its `info.version` (the newest release) is the pinned version, its
   `vulnerabilities` apply to exactly our version and the pin is audited;
3. otherwise the pin cannot be audited from here (a newer release came out since the lock): it is
   reported, not failed; .ci/audit-reviewed.toml may record a hand review of exactly that version.

A vulnerability counts unless it is withdrawn.  Exit status: 1 when a known vulnerability is found,
the lock has no pins or the reviewed file is malformed; 2 when PyPI cannot be reached at all; 0
otherwise.  A release published upstream never turns the run red by itself: the verdict depends on
the commit and on PyPI's advisories, not on the date.  `make lock` moves the pins forward.  The last
line of the text output is a one-line verdict.  Standard library only; does not import the project.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import re
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = "https://pypi.org/pypi"
THREADS = 16
RETRIES = 2
USER_AGENT = "qinqing-ci-audit/1 (+urllib)"
REVIEW_FIELDS = ("version", "reviewed", "source", "why")


def normalise(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def same_version(a: str, b: str) -> bool:
    """Equal as PEP 440 versions, for the spellings PyPI and pip freeze actually produce."""
    def canon(v: str) -> str:
        v = v.strip().lower().removeprefix("v")
        match = re.fullmatch(r"(\d+(?:\.\d+)*)(.*)", v)
        if not match:
            return v
        release = match.group(1).split(".")
        while len(release) > 1 and int(release[-1]) == 0:
            release.pop()
        return ".".join(str(int(part)) for part in release) + match.group(2)
    return canon(a) == canon(b)


# -- the lock ---------------------------------------------------------------------------------------

class LockError(Exception):
    pass


def read_lock(path: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(pins as (normalised name, name as written, version), lines that are not `name==version`)."""
    pins, odd = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        line = line.split(";", 1)[0].strip()          # environment markers
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*===?\s*([^\s\\]+)", line)
        if match:
            pins.append((normalise(match.group(1)), match.group(1), match.group(2)))
        else:
            odd.append(raw.strip())
    return pins, odd


# -- PyPI -------------------------------------------------------------------------------------------

class Unreachable(Exception):
    """No HTTP answer (connection refused, DNS, TLS, timeout) or a server error, after retries."""


def fetch_json(url: str, timeout: float) -> dict | None:
    """The JSON document at url; None on 404; Unreachable when no usable answer after retries."""
    last = None
    for attempt in range(RETRIES + 1):
        if attempt:
            time.sleep(0.5 * attempt)
        request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            last = f"HTTP {exc.code} from {url}"
            if exc.code not in (408, 425, 429) and exc.code < 500:
                break
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            last = f"{getattr(exc, 'reason', exc)} ({url})"
        except ValueError as exc:              # not JSON
            last = f"not JSON from {url}: {exc}"
    raise Unreachable(last or url)


def audit_pin(index: str, key: str, name: str, version: str, timeout: float) -> dict:
    """The result for one pin: status is audited (via release or latest), unaudited or error."""
    result = {"name": key, "version": version, "status": "unaudited", "via": None, "newest": None,
              "vulnerabilities": [], "note": None, "error": None}
    quoted = urllib.parse.quote(key, safe="")
    try:
        release = fetch_json(f"{index}/{quoted}/{urllib.parse.quote(version, safe='')}/json", timeout)
        if release is not None:
            result.update(status="audited", via="release", newest=(release.get("info") or {}).get("version"),
                          vulnerabilities=release.get("vulnerabilities") or [])
            return result
        project = fetch_json(f"{index}/{quoted}/json", timeout)
    except Unreachable as exc:
        result.update(status="error", error=str(exc))
        return result
    if project is None:
        result["note"] = "not found on the index"
        return result
    newest = str((project.get("info") or {}).get("version") or "")
    result["newest"] = newest or None
    if newest and same_version(newest, version):
        result.update(status="audited", via="latest", vulnerabilities=project.get("vulnerabilities") or [])
    else:
        releases = project.get("releases")
        known = isinstance(releases, dict) and any(same_version(v, version) for v in releases)
        result["note"] = (f"not the newest release ({newest or 'unknown'}): the index gives advisories"
                          " only for its newest release" + ("" if known or releases is None
                                                            else "; this version is not among its releases"))
    return result


# -- the reviewed list ------------------------------------------------------------------------------

def read_reviewed(path: Path) -> tuple[dict[str, dict], list[str]]:
    """(entries by normalised name, problems with the file itself)."""
    if not path.exists():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: not valid TOML: {exc}"]
    entries, problems = {}, []
    for name, entry in data.items():
        if not isinstance(entry, dict):
            problems.append(f"{path}: [{name}] must be a table with {', '.join(REVIEW_FIELDS)}")
            continue
        missing = [f for f in REVIEW_FIELDS if not str(entry.get(f, "")).strip()]
        reviewed = entry.get("reviewed")
        if not missing and not isinstance(reviewed, datetime.date):
            try:
                datetime.date.fromisoformat(str(reviewed))
            except ValueError:
                missing.append("reviewed (a date, YYYY-MM-DD)")
        if missing:
            problems.append(f"{path}: [{name}] lacks {', '.join(missing)}")
            continue
        entries[normalise(name)] = dict(entry, version=str(entry["version"]), reviewed=str(reviewed))
    return entries, problems


# -- the report -------------------------------------------------------------------------------------

def live(vulns: list) -> list[dict]:
    return [v for v in vulns if isinstance(v, dict) and not v.get("withdrawn")]


def describe(pin: dict, vuln: dict) -> str:
    aliases = [a for a in vuln.get("aliases") or [] if a != vuln.get("id")]
    fixed = vuln.get("fixed_in") or []
    text = (vuln.get("summary") or "").strip() or (vuln.get("details") or "").strip()
    first = text.splitlines()[0].strip() if text else "(no description)"
    if len(first) > 200:
        first = first[:197] + "..."
    return (f"{pin['name']} {pin['version']}: {vuln.get('id', '?')}"
            + (f" ({', '.join(aliases)})" if aliases else "")
            + (f" fixed in {', '.join(fixed)}" if fixed else " no fixed release")
            + f", {first}"
            + (f" <{vuln['link']}>" if vuln.get("link") else ""))


def build_report(pins_found: list[dict], odd: list[str], reviewed: dict[str, dict],
                 review_problems: list[str], lock: Path, review_path: Path, index: str) -> dict:
    vulnerabilities, unaudited, stale_reviews, notes = [], [], [], []
    counts = {"pins": len(pins_found) + len(odd), "audited": 0, "audited_per_release": 0,
              "audited_newest": 0, "reviewed": 0, "unaudited": 0, "unreachable": 0, "vulnerabilities": 0}
    for pin in pins_found:
        entry = reviewed.get(pin["name"])
        pin["review"] = entry
        if pin["status"] == "audited":
            counts["audited"] += 1
            counts["audited_per_release" if pin["via"] == "release" else "audited_newest"] += 1
            for vuln in live(pin["vulnerabilities"]):
                vulnerabilities.append(describe(pin, vuln))
            if entry:
                notes.append(f"{pin['name']} {pin['version']} is audited now; its entry in {review_path.name}"
                             " is no longer needed")
            continue
        if pin["status"] == "error":
            counts["unreachable"] += 1
        why = pin["error"] or pin["note"]
        if entry and same_version(entry["version"], pin["version"]):
            counts["reviewed"] += 1
            pin["status"] = "reviewed"
        elif entry:
            counts["unaudited"] += 1
            stale_reviews.append(f"{pin['name']} {pin['version']}: reviewed by hand for {entry['version']}"
                                 f" ({entry['reviewed']}), not {pin['version']}: re-review after the version"
                                 f" changed and update {review_path.name} ({why})")
        else:
            counts["unaudited"] += 1
            unaudited.append(f"{pin['name']} {pin['version']}: could not be audited ({why}); `make lock` moves"
                             f" it forward, or review it by hand in {review_path.name}")
    for line in odd:
        counts["unaudited"] += 1
        unaudited.append(f"{line!r}: not a `name==version` pin, cannot be audited")
    locked = {p["name"] for p in pins_found}
    for name in sorted(set(reviewed) - locked):
        notes.append(f"{review_path.name} lists {name}, which is not in {lock.name}")
    counts["vulnerabilities"] = len(vulnerabilities)

    behind = len(unaudited) + len(stale_reviews)
    if pins_found and counts["unreachable"] == len(pins_found):
        code, verdict = 2, f"ERROR: {index} could not be reached at all; nothing was audited"
    elif not pins_found and not odd:
        code, verdict = 1, f"FAILED: no pins found in {lock}"
    elif vulnerabilities or review_problems:
        parts = [f"{len(vulnerabilities)} known vulnerabilit{'y' if len(vulnerabilities) == 1 else 'ies'}"]
        if review_problems:
            parts.append(f"{len(review_problems)} problem(s) in {review_path.name}")
        code, verdict = 1, f"FAILED: {'; '.join(parts)} (of {counts['pins']} locked pins)"
    else:
        code, verdict = 0, (f"OK: no known vulnerability in {counts['pins']} locked pins"
                            f" ({counts['audited']} audited against PyPI's advisories,"
                            f" {counts['reviewed']} reviewed by hand"
                            + (f", {behind} not auditable from here: reported above, run `make lock`" if behind
                               else "") + ")")
    return {"lock": str(lock), "reviewed_file": str(review_path), "index_url": index, "counts": counts,
            "vulnerabilities": vulnerabilities, "unaudited": unaudited, "stale_reviews": stale_reviews,
            "review_file_problems": review_problems, "notes": notes, "pins": pins_found,
            "exit_code": code, "verdict": verdict}


def print_text(report: dict) -> None:
    c = report["counts"]
    print(f"Dependency audit of {report['lock']} against {report['index_url']}")
    print(f"  {c['pins']} pins")
    print(f"  {c['audited']} audited against PyPI's advisories"
          f" ({c['audited_per_release']} via the per-release endpoint, {c['audited_newest']} as the newest release)")
    print(f"  {c['reviewed']} reviewed by hand per {Path(report['reviewed_file']).name}")
    if c["unaudited"]:
        print(f"  {c['unaudited']} neither audited nor reviewed"
              + (f" ({c['unreachable']} because the index could not be reached)" if c["unreachable"] else ""))
    print(f"  {c['vulnerabilities']} known vulnerabilit{'y' if c['vulnerabilities'] == 1 else 'ies'} found")
    sections = [("Vulnerabilities", report["vulnerabilities"]),
                ("Not audited and not reviewed (reported, not failed)", report["unaudited"]),
                ("Review out of date (reported, not failed)", report["stale_reviews"]),
                (f"Problems in {Path(report['reviewed_file']).name}", report["review_file_problems"]),
                ("Notes", report["notes"])]
    for title, lines in sections:
        if lines:
            print(f"\n{title}:")
            for line in lines:
                print(f"  {line}")
    reviewed = [p for p in report["pins"] if p["status"] == "reviewed"]
    if reviewed:
        print("\nReviewed by hand (not the newest release, so the index gives no advisories for them):")
        for pin in reviewed:
            r = pin["review"]
            print(f"  {pin['name']} {pin['version']} (newest {pin['newest'] or '?'}): reviewed {r['reviewed']}"
                  f" against {r['source']}: {r['why']}")
    print()
    print(report["verdict"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock", help="the pins (pip freeze format)")
    parser.add_argument("--reviewed", type=Path, default=ROOT / ".ci" / "audit-reviewed.toml",
                        help="pins reviewed by hand that cannot be audited from here")
    parser.add_argument("--index-url", default=DEFAULT_INDEX, help="PyPI's JSON API base (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable report instead")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per request (default %(default)s)")
    args = parser.parse_args(argv)
    index = args.index_url.rstrip("/")

    try:
        pins, odd = read_lock(args.lock)
    except OSError as exc:
        print(f"FAILED: cannot read {args.lock}: {exc}", file=sys.stderr)
        return 1
    reviewed, review_problems = read_reviewed(args.reviewed)

    with concurrent.futures.ThreadPoolExecutor(max_workers=THREADS) as pool:
        found = list(pool.map(lambda pin: audit_pin(index, pin[0], pin[1], pin[2], args.timeout), pins))

    report = build_report(found, odd, reviewed, review_problems, args.lock, args.reviewed, index)
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=str)
        print()
    else:
        print_text(report)
    return report["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
