"""The `qinqing` command: the composition root above every app (命令行).

Each app contributes its own commands, as a module here with a `register(subparsers)`:
``core_commands`` (migrate, audit, user), ``calendar_commands`` (calendar), ``tenant_commands``
(demo, tenant), ``web_commands`` (serve) and ``worker_commands`` (worker, scheduler).  Only this
package may import every layer at once; nothing imports it.
"""
