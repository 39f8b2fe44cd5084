"""The calculator and matching forms ⇄ `EnterpriseProfile`: one entry per profile field with the unit the owner
types in (万元, 万美元, 年), parsed to exact yuan with `Decimal`. Bad input becomes a `FormError` naming the field."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from assistant.calculator import EnterpriseProfile
from assistant.money import parse_form_amount
from assistant.validation import describe_validation_error

# --------------------------------------------------------------------------------------------------
# Calculator form: one entry per EnterpriseProfile field, with the unit the owner types in
# --------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")

UNKNOWN = "unknown"
BOOL_CHOICES = [("是", "yes"), ("否", "no"), ("不确定", UNKNOWN)]
HQ_TYPE_CHOICES = [
    ("不确定/未填", UNKNOWN),
    ("区域总部", "regional_hq"),
    ("营销中心", "marketing_center"),
    ("结算中心", "settlement_center"),
    ("运营中心", "operations_center"),
    ("不属于新设立的总部类机构", "none"),
]
LEVEL_CHOICES = [("不确定/未填", UNKNOWN), ("国家级", "national"), ("市级", "municipal"), ("未获认定", "none")]

# field → (label shown on the form, kind). Kinds: wan (万元 amount), usd_wan (万美元), years, int_years,
# rate, wan_list (1–5 yearly 万元 figures), bool, hq, level.
FORM_FIELDS: dict[str, tuple[str, str]] = {
    "new_hq_type": ("在北碚区新设立的机构类型", "hq"),
    "registered_capital_yuan": ("注册资金（万元）", "wan"),
    "online_annual_sales_yuan": ("线上年销售收入（万元）", "wan"),
    "sales_in_statistics": ("线上销售数据是否入统", "bool"),
    "years_in_operation": ("正常经营年限（年）", "years"),
    "office_purchase_price_yuan": ("在区内购买办公用房总价（万元）", "wan"),
    "office_annual_rent_yuan": ("在区内租用办公用房年租金（万元）", "wan"),
    "rent_years": ("租用年限（整年）", "int_years"),
    "annual_local_contribution_yuan": ("各年度对北碚区地方经济发展贡献（万元/年）", "wan_list"),
    "demo_base_level": ("示范基地（园区）认定级别", "level"),
    "demo_enterprise_level": ("示范企业认定级别", "level"),
    "registered_in_beibei": ("是否在北碚区注册", "bool"),
    "local_legal_entity": ("是否为本地法人企业", "bool"),
    "platform_project_investment_yuan": ("自建平台项目投资（万元）", "wan"),
    "platform_first_year_online_transactions_yuan": ("自建平台建成运营后首年网上交易额（万元）", "wan"),
    "cross_border_retail_usd": ("跨境电商零售交易额（万美元）", "usd_wan"),
    "cross_border_retail_cny": ("跨境电商零售交易额（万元人民币）", "wan"),
    "usd_cny_rate": ("美元兑人民币汇率（1美元=?元）", "rate"),
}
#: The label an owner sees for each field, which is what a validation message names.
FORM_LABELS = {field: label for field, (label, _kind) in FORM_FIELDS.items()}

CALC_GROUPS: list[tuple[str, str, list[str]]] = [
    (
        "总部企业",
        "三(一)、附件-10",
        [
            "new_hq_type",
            "registered_capital_yuan",
            "online_annual_sales_yuan",
            "sales_in_statistics",
            "years_in_operation",
            "office_purchase_price_yuan",
            "office_annual_rent_yuan",
            "rent_years",
            "annual_local_contribution_yuan",
        ],
    ),
    ("示范基地/示范企业", "三(二)、三(三)", ["demo_base_level", "demo_enterprise_level"]),
    (
        "自建电商平台",
        "三(四)、附件-11",
        [
            "registered_in_beibei",
            "local_legal_entity",
            "platform_project_investment_yuan",
            "platform_first_year_online_transactions_yuan",
        ],
    ),
    ("跨境电商", "三(五)、附件-12", ["cross_border_retail_usd", "cross_border_retail_cny", "usd_cny_rate"]),
]
CALC_FIELDS = [f for _title, _clauses, fields in CALC_GROUPS for f in fields]

MATCH_FIELDS = [
    "registered_in_beibei",
    "local_legal_entity",
    "new_hq_type",
    "registered_capital_yuan",
    "online_annual_sales_yuan",
    "sales_in_statistics",
    "years_in_operation",
    "demo_base_level",
    "demo_enterprise_level",
    "platform_project_investment_yuan",
    "platform_first_year_online_transactions_yuan",
    "cross_border_retail_usd",
]

PLACEHOLDERS = {
    "wan": "如 300，或 1.2亿 / 300万",
    "usd_wan": "如 25000，或 2.5亿美元",
    "years": "如 2",
    "int_years": "如 3",
    "rate": "如 7.1",
    "wan_list": "1–5个年度，用顿号或空格分隔，如 100、120、150",
}


class FormError(ValueError):
    """A form value the owner has to correct; the message is Chinese and names the field."""


def parse_amount(text: str | None, label: str, *, usd: bool = False) -> Decimal | None:
    """'300' (万), '1.2亿', '300万', '300000元', '3,000' → exact yuan (or USD) as Decimal; blank → None.
    Parsing is the money module's; this only turns its error into a message naming the field."""
    try:
        return parse_form_amount(text, usd=usd)
    except ValueError:
        example = "25000 或 2.5亿美元" if usd else "300 或 1.2亿"
        raise FormError(f"「{label}」请填写数字，例如 {example}。") from None


def parse_plain_number(text: str | None, label: str, *, suffix: str = "") -> Decimal | None:
    if text is None:
        return None
    t = unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")
    if suffix and t.endswith(suffix):
        t = t[: -len(suffix)]
    if not t:
        return None
    if not _NUMBER.fullmatch(t) or len(t) > 30:
        raise FormError(f"「{label}」请填写数字。")
    return Decimal(t)


def parse_amount_list(text: str | None, label: str) -> list[Decimal] | None:
    if text is None or not str(text).strip():
        return None
    parts = [p for p in re.split(r"[、，；;/\s]+", str(text).strip()) if p]
    values = []
    for i, part in enumerate(parts, start=1):
        value = parse_amount(part, f"{label}第{i}年")
        if value is not None:
            values.append(value)
    return values or None


def form_to_profile_data(fields: list[str], values: list[Any]) -> dict[str, Any]:
    """Form strings/choices → EnterpriseProfile input (unknown stays absent, never False or 0)."""
    data: dict[str, Any] = {}
    for field, raw in zip(fields, values):
        label, kind = FORM_FIELDS[field]
        value: Any
        if kind == "wan":
            value = parse_amount(raw, label)
        elif kind == "usd_wan":
            value = parse_amount(raw, label, usd=True)
        elif kind == "wan_list":
            value = parse_amount_list(raw, label)
        elif kind in ("years", "int_years"):
            value = parse_plain_number(raw, label, suffix="年")
        elif kind == "rate":
            value = parse_plain_number(raw, label)
        elif kind == "bool":
            value = {"yes": True, "no": False}.get(raw)
        else:  # hq, level
            value = None if raw in (None, "", UNKNOWN) else raw
        if value is not None:
            data[field] = value
    return data


def build_profile(fields: list[str], values: list[Any]) -> EnterpriseProfile:
    """Raises FormError with a Chinese message naming the field."""
    data = form_to_profile_data(fields, values)
    try:
        return EnterpriseProfile.model_validate(data)
    except ValidationError as exc:
        raise FormError(describe_validation_error(exc, FORM_LABELS)) from None
