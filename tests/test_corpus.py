"""The corpus must say exactly what the source says: these tests tie every clause, annex cell and
recorded discrepancy back to the raw text, so curated data cannot drift from it."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest
import yaml

from assistant.corpus import (
    Clause,
    Corpus,
    canonical_clause_id,
    load_corpus,
    normalize,
    parse_document,
    parse_gongwen,
    strip_page_furniture,
)

CORPUS_DIR = Path(__file__).resolve().parent.parent / "corpus"
RAW_PATH = CORPUS_DIR / "raw" / "000_2cbc706aa22fe855.txt"
RAW = RAW_PATH.read_text(encoding="utf-8")
RAW_LINES = RAW.splitlines()

# The page furniture in the raw text, by 1-based line number (one page break falls inside 二(一)2).
FURNITURE_LINES = {
    77: "重庆市北碚区人民政府行政规范性文件",
    79: "重",
    81: "重庆市北碚区人民政府办公室发布",
    83: "- 3 -",
}
DATE_LINE = "2019 年 12 月 5 日"  # ends the main text; the annex table follows

EXPECTED_IDS = [
    "文件信息",
    "前言",
    "一(一)",
    "一(二)",
    "二(一)1",
    "二(一)2",
    "二(二)1",
    "二(二)2",
    "二(二)3",
    "二(三)1",
    "二(三)2",
    "二(三)3",
    "二(四)",
    "三(一)",
    "三(二)",
    "三(三)",
    "三(四)",
    "三(五)",
    "三(六)",
    "四(一)",
    "四(二)",
    "四(三)",
    *[f"附件-{n}" for n in range(1, 14)],
]

COUNTERPARTS = {
    "二(一)1": "附件-1",
    "二(一)2": "附件-2",
    "二(二)1": "附件-3",
    "二(二)2": "附件-4",
    "二(二)3": "附件-5",
    "二(三)1": "附件-6",
    "二(三)2": "附件-7",
    "二(三)3": "附件-8",
    "二(四)": "附件-9",
    "三(一)": "附件-10",
    "三(四)": "附件-11",
    "三(五)": "附件-12",
    "三(六)": "附件-13",
}


def nows(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _regions() -> tuple[str, str]:
    """(main, annex) parts of the raw text, furniture removed by line number, whitespace removed."""
    date_idx = RAW_LINES.index(DATE_LINE)
    kept = [line for n, line in enumerate(RAW_LINES, 1) if n not in FURNITURE_LINES]
    cut = date_idx + 1 - sum(1 for n in FURNITURE_LINES if n <= date_idx)
    return nows("\n".join(kept[:cut])), nows("\n".join(kept[cut:]))


MAIN_SRC, ANNEX_SRC = _regions()
ANNEX_YAML = yaml.safe_load((CORPUS_DIR / "annex.yaml").read_text(encoding="utf-8"))
DISC_YAML = yaml.safe_load((CORPUS_DIR / "discrepancies.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus(CORPUS_DIR)


# --- structure ---------------------------------------------------------------------------------


def test_clause_ids_exact_and_in_document_order(corpus: Corpus) -> None:
    assert [c.clause_id for c in corpus.clauses] == EXPECTED_IDS
    # 2 + 2 + 9 + 6 + 3 + 13: the issue said "36 total" but enumerated these 35.
    assert len(corpus.clauses) == 35


def test_get_and_has(corpus: Corpus) -> None:
    assert corpus.get("三(四)").title == "支持企业自建电子商务平台"
    assert corpus.has("附件-13") and not corpus.has("附件-14") and not corpus.has("二(一)")
    with pytest.raises(KeyError):
        corpus.get("二(一)")  # a heading with sub-items is not a clause


def test_sources(corpus: Corpus) -> None:
    assert corpus.get("文件信息").source == "meta"
    for c in corpus.clauses[1:22]:
        assert c.source == "main", c.clause_id
    for c in corpus.clauses[22:]:
        assert c.source == "annex", c.clause_id


def test_titles(corpus: Corpus) -> None:
    assert corpus.get("二(一)1").title == "打造电子商务产业园区"
    assert corpus.get("三(四)").title == "支持企业自建电子商务平台"
    assert corpus.get("一(二)").title == "发展目标"
    assert corpus.get("二(四)").title == "加快发展跨境电子商务"
    assert corpus.get("附件-10").title == "支持电子商务总部企业引进"
    assert corpus.get("三(四)").section == "三、支持政策 > （四）支持企业自建电子商务平台"
    assert corpus.get("二(一)1").section == "二、主要任务 > （一）壮大电子商务产业集群 > 1.打造电子商务产业园区"


def test_main_clause_text_shape(corpus: Corpus) -> None:
    s = corpus.get("三(四)").text
    assert s.startswith("支持企业自建电子商务平台。对自建电子商务平台且")
    assert s.endswith("（牵头单位：区商务委；责任单位：区财政局、区民营经济发展局）")
    # 二(四)'s heading stands on its own line; its text is the body.
    assert corpus.get("二(四)").text.startswith("一是加快发展跨境电子商务出口业务")
    assert corpus.get("前言").text.startswith("近年来，电子商务持续快速发展")
    assert "渝府发〔2019〕17号" in corpus.get("前言").text
    assert "到2022年，全区电子商务交易额突破300亿元" in corpus.get("一(二)").text


# --- fidelity to the raw text --------------------------------------------------------------------


def test_raw_text_is_the_received_file() -> None:
    # corpus/raw must stay byte-identical to what was received.
    assert len(RAW_LINES) == 1083
    for n, line in FURNITURE_LINES.items():
        assert RAW_LINES[n - 1].strip() == line


def test_strip_page_furniture_removes_exactly_the_furniture() -> None:
    kept = strip_page_furniture(RAW_LINES)
    removed = [line.strip() for line in RAW_LINES]
    for line in kept:
        removed.remove(line.strip())
    assert sorted(line for line in removed if line) == sorted(FURNITURE_LINES.values())


def test_strip_page_furniture_is_conservative() -> None:
    lines = ["依照有关规定制定行政规范性文件", "本办法依照规定制定，属于行政规范性文件", "力。", "- 12 -", "重", "第 2 页 共 9 页"]
    kept = strip_page_furniture(lines)
    # A punctuated body line stays; a lone char stays unless it sits next to furniture.
    assert "本办法依照规定制定，属于行政规范性文件" in kept and "力。" in kept
    assert "- 12 -" not in kept and "重" not in kept and "第 2 页 共 9 页" not in kept
    assert strip_page_furniture(["正文。", "重", "正文。"]) == ["正文。", "重", "正文。"]


def test_every_clause_text_is_normalised(corpus: Corpus) -> None:
    for c in corpus.clauses:
        assert c.text and normalize(c.text) == c.text, c.clause_id
        assert not re.search(r"\s", c.text), c.clause_id


def test_main_clause_text_is_verbatim_source(corpus: Corpus) -> None:
    for c in corpus.clauses:
        if c.source == "main":
            assert nows(c.text) in MAIN_SRC, c.clause_id


def test_main_text_fully_covered(corpus: Corpus) -> None:
    """Title block + preamble + every section + closing reassembles the main text: nothing lost."""
    doc = corpus.document
    parts = [doc.title, doc.doc_number, doc.addressees + "：", doc.preamble]
    for root in doc.sections:
        for _, sec in root.walk():
            parts += [sec.marker, "" if sec.run_in else sec.title, sec.text]
    parts += [doc.attachment_note, doc.signature, doc.date]
    assert nows("".join(parts)) == MAIN_SRC


def test_no_page_furniture_leaks(corpus: Corpus) -> None:
    for c in corpus.clauses:
        for bad in ("行政规范性文件", "办公室发布", "- 3 -", "-3-", "北碚区人民政府办公室"):
            assert bad not in c.text, (c.clause_id, bad)
    assert "产业，打造产业电商集聚区" in corpus.get("二(一)2").text  # joined across the page break


def test_closing_does_not_leak_into_last_clause(corpus: Corpus) -> None:
    last = corpus.get("四(三)").text
    assert last.endswith("探索建立电子商务网上治理体系。")
    for leaked in ("附件", "任务分解表", "2019年12月5日"):
        assert leaked not in last
    assert not last.endswith("重庆市北碚区人民政府")


def test_meta_clause(corpus: Corpus) -> None:
    meta = corpus.get("文件信息")
    for value in (
        "《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》",
        "重庆市北碚区人民政府",
        "北碚府发〔2019〕75号",
        "2019年12月5日",
        "各街道办事处、镇人民政府，区政府有关部门，有关园城管委会，有关单位",
        "附件：《重庆市北碚区人民政府关于加快电子商务产业发展的实施意见》任务分解表",
    ):
        assert value in meta.text
        assert nows(value).strip("《》") in MAIN_SRC
    assert corpus.title == "重庆市北碚区人民政府关于加快电子商务产业发展的实施意见"
    assert corpus.doc_number == "北碚府发〔2019〕75号"
    assert corpus.issued == "2019-12-05"
    assert corpus.issuer == "重庆市北碚区人民政府"


# --- annex --------------------------------------------------------------------------------------


def _row_cells(row: dict) -> list[str]:
    deadline = row["deadline"] if row["deadline"] is not None else "/"
    return [str(row["number"]), row["task"], row["content"], row["lead_unit"], "、".join(row["responsible_units"]), deadline]


def test_annex_rows_shape() -> None:
    rows = ANNEX_YAML["rows"]
    assert [r["number"] for r in rows] == list(range(1, 14))
    assert [r["group"] for r in rows] == (
        ["（一）壮大电子商务产业集群"] * 2
        + ["（二）提高工业电子商务发展水平"] * 3
        + ["（三）创新发展农村电子商务"] * 3
        + ["（四）加快发展跨境电子商务"]
        + ["（五）支持政策"] * 4
    )
    assert [r["deadline"] for r in rows] == ["2022年12月"] * 9 + [None] * 4
    for r in rows:
        assert r["task"] and r["content"] and r["lead_unit"] and r["responsible_units"]


def test_every_annex_cell_is_in_the_raw_annex() -> None:
    """Each cell individually, and each row read across its columns, occurs in the raw annex."""
    for row in ANNEX_YAML["rows"]:
        for cell in [row["group"], row["task"], row["content"], row["lead_unit"], *row["responsible_units"]]:
            assert nows(cell) in ANNEX_SRC, (row["number"], cell)
        assert nows("".join(_row_cells(row))) in ANNEX_SRC, row["number"]


def test_annex_rows_cover_the_whole_table() -> None:
    """Removing title, headers, group labels and rows (in order) from the raw annex leaves nothing."""
    rest = ANNEX_SRC
    positions = []
    for row in ANNEX_YAML["rows"]:
        cells = nows("".join(_row_cells(row)))
        assert rest.count(cells) == 1, row["number"]
        positions.append(ANNEX_SRC.index(cells))
        rest = rest.replace(cells, "\0")
    assert positions == sorted(positions)
    for group in {r["group"] for r in ANNEX_YAML["rows"]}:
        assert group in rest
        rest = rest.replace(group, "\0")
    header = "".join(ANNEX_YAML["header"])
    rest = rest.replace(header, "\0").replace(nows(ANNEX_YAML["title"]), "\0")
    assert rest.replace("\0", "") == ""


def test_annex_clauses_match_rows(corpus: Corpus) -> None:
    for row in ANNEX_YAML["rows"]:
        c = corpus.get(f"附件-{row['number']}")
        assert c.title == row["task"]
        assert c.text == normalize(row["content"])
        assert c.lead_unit == row["lead_unit"]
        assert c.responsible_units == row["responsible_units"]
        assert c.deadline == row["deadline"]
        assert row["group"] in c.section


def test_annex_wording_comes_from_the_annex(corpus: Corpus) -> None:
    assert "推动重庆市工业互联网产业发展示范基地建设" in corpus.get("附件-3").text
    assert corpus.get("附件-6").text.endswith("培育农产品电商市场主体30个。")
    assert "传统手工艺品生产，打造文旅品牌1个。" in corpus.get("附件-7").text
    assert "跨境电子零售交易额" in corpus.get("附件-12").text
    assert corpus.get("附件-2").responsible_units[:2] == ["区经济信息委", "区科技局"]
    assert corpus.get("附件-8").responsible_units == ["区农业农村委", "区商务委", "各涉农街镇"]


def test_deadlines(corpus: Corpus) -> None:
    for c in corpus.clauses:
        if c.source != "annex":
            assert c.deadline is None, c.clause_id
    assert corpus.get("附件-1").deadline == "2022年12月"
    assert corpus.get("附件-11").deadline is None


# --- counterparts and units ---------------------------------------------------------------------


def test_counterparts_symmetric_and_as_listed(corpus: Corpus) -> None:
    expected = {**COUNTERPARTS, **{a: m for m, a in COUNTERPARTS.items()}}
    for c in corpus.clauses:
        assert c.related == ([expected[c.clause_id]] if c.clause_id in expected else []), c.clause_id
        for other in corpus.counterparts(c.clause_id):
            assert c.clause_id in other.related
    for main_id, annex_id in COUNTERPARTS.items():
        assert [x.clause_id for x in corpus.counterparts(main_id)] == [annex_id]
        assert corpus.get(main_id).title == corpus.get(annex_id).title


def test_units_parsed_for_all_task_and_policy_clauses(corpus: Corpus) -> None:
    for c in corpus.clauses:
        if c.source != "main":
            continue
        if c.clause_id[0] in "二三":
            assert c.lead_unit and c.responsible_units, c.clause_id
            tail = f"（牵头单位：{c.lead_unit}；责任单位：{'、'.join(c.responsible_units)}）"
            assert c.text.endswith(tail), c.clause_id
        else:
            assert c.lead_unit is None and c.responsible_units == [], c.clause_id
    assert corpus.get("三(六)").lead_unit == "区人力社保局"
    assert corpus.get("三(六)").responsible_units == ["区教委", "区商务委", "区卫生健康委", "区公安分局"]
    assert corpus.get("二(三)2").lead_unit == "区文化旅游委"
    assert corpus.get("二(三)2").responsible_units == ["各涉农街镇"]
    assert corpus.get("二(一)2").responsible_units[:2] == ["区科技局", "区经济信息委"]


# --- discrepancies ------------------------------------------------------------------------------

KINDS = {"quantity", "extra_condition", "amount_detail", "wording", "units_order", "units"}


def _main_body(c: Clause) -> str:
    """The part of a main clause that the annex row restates: no title sentence, no units."""
    body = c.text.removeprefix(c.title + "。")
    return re.sub(r"（牵头单位：[^）]*）$", "", body)


def _spans(text: str, quote: str | None) -> list[tuple[int, int]]:
    if not quote:
        return []
    return [(m.start(), m.start() + len(quote)) for m in re.finditer(re.escape(quote), text)]


def test_discrepancies_are_well_formed(corpus: Corpus) -> None:
    assert len(corpus.discrepancies) == len(DISC_YAML["discrepancies"]) > 0
    for d in corpus.discrepancies:
        main, annex = corpus.get(d.main_clause_id), corpus.get(d.annex_clause_id)
        assert main.source == "main" and annex.source == "annex"
        assert annex.clause_id in main.related and main.clause_id in annex.related
        assert d.kind in KINDS
        assert d.description and "\n" not in d.description and re.search(r"[\u4e00-\u9fff]", d.description)
        assert d.main_quote or d.annex_quote
        if d.main_quote:
            assert d.main_quote in main.text, d
        if d.annex_quote:
            assert d.annex_quote in annex.text, d


def test_every_text_difference_is_recorded(corpus: Corpus) -> None:
    """Diff each counterpart pair; every changed span must lie under a recorded quote."""
    differing = 0
    for main_id, annex_id in COUNTERPARTS.items():
        main, annex = corpus.get(main_id), corpus.get(annex_id)
        body = _main_body(main)
        offset = main.text.index(body)
        recorded = [d for d in corpus.discrepancies if (d.main_clause_id, d.annex_clause_id) == (main_id, annex_id)]
        main_spans = [s for d in recorded for s in _spans(main.text, d.main_quote)]
        annex_spans = [s for d in recorded for s in _spans(annex.text, d.annex_quote)]
        if body != annex.text:
            differing += 1
            assert recorded, f"{main_id}/{annex_id} differ but no discrepancy is recorded"
        ops = difflib.SequenceMatcher(None, body, annex.text, autojunk=False).get_opcodes()
        for op, i1, i2, j1, j2 in ops:
            if op == "equal":
                continue
            i1, i2 = i1 + offset, i2 + offset
            covered = (i2 > i1 and any(a < i2 and i1 < b for a, b in main_spans)) or (
                j2 > j1 and any(a < j2 and j1 < b for a, b in annex_spans)
            )
            assert covered, f"{main_id}/{annex_id}: unrecorded {op} {main.text[i1:i2]!r} -> {annex.text[j1:j2]!r}"
    assert differing == 7


def test_unit_differences_are_recorded(corpus: Corpus) -> None:
    for main_id, annex_id in COUNTERPARTS.items():
        main, annex = corpus.get(main_id), corpus.get(annex_id)
        kinds = {d.kind for d in corpus.discrepancies if (d.main_clause_id, d.annex_clause_id) == (main_id, annex_id)}
        assert main.lead_unit == annex.lead_unit, main_id
        if main.responsible_units != annex.responsible_units:
            same_set = sorted(main.responsible_units) == sorted(annex.responsible_units)
            assert ("units_order" if same_set else "units") in kinds, main_id
    assert [d.main_clause_id for d in corpus.discrepancies if d.kind.startswith("units")] == ["二(一)2"]


def test_known_discrepancies_present(corpus: Corpus) -> None:
    def has(main_id: str, kind: str, annex_snippet: str) -> bool:
        return any(
            d.main_clause_id == main_id and d.kind == kind and annex_snippet in (d.annex_quote or "")
            for d in corpus.discrepancies
        )

    assert has("二(三)1", "quantity", "30个")
    assert has("三(四)", "extra_condition", "项目投资100万元以上")
    assert has("三(四)", "extra_condition", "本地法人企业")
    assert has("三(四)", "extra_condition", "在北碚区注册")
    assert has("三(一)", "amount_detail", "最高50万元")
    assert has("三(一)", "amount_detail", "累计最高补贴30万元")
    assert has("三(一)", "amount_detail", "前3年100%、后2年50%")
    assert has("三(一)", "extra_condition", "注册资金在1000万元（含）以上")
    assert corpus.discrepancies_for("附件-7") and not corpus.discrepancies_for("二(一)1")


# --- normalize and ids --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("到 2022 年", "到2022年"),
        ("给予 30 万元", "给予30万元"),
        ("2019 年 12 月 5 日", "2019年12月5日"),
        ("北碚府发〔2019〕75 号", "北碚府发〔2019〕75号"),
        ("区农业农村委 、区商务委", "区农业农村委、区商务委"),
        ("“两地”\n\n“两高”", "“两地”“两高”"),
        ("多层次构建北碚电子\n\n 商务产业", "多层次构建北碚电子商务产业"),
        ("1-5 亿元、5 亿元以上", "1-5亿元、5亿元以上"),
        ("Hello   World", "Hello World"),
        ("  ", ""),
    ],
)
def test_normalize(raw: str, clean: str) -> None:
    assert normalize(raw) == clean
    assert normalize(clean) == clean


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("三（四）", "三(四)"),
        ("三(四)", "三(四)"),
        ("【三(四)】", "三(四)"),
        ("附件11", "附件-11"),
        ("附件-11", "附件-11"),
        ("附件 11", "附件-11"),
        ("annex-11", "附件-11"),
        ("Annex 11", "附件-11"),
        ("附件１１", "附件-11"),
        ("二(一)1", "二(一)1"),
        ("二（一）1", "二(一)1"),
        ("二(一)1.", "二(一)1"),
        ("二（四）", "二(四)"),
        ("文件信息", "文件信息"),
        ("前言", "前言"),
        ("附件14", None),
        ("二(一)", None),
        ("三(七)", None),
        ("五", None),
        ("", None),
        ("电子商务", None),
    ],
)
def test_canonical_clause_id(corpus: Corpus, typed: str, canonical: str | None) -> None:
    assert canonical_clause_id(typed, corpus) == canonical


def test_canonical_clause_id_uses_default_corpus() -> None:
    assert canonical_clause_id("附件 3") == "附件-3"


# --- loading ------------------------------------------------------------------------------------


def test_default_corpus_is_cached() -> None:
    assert load_corpus() is load_corpus()


def test_content_hash_tracks_inputs(tmp_path: Path) -> None:
    base = load_corpus(CORPUS_DIR).content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, copy)
    assert load_corpus(copy).content_hash == base  # depends on content, not location
    assert load_corpus(copy) is load_corpus(copy)  # cached until a file changes

    seen = {base}
    for rel in ("raw/000_2cbc706aa22fe855.txt", "annex.yaml", "discrepancies.yaml"):
        with (copy / rel).open("a", encoding="utf-8") as f:
            f.write("\n# edited\n" if rel.endswith(".yaml") else "\n")
        h = load_corpus(copy).content_hash
        assert h not in seen, rel
        seen.add(h)


def test_bad_curated_reference_fails_loudly(tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, copy)
    text = (copy / "discrepancies.yaml").read_text(encoding="utf-8")
    (copy / "discrepancies.yaml").write_text(text.replace("annex_clause_id: 附件-6", "annex_clause_id: 附件-7"), encoding="utf-8")
    with pytest.raises(ValueError, match="not counterparts"):
        load_corpus(copy)


# --- the general parser on another document -----------------------------------------------------

SYNTHETIC = """\
某某县人民政府
关于促进数字经济发展的若干措施

