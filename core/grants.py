"""What the application role may do to each table outside row-level security, and why.

Tenant tables (row-level security) get SELECT, INSERT, UPDATE and DELETE, bounded by the policy.
The tables below hold no tenant's rows under a policy, so their privileges are the narrowest the
code needs: each entry says which statements the application runs on it.  The README lists them
(section "Tables without row-level security"); a test checks that every table outside row-level
security has an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    privileges: tuple[str, ...]  # table-wide: SELECT, INSERT, UPDATE, DELETE
    reason: str
    select_except: tuple[str, ...] = ()  # SELECT on every column but these
    update_only: tuple[str, ...] = ()  # UPDATE on these columns only


GLOBAL_TABLES: dict[str, Grant] = {
    "tenant": Grant(("SELECT", "INSERT", "UPDATE"),
                    "the registry itself: resolved from the URL before any tenant is in scope; created and "
                    "changed by onboarding, the console and import; never deleted"),
    "app_user": Grant(("INSERT",), "users are global (one person may serve several tenants; what they may "
                      "do is in per-tenant memberships); the password hash is not readable, only one user's at a "
                      "time through app_user_password_hash(username); never deleted",
                      select_except=("password_hash",),
                      update_only=("display_name", "email", "locale", "active", "failed_logins", "locked_until",
                                   "is_system_admin")),
    "login_throttle": Grant(("SELECT", "INSERT", "UPDATE", "DELETE"),
                            "failed logins per username, known or not: counted before any tenant is known"),
    "system_session": Grant(("SELECT", "INSERT", "DELETE"),
                            "the system console's sessions, outside every tenant (a key hash and a user id); "
                            "never changed, only ended"),
    "onboarding_job": Grant(("SELECT", "INSERT", "UPDATE"),
                            "the console's onboarding of a tenant that does not exist yet"),
    "tenant_link": Grant(("SELECT", "INSERT", "UPDATE"),
                         "links between tenants (a court and the districts it serves): each side's declaration "
                         "names the other by slug; read before either tenant is in scope; ended, never deleted"),
    "outbox_message": Grant(("SELECT", "INSERT", "UPDATE", "DELETE"),
                            "ids and routing (and a referral's chosen files); written in each change's "
                            "transaction and relayed across tenants; deleted a week after it was sent"),
    "processed_message": Grant(("SELECT", "INSERT"), "message ids an actor has applied: written once, read to "
                               "skip a redelivery"),
    "failed_message": Grant(("SELECT", "INSERT", "DELETE"), "messages that failed for good, shown and retried "
                            "(then removed) from the console"),
    "scheduler_run": Grant(("SELECT", "INSERT", "UPDATE"), "one row per job and time slot, across tenants"),
    "calendar_year": Grant(("SELECT", "INSERT", "DELETE"), "the national workday calendar, shared by every "
                           "tenant; replaced a year at a time"),
    "calendar_override": Grant(("SELECT", "INSERT", "DELETE"), "the holidays and adjusted workdays of those years"),
}

TENANT_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_statements(table: str, columns: list[str], grant: Grant, role: str) -> list[str]:
    """The GRANTs giving `role` what `grant` says on `table` (whose columns are `columns`)."""
    statements = []
    if grant.privileges:
        statements.append(f"GRANT {', '.join(grant.privileges)} ON {quoted(table)} TO {role}")
    if grant.select_except:
        readable = ", ".join(quoted(c) for c in columns if c not in grant.select_except)
        statements.append(f"GRANT SELECT ({readable}) ON {quoted(table)} TO {role}")
    if grant.update_only:
        statements.append(f"GRANT UPDATE ({', '.join(quoted(c) for c in grant.update_only)}) ON {quoted(table)} "
                          f"TO {role}")
    return statements
