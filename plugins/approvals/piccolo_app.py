import os

from piccolo.conf.apps import AppConfig

from plugins.approvals.tables import (
    Action,
    Bundle,
    BundleFiling,
    Event,
    Filing,
    Item,
    Material,
    Project,
    Shortfall,
    Stage,
)

APP_CONFIG = AppConfig(
    app_name="approvals",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Project, Stage, Item, Material, Bundle, BundleFiling, Filing, Shortfall, Action, Event],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
