"""A user's API tokens (接口令牌) on the current tenant: listing and revoking them."""

from __future__ import annotations

from core.clock import now
from core.errors import UserError
from core.scope import scoped
from core.tables import ApiToken


async def tokens_of(user_id: int) -> list[dict]:
    """The user's tokens here, oldest first (never the secret, only its prefix)."""
    return await scoped(ApiToken).select(
        ApiToken.id, ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
    ).where(ApiToken.user == user_id).order_by(ApiToken.id)


async def revoke_token(user_id: int, token_id: int) -> None:
    """Revoke one of the user's tokens (404 for anyone else's); revoking twice changes nothing."""
    row = await scoped(ApiToken).objects().where((ApiToken.id == token_id) & (ApiToken.user == user_id)).first()
    if row is None:
        raise UserError(404, "Not found.")
    if row.revoked_at is None:
        row.revoked_at = now()
        await row.save([ApiToken.revoked_at])
