"""The tenant registry (租户): districts (区) and townships (镇/街道)."""

from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Tenant(Table, tablename="tenant"):
    """A district or township using the platform. Not tenant-owned: it is the registry itself."""

    slug = Varchar(length=63, unique=True, index=True)
    name_zh = Varchar(length=200)
    name_en = Varchar(length=200)
    kind = Varchar(length=20)  # "district" | "township"
    parent = ForeignKey(references="self", null=True)
    plugins = Text(default="[]")  # JSON list of enabled plugin names
    settings = Text(default="{}")  # JSON object of tenant settings
    hosts = Text(default="[]")  # JSON list of extra host names resolving to this tenant
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
