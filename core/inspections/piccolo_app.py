"""The Piccolo app of the must-investigate rules (七必查) and inspections (纪检核查)."""

import os

from piccolo.conf.apps import AppConfig, table_finder

APP_CONFIG = AppConfig(
    app_name="inspections",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=table_finder(modules=["core.inspections.tables"], exclude_imported=True),
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
