import os

from piccolo.conf.apps import AppConfig

from plugins.cadre.tables import Application, Cadre, Campaign, Evaluator, Objection, Publicity, Score, Sheet

APP_CONFIG = AppConfig(
    app_name="cadre",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Cadre, Campaign, Evaluator, Sheet, Score, Application, Publicity, Objection],
    migration_dependencies=["core.piccolo_app", "core.inspections.piccolo_app"],
    commands=[],
)
