"""The plugin's Piccolo app: its table and migrations (returned by ``qinqing_piccolo_apps``)."""

import os

from piccolo.conf.apps import AppConfig

from qinqing_visits.tables import TABLES

APP_CONFIG = AppConfig(
    app_name="visits",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
