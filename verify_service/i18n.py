"""Wording shown to consumers and returned in verdict reasons, in Chinese and English."""

from __future__ import annotations

import functools
from typing import Any

from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

LANGUAGES = ("zh", "en")

REASONS: dict[str, dict[str, str]] = {
    "genuine": {
        "zh": "标签签名有效，由发证机构签发于 {issued}。",
        "en": "The label's signature is valid; it was issued on {issued}.",
    },
    "certificate_valid": {
        "zh": "证书 {number} 有效，有效期至 {valid_to}。",
        "en": "Certificate {number} is valid until {valid_to}.",
    },
    "certificate_valid_long_term": {
        "zh": "登记证书 {number} 长期有效。",
        "en": "Registration {number} is valid (long-term).",
    },
    "certificate_expired": {
        "zh": "该产品的证书 {number} 已于 {valid_to} 到期，不得继续使用标志。",
        "en": "The product's certificate {number} expired on {valid_to}; the mark may no longer be used.",
    },
    "certificate_suspended": {
        "zh": "该产品的证书 {number} 已被暂停（{since}）：{reason}",
        "en": "The product's certificate {number} is suspended (since {since}): {reason}",
    },
    "certificate_revoked": {
        "zh": "该产品的证书 {number} 已被撤销（{since}）：{reason}",
        "en": "The product's certificate {number} was revoked ({since}): {reason}",
    },
    "certificate_cancelled": {
        "zh": "该产品的证书 {number} 已注销（{since}）。",
        "en": "The product's certificate {number} was cancelled ({since}).",
    },
    "label_voided": {
        "zh": "此标签已于 {at} 作废：{reason}",
        "en": "This label was voided on {at}: {reason}",
    },
    "batch_voided": {
        "zh": "此标签所属批次已于 {at} 作废：{reason}",
        "en": "The batch this label belongs to was voided on {at}: {reason}",
    },
    "bad_signature": {
        "zh": "标签签名无效：此码不是发证机构签发的。",
        "en": "The signature is invalid: this code was not issued by the certifying centre.",
    },
    "unknown_key": {
        "zh": "此码使用了未知的签名密钥，不是发证机构签发的。",
        "en": "The code names an unknown signing key; it was not issued by the certifying centre.",
    },
    "never_issued": {
        "zh": "编号 {serial} 从未被签发。",
        "en": "Serial {serial} was never issued.",
    },
    "revoked_key": {
        "zh": "此码的签名密钥已于 {at} 被吊销，且没有在吊销前签发的批次包含此编号。",
        "en": "The code's signing key was revoked on {at}, and no batch issued before then holds this serial.",
    },
    "key_mismatch": {
        "zh": "此码的签名密钥与其批次不符。",
        "en": "The code's signing key does not match its batch.",
    },
    "malformed": {
        "zh": "这不是本系统的标签码：{detail}",
        "en": "This is not a label code of this system: {detail}",
    },
}


def message(code: str, lang: str, **params: Any) -> str:
    texts = REASONS[code]
    text = texts.get(lang) or texts["zh"]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


def negotiate(requested: str | None, accept_language: Any) -> str:
    """``?lang=`` first, then the Accept-Language header; Chinese by default."""
    if requested:
        r = requested.lower()
        if r.startswith("en"):
            return "en"
        if r.startswith("zh"):
            return "zh"
    best = accept_language.best_match(["zh", "zh-CN", "en", "en-US", "en-GB"]) if accept_language else None
    if best and best.startswith("en"):
        return "en"
    return "zh"


@functools.lru_cache(maxsize=512)  # runs on every scan; few distinct headers
def negotiate_header(requested: str | None, accept_language: str | None) -> str:
    """:func:`negotiate` from the raw ``Accept-Language`` header."""
    return negotiate(requested, parse_accept_header(accept_language, LanguageAccept) if accept_language else None)


