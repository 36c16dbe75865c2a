from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.schema import indexes_step

ID = "2026-11-28T13:30:11:000000"
VERSION = "1.38.0"
DESCRIPTION = "cases: unique keys and lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="core", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "company": [("tenant_id", "credit_code")],
            "company_member": [("tenant_id", "company", "user")],
            "case_event": [("tenant_id", "seq")],
            "audit_head": [("tenant_id",)],
        },
        plain={
            "case_file": [("tenant_id", "status"), ("tenant_id", "department"), ("tenant_id", "due_date"),
                          ("tenant_id", "company"), ("tenant_id", "number"), ("tenant_id", "handler")],
            "case_event": [("tenant_id", "case")],
            "refusal": [("tenant_id", "case")],
            "sign_off": [("tenant_id", "refusal")],
            "review": [("tenant_id", "case")],
            "extension": [("tenant_id", "case")],
            "objection": [("tenant_id", "case")],
            "attachment": [("tenant_id", "case")],
            "company_member": [("tenant_id", "user")],
        },
    )
    return manager
