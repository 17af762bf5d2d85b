"""Deterministic, realistic sample data for demonstrations and manual testing.

Names, codes and numbers follow the real formats (credit codes with valid check characters,
GB/T 2260 county codes, green food product numbers, GF codes) but the enterprises and
certificates are invented.  Dates are laid out around today's date so that the sample always
holds valid, expiring-soon, expired, suspended, revoked and cancelled certificates.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import label_gen
from flask import current_app

from verify_service import clock
from verify_service.data import labels as label_data
from verify_service.data import registry as registry_data
from verify_service.domain.identifiers import USCC_CHARS, make_uscc
from verify_service.domain.client import ClientInfo
from verify_service.schemas import (
    BatchOrderIn,
    CertificateIn,
    EnterpriseIn,
    GiAuthorisationIn,
    ReportChange,
    ReportIn,
    StatusChangeIn,
    VoidIn,
)
from verify_service.services import issuance, keys, registry, reports, verification

DEMO_ACTOR = ("demo", "admin")


@dataclass(frozen=True)
class County:
    code: str
    name: str
    province: str
    # the green food centre's own two-digit province number (not GB/T 2260; sample values)
    centre_province: str
    area_code: str
    poverty_exit: dt.date | None
    specialities: tuple[tuple[str, str, str], ...]  # (product, green food class, unit)


COUNTIES = (
    County("230184", "五常市", "黑龙江省", "23", "0451", None,
           (("五常大米", "03", "吨"), ("稻花香大米", "03", "吨"), ("鲜食玉米", "15", "吨"))),
    County("230882", "富锦市", "黑龙江省", "23", "0454", None,
           (("富锦大米", "03", "吨"), ("小麦粉", "02", "吨"), ("大白菜", "15", "吨"))),
    County("220581", "梅河口市", "吉林省", "22", "0435", None,
           (("梅河大米", "03", "吨"), ("鲜鸡蛋", "31", "万枚"))),
    County("370687", "海阳市", "山东省", "37", "0535", None,
           (("红富士苹果", "18", "吨"), ("海阳白黄瓜", "15", "吨"))),
    County("371083", "乳山市", "山东省", "37", "0631", None,
           (("乳山牡蛎", "36", "吨"), ("苹果", "18", "吨"))),
    County("321084", "高邮市", "江苏省", "32", "0514", None,
           (("高邮鸭蛋", "31", "万枚"), ("大米", "03", "吨"), ("河蟹", "36", "吨"))),
    County("330127", "淳安县", "浙江省", "33", "0571", None,
           (("千岛湖有机鱼", "36", "吨"), ("鸠坑茶", "15", "吨"))),
    County("510182", "彭州市", "四川省", "51", "028", None,
           (("彭州莴笋", "15", "吨"), ("彭州大蒜", "15", "吨"))),
    County("430181", "浏阳市", "湖南省", "43", "0731", None,
           (("黑山羊肉", "25", "吨"), ("蒸菜用腊肉", "25", "吨"))),
    County("522632", "榕江县", "贵州省", "52", "0855", dt.date(2020, 11, 23),
           (("榕江西瓜", "18", "吨"), ("榕江小香鸡蛋", "31", "万枚"))),
    County("522633", "从江县", "贵州省", "52", "0855", dt.date(2020, 11, 23),
           (("从江香猪", "25", "吨"), ("从江椪柑", "18", "吨"))),
    County("640181", "灵武市", "宁夏回族自治区", "64", "0951", None,
           (("灵武长枣", "18", "吨"), ("设施番茄", "15", "吨"))),
    County("640324", "同心县", "宁夏回族自治区", "64", "0953", dt.date(2020, 11, 16),
           (("同心圆枣", "18", "吨"), ("滩羊肉", "25", "吨"))),
    County("621126", "岷县", "甘肃省", "62", "0932", dt.date(2020, 11, 21),
           (("岷县当归", "15", "吨"), ("马铃薯", "15", "吨"))),
    County("532801", "景洪市", "云南省", "53", "0691", None,
           (("普洱茶", "15", "吨"), ("香蕉", "18", "吨"))),
    County("652801", "库尔勒市", "新疆维吾尔自治区", "65", "0996", None,
           (("库尔勒香梨", "18", "吨"), ("红枣", "18", "吨"))),
)

NAME_PARTS = ("丰源", "绿野", "金穗", "禾润", "农丰", "康源", "田园", "福润", "沃土", "润禾", "青山",
              "瑞丰", "鑫农", "盛源", "嘉禾", "天润", "鸿运", "兴农", "宏达", "碧水")
COMPANY_KINDS = ("农业发展有限公司", "食品有限公司", "米业有限公司", "生态农业有限公司", "农产品有限公司")
COOP_KINDS = ("种植专业合作社", "果蔬专业合作社", "养殖专业合作社")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗"
GIVEN = ("建国", "秀英", "丽华", "志强", "海燕", "伟", "芳", "军", "敏", "静", "磊", "洋", "勇", "艳", "杰")
ORGANIC_BODIES = ("110", "243", "025")
ORGANIC_ISSUERS = {"110": "中绿华夏有机产品认证中心", "243": "南京国环有机产品认证中心", "025": "杭州万泰认证有限公司"}
GF_ISSUER = "中国绿色食品发展中心"
GI_ISSUER = "农业农村部"

# How the sample certificates' statuses are laid out (counts per programme are in seed()).
STATUS_PLAN = ("valid",) * 11 + ("expiring",) * 3 + ("expired",) * 3 + ("suspended",) * 2 + ("revoked", "cancelled")


def _org8(rng: random.Random) -> str:
    # Organisation code bodies avoid the letters a credit code cannot hold.
    return "".join(rng.choice(USCC_CHARS[:10] * 3 + USCC_CHARS[10:]) for _ in range(8))


def seed(seed_value: int = 20211, enterprises_per_county: int = 5) -> dict[str, Any]:
    """Insert the sample registry.  Refuses to run twice (the second run changes nothing)."""
    if registry_data.count_enterprises() > 0:
        return {"seeded": False, "reason": "the registry already holds enterprises"}
    rng = random.Random(seed_value)
    today = clock.today()
    signing = _ensure_signing_key()
    samples: dict[str, Any] = {}
    actor, role = DEMO_ACTOR
    enterprise_uscc: list[tuple[County, str, bool]] = []
    gf_serial = 40
    for county in COUNTIES:
        for i in range(enterprises_per_county):
            coop = i % 3 == 2
            name = county.name + rng.choice(NAME_PARTS) + (rng.choice(COOP_KINDS) if coop else rng.choice(COMPANY_KINDS))
            while registry_data.find_enterprise_by_uscc(uscc := make_uscc("3" if coop else "1", county.code, _org8(rng))):
                pass
            gf_serial += rng.randint(1, 9)
            has_gf = i % 5 != 4
            body = EnterpriseIn(
                uscc=uscc, name=name, county_code=county.code,
                gf_code=f"GF{county.code}{rng.randint(15, 24):02d}{gf_serial:04d}" if has_gf else None,
                address=f"{county.province}{county.name}{rng.choice(('城关镇', '工业园区', '农业示范园', '新华路'))}{rng.randint(1, 300)}号",
                contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                contact_phone=f"{county.area_code}-{rng.randint(2000000, 8999999)}",
                poverty_exit_date=county.poverty_exit,
            )
            if registry_data.find_enterprise_by_gf_code(body.gf_code or "") is not None:
                body = body.model_copy(update={"gf_code": None})
            registry.register_enterprise(body, actor, role)
            enterprise_uscc.append((county, uscc, has_gf))

    certificates: list[str] = []
    plan_index = 0
    lb_serial = 1000
    organic_serial = 100
    for county, uscc, has_gf in enterprise_uscc:
        programmes = ["green_food"] if has_gf else []
        if rng.random() < 0.45:
            programmes.append("organic")
        if not programmes:
            programmes = ["organic"]
        for programme in programmes:
            state = STATUS_PLAN[plan_index % len(STATUS_PLAN)]
            plan_index += 1
            years = 3 if programme == "green_food" else 1
            valid_to = _valid_to_for(state, today, rng)
            valid_from = valid_to.replace(year=valid_to.year - years) + dt.timedelta(days=1)
            product, cls, unit = rng.choice(county.specialities)
            if programme == "green_food":
                lb_serial += rng.randint(1, 40)
                grade = "AA" if rng.random() < 0.1 else "A"
                number = f"LB-{cls}-{valid_from:%y%m}{county.centre_province}{lb_serial:05d}{grade}"
                issuer = GF_ISSUER
            else:
                body_code = rng.choice(ORGANIC_BODIES)
                organic_serial += rng.randint(1, 30)
                number = f"{body_code}OP{valid_from:%y}{organic_serial:05d}"
                issuer = ORGANIC_ISSUERS[body_code]
                product = "有机" + product.removeprefix("有机").removeprefix(county.name[:2])
            products = [{"name": product, "product_class": cls, "trademark": rng.choice(NAME_PARTS) + "牌",
                         "approved_output": rng.choice((50, 120, 300, 800, 1500, 3000)), "output_unit": unit}]
            if rng.random() < 0.3:
                other, ocls, ounit = rng.choice(county.specialities)
                if other != product:
                    products.append({"name": other, "product_class": ocls, "approved_output": 100, "output_unit": ounit})
            registry.issue_certificate(CertificateIn.model_validate({
                "number": number, "programme": programme, "enterprise_uscc": uscc,
                "valid_from": valid_from.isoformat(), "valid_to": valid_to.isoformat(),
                "issuer": issuer, "products": products,
            }), actor, role)
            if signing and state in SAMPLE_BATCH_STATES and samples.setdefault(state, None) is None:
                samples[state] = _sample_batch(number, state)
            _apply_state(number, state)
            certificates.append(number)

    # One GI registration per county, held by a local association, with authorised users.
    gi_serial = 1400
    for county in COUNTIES:
        gi_serial += rng.randint(3, 60)
        holder = make_uscc("1", county.code, _org8(rng))
        product = county.specialities[0][0]
        registry.register_enterprise(EnterpriseIn(
            uscc=holder, name=f"{county.name}{product}产业协会", county_code=county.code,
            contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            contact_phone=f"{county.area_code}-{rng.randint(2000000, 8999999)}",
            poverty_exit_date=county.poverty_exit,
        ), actor, role)
        number = f"AGI{gi_serial:05d}"
        registry.issue_certificate(CertificateIn.model_validate({
            "number": number, "programme": "gi", "enterprise_uscc": holder,
            "valid_from": dt.date(2008 + rng.randint(0, 12), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
            "issuer": GI_ISSUER, "products": [{"name": product, "product_class": county.specialities[0][1]}],
        }), actor, role)
        if county.code == "640181":
            _change(number, "cancelled", "登记证书持有人申请注销")
        for _c, uscc, _gf in [e for e in enterprise_uscc if e[0] is county][:3]:
            registry.add_gi_authorisation(number, GiAuthorisationIn(
                enterprise_uscc=uscc, year=today.year, quantity=rng.choice((100, 500, 2000)), unit="吨",
                scope=f"{county.name}行政区域内生产的{product}",
            ), actor, role)
        certificates.append(number)
    return {"seeded": True, "enterprises": len(enterprise_uscc) + len(COUNTIES), "certificates": len(certificates),
            "signing": signing}


#: Certificate states that get a small sample batch before their status is applied.
SAMPLE_BATCH_STATES = ("valid", "suspended", "revoked")


def _ensure_signing_key() -> bool:
    """Create a signing key when there is none and a passphrase is configured."""
    if keys.records():
        return True
    if not current_app.config["LABEL_KEY_PASSPHRASE"]:
        return False
    keys.create_key(*DEMO_ACTOR)
    return True


def _sample_batch(number: str, state: str) -> int:
    cert = registry_data.find_certificate(number)
    assert cert is not None
    batch, _ = issuance.order_batch(cert.enterprise_id, BatchOrderIn(
        certificate_number=number, product_id=cert.products[0].id, quantity=20, label_format="round25"),
        DEMO_ACTOR[0], idempotency_key=f"demo-{state}")
    if state == "valid":  # one label of the valid batch is voided, as if from a stolen roll
        issuance.void_label(batch["last_serial"], VoidIn(reason="演示：此卷标签失窃"), *DEMO_ACTOR)
        _sample_clone(batch["first_serial"] + 2, batch["key_id"])
    return int(batch["id"])


def _sample_clone(serial: int, key_id: str) -> None:
    """A photocopied label: scanned from six networks in a day, then reported by a consumer."""
    ring = keys.signing_ring()
    code = ring.signer_for(int(key_id)).sign(serial)
    for i, (network, agent) in enumerate((("223.104.3.0/24", "wechat"), ("117.136.8.0/24", "wechat"),
                                          ("36.112.5.0/24", "alipay"), ("183.192.7.0/24", "ios"),
                                          ("120.244.2.0/24", "android"), ("111.30.9.0/24", "wechat"))):
        verification.verify_code(code, "page", ClientInfo(network=network, user_agent=agent,
                                                          region="31" if i % 2 else "32"), record=True)
    report = reports.create_report(ReportIn(serial=serial, text="演示：超市散装大米上贴着同一编号的标签，疑似复印",
                                            region="3101"), None, ClientInfo(network="223.104.3.0/24"))
    reports.change_report(report["id"], ReportChange(status="investigating", note="演示：已转辖区执法大队"),
                          "demo", "regulator")


def sample_urls() -> dict[str, str]:
    """One label URL per verdict the sample data can show (for the demo's welcome text)."""
    urls: dict[str, str] = {}
    ring = keys.signing_ring()
    base = current_app.config["LABEL_BASE_URL"]
    for state, verdict in (("valid", "authentic"), ("suspended", "certificate_invalid"),
                           ("revoked", "certificate_invalid (revoked)")):
        batch = label_data.find_batch_by_idempotency_key_any(f"demo-{state}")
        if batch is None:
            continue
        signer = ring.signer_for(batch.key_id)
        urls[verdict] = label_gen.label_url(base, signer.sign(batch.first_serial))
        if state == "valid":
            urls["label_void"] = label_gen.label_url(base, signer.sign(batch.last_serial))
            urls["suspected_clone"] = label_gen.label_url(base, signer.sign(batch.first_serial + 2))
            genuine = signer.sign(batch.first_serial + 1)
            forged = genuine[:-3] + f"{(int(genuine[-3:]) + 1) % 1000:03d}"
            urls["counterfeit"] = label_gen.label_url(base, forged)
    return urls


def _valid_to_for(state: str, today: dt.date, rng: random.Random) -> dt.date:
    if state == "expiring":
        return today + dt.timedelta(days=rng.randint(5, 60))
    if state == "expired":
        return today - dt.timedelta(days=rng.randint(10, 400))
    return today + dt.timedelta(days=rng.randint(90, 330))


def _apply_state(number: str, state: str) -> None:
    if state == "suspended":
        _change(number, "suspended", "年检不合格，责令限期整改")
    elif state == "revoked":
        _change(number, "revoked", "抽检不合格，取消标志使用权")
    elif state == "cancelled":
        _change(number, "cancelled", "企业申请注销")


def _change(number: str, status: str, reason: str) -> None:
    registry.change_status(number, StatusChangeIn(status=status, reason=reason), *DEMO_ACTOR)


def demo_token_owners() -> list[tuple[str, str | None]]:
    """The (role, enterprise credit code) pairs demo tokens are made for."""
    owners: list[tuple[str, str | None]] = [("admin", None), ("regulator", None)]
    batch = label_data.find_batch_by_idempotency_key_any("demo-valid")
    if batch is not None:
        owners.append(("enterprise", batch.enterprise.uscc))
    else:
        first = registry_data.list_certificates(programme="green_food", limit=1)
        if first:
            owners.append(("enterprise", first[0].enterprise.uscc))
    return owners
