from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from core.sdk import indexes_step

ID = "2026-11-28T14:30:25:000000"
VERSION = "1.38.0"
DESCRIPTION = "mediation: unique keys (dispute number, one agreement per dispute, instalment sequence) and lookup indexes, tenant first"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="mediation", description=DESCRIPTION)
    indexes_step(
        manager,
        unique={
            "mediation_dispute": [("tenant_id", "number")],
            "mediation_agreement": [("tenant_id", "dispute")],
            "mediation_instalment": [("tenant_id", "dispute", "seq")],
        },
        plain={
            "mediation_dispute": [("tenant_id", "status"), ("tenant_id", "debtor"), ("tenant_id", "case"),
                                  ("tenant_id", "mediator")],
            "mediation_party": [("tenant_id", "dispute"), ("tenant_id", "user")],
            "mediation_measure": [("tenant_id", "dispute")],
            "mediation_session": [("tenant_id", "dispute")],
            "mediation_instalment": [("tenant_id", "status", "due_on")],
            "mediation_payment": [("tenant_id", "dispute")],
            "mediation_event": [("tenant_id", "dispute")],
        },
    )
    return manager
