from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest

from tests.service.factories import certificate_body, enterprise_body


@dataclass
class Holder:
    uscc: str
    headers: dict[str, str]
    certificate: dict[str, Any]

    @property
    def number(self) -> str:
        return str(self.certificate["number"])

    @property
    def product_id(self) -> int:
        return int(self.certificate["products"][0]["id"])


@pytest.fixture
def signing_key(run: Callable[..., Any]) -> Any:
    from verify_service.services import keys

    return run(keys.create_key, "test", "admin")


@pytest.fixture
def make_holder(client: Any, admin_headers: dict[str, str], make_token: Callable[..., str],
                signing_key: Any) -> Callable[..., Holder]:
    """An enterprise with a certificate and an enterprise token."""

    def _make(**cert: Any) -> Holder:
        ent = enterprise_body()
        assert client.post("/api/v1/admin/enterprises", json=ent, headers=admin_headers).status_code == 201
        r = client.post("/api/v1/admin/certificates", json=certificate_body(ent["uscc"], **cert), headers=admin_headers)
        assert r.status_code == 201, r.json
        return Holder(ent["uscc"], {"Authorization": "Bearer " + make_token("enterprise", ent["uscc"])}, r.json)

    return _make


@pytest.fixture
def holder(make_holder: Callable[..., Holder]) -> Holder:
    return make_holder()


@pytest.fixture
def order(client: Any) -> Callable[..., Any]:
    def _order(h: Holder, quantity: int = 10, headers: dict[str, str] | None = None, **extra: Any) -> Any:
        body = {"certificate_number": h.number, "product_id": h.product_id, "quantity": quantity, **extra}
        return client.post("/api/v1/enterprise/label-batches", json=body, headers={**h.headers, **(headers or {})})

    return _order