PAGE: dict[str, dict[str, str]] = {
    "title": {"zh": "标签查询结果", "en": "Label check"},
    "verdict.authentic": {"zh": "正品标签", "en": "Genuine label"},
    "verdict.certificate_invalid": {"zh": "证书无效", "en": "Certificate not valid"},
    "verdict.label_void": {"zh": "标签已作废", "en": "Label voided"},
    "verdict.suspected_clone": {"zh": "疑似复制标签", "en": "Possibly copied label"},
    "verdict.counterfeit": {"zh": "假冒标签", "en": "Counterfeit label"},
    "verdict.malformed": {"zh": "无法识别", "en": "Not recognised"},
    "sentence.authentic": {
        "zh": "此标签由发证机构签发，产品证书今日有效。",
        "en": "This label was issued by the certifying centre and the product's certificate is valid today."},
    "sentence.certificate_invalid": {
        "zh": "标签是真的，但该产品的证书目前{status}，不能作为认证产品销售。",
        "en": "The label is genuine, but the product's certificate is {status}: it may not be sold as certified."},
    "sentence.label_void": {
        "zh": "此标签已被作废，不应出现在任何商品上。",
        "en": "This label has been voided and should not be on any product."},
    "sentence.suspected_clone": {
        "zh": "此标签的查询记录异常，可能已被复制。请谨慎购买，并向我们报告。",
        "en": "This label's scan history is unusual: it may have been copied. Buy with care and report it."},
    "sentence.counterfeit": {
        "zh": "此码不是发证机构签发的。请勿购买，并向市场监管部门举报。",
        "en": "This code was not issued by the certifying centre. Do not buy it; report it to market regulators."},
    "sentence.malformed": {
        "zh": "这不是本系统的标签码。请确认扫描的是产品上的防伪标签。",
        "en": "This is not a label code of this system. Check that you scanned the product's anti-counterfeit label."},
    "next.counterfeit": {
        "zh": "保留商品和购物凭证，拨打 12315 或在下方提交举报。",
        "en": "Keep the product and receipt, call 12315 (market regulation hotline) or report it below."},
    "next.suspected_clone": {
        "zh": "如果您刚买到此商品而标签是复印的或与商品不符，请在下方举报。",
        "en": "If you have just bought this product and the label looks photocopied or does not match it, report it below."},
    "next.label_void": {
        "zh": "作废的标签可能被盗用。请在下方举报购买地点。",
        "en": "A voided label may have been stolen. Report where you bought the product below."},
    "next.certificate_invalid": {
        "zh": "继续使用过期或被撤销证书的标志属于违规行为，可在下方举报。",
        "en": "Using the mark after the certificate lapsed is not allowed; you can report it below."},
    "product": {"zh": "产品", "en": "Product"},
    "trademark": {"zh": "商标", "en": "Trademark"},
    "enterprise": {"zh": "生产企业", "en": "Producer"},
    "credit_code": {"zh": "统一社会信用代码", "en": "Credit code"},
    "gf_code": {"zh": "企业信息码", "en": "Enterprise code"},
    "programme": {"zh": "认证类别", "en": "Programme"},
    "certificate": {"zh": "证书编号", "en": "Certificate"},
    "status": {"zh": "证书状态", "en": "Certificate status"},
    "validity": {"zh": "有效期", "en": "Valid"},
    "long_term": {"zh": "长期", "en": "long-term"},
    "serial": {"zh": "标签编号", "en": "Label serial"},
    "scans": {"zh": "此标签已被查询 {count} 次，首次查询于 {first}。",
              "en": "This label has been checked {count} times, first on {first}."},
    "scans.first": {"zh": "这是此标签的首次查询。", "en": "This is the first check of this label."},
    "reasons": {"zh": "判定依据", "en": "Why"},
    "report": {"zh": "发现问题？举报假冒", "en": "Something wrong? Report a fake"},
    "hotline": {"zh": "市场监管投诉举报电话：12315", "en": "Market regulation hotline: 12315"},
    "mark_sentence": {"zh": "经中国绿色食品发展中心许可使用绿色食品标志", "en": "Green Food mark used under licence of the China Green Food Development Center"},
    "other_lang": {"zh": "English", "en": "中文"},
    "status.valid": {"zh": "有效", "en": "valid"},
    "status.suspended": {"zh": "暂停", "en": "suspended"},
    "status.revoked": {"zh": "已撤销", "en": "revoked"},
    "status.expired": {"zh": "已过期", "en": "expired"},
    "status.cancelled": {"zh": "已注销", "en": "cancelled"},
    "programme.green_food": {"zh": "绿色食品", "en": "Green Food"},
    "programme.organic": {"zh": "有机产品", "en": "Organic"},
    "programme.gi": {"zh": "农产品地理标志", "en": "Agricultural Geographical Indication"},
}


def page_text(lang: str) -> dict[str, str]:
    return {key: texts.get(lang) or texts["zh"] for key, texts in PAGE.items()}


REASONS.update({
    "many_parties": {
        "zh": "{window_hours:g} 小时内有 {parties} 个不同的网络或设备查询过此标签（{first_at} 至 {last_at}）；正品标签通常只由买家查询。",
        "en": "{parties} different networks or devices checked this label within {window_hours:g} hours "
              "({first_at} – {last_at}); a genuine label is normally checked only by its buyer.",
    },
    "implausible_travel": {
        "zh": "此标签在 {from_at} 和 {to_at} 先后于相距约 {km} 公里的两地被查询（约 {kmh} 公里/小时），同一张标签不可能这样移动。",
        "en": "This label was checked at {from_at} and {to_at} about {km} km apart (about {kmh} km/h): one label cannot travel like that.",
    },
    "out_of_region": {
        "zh": "此批标签的销售区域是 {sales_region}，却在 {scanned_in} 被查询。",
        "en": "This batch is sold in region {sales_region} but was checked in {scanned_in}.",
    },
    "pin_reused": {
        "zh": "此标签的刮码已被使用 {uses} 次，首次使用于 {first_used_at}。",
        "en": "This label's scratch-off PIN has been used {uses} times, first on {first_used_at}.",
    },
    "past_shelf_life": {
        "zh": "此批标签签发于 {issued_at}，已超过保质期 {shelf_life_days} 天（另加 {grace_days} 天宽限）。",
        "en": "This batch was issued on {issued_at}; its {shelf_life_days}-day shelf life (plus {grace_days} days' grace) has passed.",
    },
    "before_release": {
        "zh": "此批产品计划于 {release_date} 上市，此前不应被查询。",
        "en": "This batch is to be released on {release_date}; it should not be checked before then.",
    },
    "alert_open": {
        "zh": "此标签的查询记录异常，已提交监管部门核查（预警编号 {alert_id}）。",
        "en": "This label's scan history is being checked by market regulators (alert {alert_id}).",
    },
})


