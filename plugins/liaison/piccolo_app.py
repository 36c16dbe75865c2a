import os

from piccolo.conf.apps import AppConfig

from plugins.liaison.tables import (
    Consultation,
    FollowUp,
    Message,
    Need,
    Pairing,
    PairingChange,
    Person,
    Salon,
    SalonSeat,
    VillageNeed,
    Visit,
)

APP_CONFIG = AppConfig(
    app_name="liaison",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Pairing, PairingChange, Person, Need, Visit, FollowUp, Salon, SalonSeat,
                   VillageNeed, Consultation, Message],
    migration_dependencies=["core.piccolo_app"],
    commands=[],
)
