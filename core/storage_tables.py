"""The database file store's table (数据库文件存储): a file as numbered chunks of one tenant."""

from piccolo.columns import Bytea, Integer, Serial, Varchar
from piccolo.table import Table

from core.tables import tenant_fk


class FileChunk(Table, tablename="file_chunk"):
    """One chunk (at most `core.storage.CHUNK_BYTES`) of a stored file; chunk 0 always exists, so an
    empty file is one empty chunk.  Unique on (tenant, key, seq); row-level security like every
    tenant table."""

    id: Serial
    tenant_id = tenant_fk()
    key = Varchar(length=100)
    seq = Integer()
    data = Bytea()
