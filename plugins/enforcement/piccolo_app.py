import os

from piccolo.conf.apps import AppConfig

from plugins.enforcement.tables import Finding, Inspection, JointInspection, ListItem

APP_CONFIG = AppConfig(
    app_name="enforcement",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[ListItem, JointInspection, Inspection, Finding],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
