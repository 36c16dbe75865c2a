import os

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=["core.tables", "core.cases.tables", "core.cases.redispatch_tables",
                                        "core.storage_tables"], exclude_imported=True),
    migration_dependencies=["tenants.piccolo_app"],
    commands=[],
)
