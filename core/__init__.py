"""qinqing core: cases and accountability, the plugin contract, identity and the data layer."""

import os

os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