某府发〔2023〕8 号

各乡镇人民政府，县政府各部门：

为加快数字经济发展，推动产业转型升级，结合我县实际，制
定如下措施。

一、产业培育
（一）招引龙头企业。对新落户的数字经济企业，按其实际到位
投资额的 5% 给予补助，最高不超过 200 万元。
（二）支持企业上云
1.上云补贴。对购买云服务的中小企业，按实际支出的 30% 给
予补贴，单户最高 10 万元。企业须在 2024 年 6 月前完成备案，
3.类企业除外（此行不是标题）。
2.示范评选。每年评选示范企业 10 家，每家奖励 5 万元。

某某县人民政府行政规范性文件
重
- 2 -

二、保障措施
加强统筹协调，建立联席会议制度，定期研究解决数字经济发展
中的重大问题。
（一）强化资金保障。县财政每年安排专项资金 1000 万元，用于
本措施兑现。

某某县人民政府
2023 年 3 月 1 日
"""


def test_general_parser_on_another_document() -> None:
    doc = parse_document(SYNTHETIC)
    assert doc.title == "某某县人民政府关于促进数字经济发展的若干措施"
    assert doc.doc_number == "某府发〔2023〕8号"
    assert doc.addressees == "各乡镇人民政府，县政府各部门"
    assert doc.preamble == "为加快数字经济发展，推动产业转型升级，结合我县实际，制定如下措施。"
    assert doc.signature == "某某县人民政府" and doc.date == "2023年3月1日"

    sections = parse_gongwen(SYNTHETIC)
    assert [(s.marker, s.title) for s in sections] == [("一、", "产业培育"), ("二、", "保障措施")]
    one, two = sections
    assert [(s.label, s.title, s.run_in) for s in one.children] == [("一", "招引龙头企业", True), ("二", "支持企业上云", False)]
    assert one.children[0].text == "招引龙头企业。对新落户的数字经济企业，按其实际到位投资额的5%给予补助，最高不超过200万元。"
    items = one.children[1].children
    assert [(s.level, s.number, s.title) for s in items] == [(3, 1, "上云补贴"), (3, 2, "示范评选")]
    # "3." out of sequence is text, not a heading; lines are joined without spaces.
    assert items[0].text.endswith("企业须在2024年6月前完成备案，3.类企业除外（此行不是标题）。")
    # A level-1 section may have its own text before its first child; furniture is gone.
    assert two.text == "加强统筹协调，建立联席会议制度，定期研究解决数字经济发展中的重大问题。"
    assert two.children[0].text == "强化资金保障。县财政每年安排专项资金1000万元，用于本措施兑现。"
    all_text = "".join(s.text for root in sections for _, s in root.walk())
    assert "行政规范性文件" not in all_text and "- 2 -" not in all_text and "某某县人民政府" not in all_text


def test_general_parser_on_unwrapped_text() -> None:
    """Text with one paragraph per line (no PDF wrapping): every line is its own paragraph."""
    text = "关于印发管理办法的通知\n各单位：\n现将办法印发给你们。\n一、总则\n本办法适用于全县。\n二、附则\n本办法自印发之日起施行。\n"
    doc = parse_document(text)
    assert doc.title == "关于印发管理办法的通知" and doc.addressees == "各单位"
    assert doc.preamble == "现将办法印发给你们。"
    assert [(s.title, s.text) for s in doc.sections] == [("总则", "本办法适用于全县。"), ("附则", "本办法自印发之日起施行。")]
