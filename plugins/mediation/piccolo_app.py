import os

from piccolo.conf.apps import AppConfig

from plugins.mediation.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="mediation",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