def _local(iso: Any) -> Any:
    """An ISO time as China local time for people (evidence itself stays in UTC ISO form)."""
    import datetime as dt

    if not isinstance(iso, str):
        return iso
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    china = dt.timezone(dt.timedelta(hours=8))
    return moment.astimezone(china).strftime("%Y-%m-%d %H:%M") if moment.tzinfo else iso


def signal_message(code: str, lang: str, evidence: dict[str, Any]) -> str:
    params = {k: _local(v) if k.endswith("_at") else v for k, v in evidence.items()}
    if code == "implausible_travel":
        params.update(from_at=_local(evidence["from"]["at"]), to_at=_local(evidence["to"]["at"]))
    if code == "out_of_region":
        params["scanned_in"] = "、".join(evidence["scanned_in"]) if lang == "zh" else ", ".join(evidence["scanned_in"])
    return message(code, lang, **params)


PAGE.update({
    "pin.title": {"zh": "刮码查询", "en": "Check with the scratch-off PIN"},
    "pin.hint": {"zh": "刮开标签上的涂层，输入标签编号和验证码。", "en": "Scratch the label's coating and enter its serial and PIN."},
    "pin.serial": {"zh": "标签编号", "en": "Label serial"},
    "pin.pin": {"zh": "刮码（数字）", "en": "PIN (digits)"},
    "pin.submit": {"zh": "查询", "en": "Check"},
    "pin.first_use": {"zh": "验证码正确，这是此验证码的首次使用。", "en": "Correct PIN: this is its first use."},
    "pin.already_used": {"zh": "验证码正确，但它已于 {first} 被使用过（共 {uses} 次）。如果您刚拆开包装，请谨防假冒。",
                         "en": "Correct PIN, but it was already used on {first} ({uses} uses in all). If you have just opened the product, beware of fakes."},
    "pin.wrong": {"zh": "验证码不正确。还可尝试 {left} 次。", "en": "Wrong PIN. {left} attempt(s) left."},
    "pin.invalid": {"zh": "请输入数字标签编号和 4–12 位数字验证码。", "en": "Enter the numeric serial and a 4–12 digit PIN."},
    "report.title": {"zh": "举报假冒或可疑商品", "en": "Report a fake or suspicious product"},
    "report.text": {"zh": "情况说明（购买地点、商品、疑点）", "en": "What happened (where you bought it, the product, what looks wrong)"},
    "report.contact": {"zh": "联系方式（选填）", "en": "Contact (optional)"},
    "report.photo": {"zh": "照片（选填，JPEG/PNG，2 MB 以内）", "en": "Photo (optional, JPEG/PNG, up to 2 MB)"},
    "report.province": {"zh": "购买地（省份，选填）", "en": "Where you bought it (province, optional)"},
    "report.submit": {"zh": "提交举报", "en": "Send report"},
    "report.done": {"zh": "举报已收到，编号 {id}。监管部门将核查处理，谢谢！", "en": "Report received, number {id}. Market regulators will look into it. Thank you!"},
    "report.failed": {"zh": "举报未能提交：", "en": "The report was not sent: "},
    "region.prompt": {"zh": "愿意告诉我们您所在的省份吗？这有助于发现被复制的标签（选填）。",
                      "en": "Tell us your province? It helps us spot copied labels (optional)."},
    "region.submit": {"zh": "提交", "en": "Send"},
    "region.thanks": {"zh": "谢谢，已记录您所在的省份。", "en": "Thank you, your province was recorded."},
    "choose": {"zh": "请选择", "en": "Choose"},
    "back": {"zh": "返回", "en": "Back"},
})


PAGE.update({
    "home.title": {"zh": "绿色食品、有机产品、农产品地理标志 防伪标签查询", "en": "Certified agri-product label check"},
    "home.scan": {"zh": "用手机相机扫描产品标签上的二维码，即可查看标签真伪和产品证书今日是否有效。",
                  "en": "Scan the QR code on the product's label with your phone camera to see whether the label is genuine "
                        "and the product's certificate is valid today."},
    "home.pin": {"zh": "没有二维码可扫？输入标签编号和刮码查询", "en": "Cannot scan? Check with the serial and scratch-off PIN"},
    "home.keys": {"zh": "发证机构公钥（离线核验用）", "en": "The issuer's public keys (for offline checks)"},
    "home.api": {"zh": "接口说明（OpenAPI）", "en": "API description (OpenAPI)"},
})
