from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from verify_service.db import session
from verify_service.models import ApiToken


def create_token(**fields: object) -> ApiToken:
    token = ApiToken(**fields)
    session().add(token)
    session().flush()
    return token


def find_token_by_hash(token_hash: str) -> ApiToken | None:
    return session().scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))


def find_token(token_id: int) -> ApiToken | None:
    return session().get(ApiToken, token_id)


def list_tokens() -> list[ApiToken]:
    return list(session().scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(token: ApiToken, at: dt.datetime) -> None:
    token.revoked_at = at
    session().flush()
