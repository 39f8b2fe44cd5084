"""Planners for the kinds of question the frame reader names: chit-chat, "文件没有规定…", definitions,
the document's relation to other documents, its parts and counts, a unit's tasks, and matching.

Each planner writes the conclusion first (the count, the list, the unit, or "文件没有规定…"), then only the
sentence of the clause that supports it, verbatim and cited, then whom to contact. A mixin of
``assistant.compose.Composer``; amounts come only from the calculator (``assistant.matching``).
"""

from __future__ import annotations

import re
from typing import Any

from assistant import knowledge
from assistant.calculator import POLICY_CLAUSES, POLICY_TITLES
from assistant.compose_docs import DocumentAnswers
from assistant.compose_draft import (
    AWARD_NOUN,
    CONTACT,
    POLICY_TITLES_EN,
    Draft,
    TurnContext,
    _t,
    _title_of,
    _unit,
    _units,
)
from assistant.corpus import Clause
from assistant.intent import DEADLINE_CUE, explicit_clause_ids, rank_clauses, units_in
from assistant.lexicon import Lexicon, Unspecified
from assistant.money import parse_numeral
from assistant.phrasing import default_phrasing
from assistant.reading import OWN_STATEMENT, Frame

__all__ = ["FramedAnswers"]

_PART_NUMBER = re.compile(
    r"第\s*([一二三四1-4])\s*(?:部分|大部分|章|大项|大块)|part\s+(one|two|three|four|[1-4])\b", re.IGNORECASE
)
_PART_WORDS = {"1": "一", "2": "二", "3": "三", "4": "四", "one": "一", "two": "二", "three": "三", "four": "四"}
_HEADINGS = re.compile(r"总体要求|主要任务|支持政策|扶持政策|保障措施")
_ANNEX_WORDS = re.compile(r"任务分解表|分解表|附件|附表|task\s+table|annex", re.IGNORECASE)
_LEAD_ONLY = re.compile(r"牵头|lead", re.IGNORECASE)
_PART_ONLY = re.compile(r"责任单位|配合|参与|协助|take\s+part|responsible\s+unit|involved", re.IGNORECASE)
_LEADS = re.compile(
    r"牵头(?:单位|部门)|牵头的(?:单位|部门)|当牵头|lead\s+units?|units?\s+(?:that\s+)?leads?", re.IGNORECASE
)
_ASPECTS = re.compile(r"方面|大项|大块|几类|几个板块|areas|aspects", re.IGNORECASE)
_WHAT_FOR_US = re.compile(
    r"有(?:啥子?|什么|哪些)(?:鼓励|支持|政策|扶持|说法|好处)|(?:鼓励|支持)(?:什么|啥)|what\s+(?:support|help)\s+is\s+there",
    re.IGNORECASE,
)
_WHICH_KINDS = re.compile(
    r"包括哪些|哪些类型|哪几类|有哪些(?:机构|类型|企业)|what\s+kinds?\s+of|which\s+types?", re.IGNORECASE
)
_ABOUT_PART = re.compile(
    r"部分|这块|那块|这一块|方面|讲了|讲的|讲什么|讲啥|概括|总结|内容|说了(?:什么|啥)", re.IGNORECASE
)
_LATER_YEAR = re.compile(
    r"第\s*(?P<n>[\d一二两三四五六七八九十]{1,3})\s*(?:个)?年(?:度)?(?=.{0,12}(?:还|继续|再|能|可以|接着))|(?:year|yr)\s+(?P<n2>\d)\b"
)
_LEVEL_FACTS = {"demo_base_level", "demo_enterprise_level"}
_STATUS_FACTS = {"new_hq_type", "registered_in_beibei", "local_legal_entity", "sales_in_statistics"}
_MONEY_ASKED = re.compile(
    r"补贴|补助|补(?!充)|报销|奖励|扶持(?:资金|标准)|资金|奖金|发钱|给钱|给多少|多少钱|好多钱|给好多|几多钱|subsid|grant|reward|funding|money",
    re.IGNORECASE,
)
_OWN_CASE = re.compile(r"我|咱|本公司|\bwe\b|\bour\b|\bI\b|\bmy\b", re.IGNORECASE)
_GENERIC_WORDS = {"电商", "电子商务", "企业", "政策", "文件", "支持", "发展", "北碚", "我们", "网上"}
_ABOUT_US = re.compile(
    r"沾边|有关|相关|提到|说法|咋个说|怎么说|有没有.{0,4}(?:政策|说法|支持)|跟我|对我们|适用|apply\s+to|relevant",
    re.IGNORECASE,
)
_NOT_LEAD = re.compile(r"不是牵头|非牵头|不牵头|没有牵头|not\s+(?:the\s+)?lead", re.IGNORECASE)
_NOT_PART = re.compile(r"不是责任单位|非责任单位|not\s+(?:a\s+)?responsible", re.IGNORECASE)
_DEFINED = re.compile(
    r"^(?:请问|问一下|想问)?(?:文件里|文件中|政策里)?(?:的)?(?P<a>.{1,20}?)(?:到底|具体)?(?:是)?(?:怎么认定|怎么界定|怎么理解|如何认定|如何界定|是什么意思|什么意思|指什么|指的是什么|是指什么|的定义|算不算)"
    r"|(?:什么|啥)(?:样的)?(?:才)?(?:算|叫|是)(?P<b>.{1,20}?)(?:[？?。！!]|$)"
)


def knowledge_year(numeral: str | None) -> int | None:
    """'四' / '4' → 4: a year number as the owner writes it."""
    if not numeral:
        return None
    value = parse_numeral(numeral)
    return int(value) if value is not None and value == value.to_integral_value() else None


def _mentions(text: str, subject: str) -> bool:
    """Does the clause speak of the subject? Any 2-character piece of it (入驻率 → 入驻) counts."""
    core = re.sub(r"[的地得了吗呢啊和与及或]", "", subject)
    return any(core[i : i + 2] in text for i in range(max(1, len(core) - 1)) if len(core[i : i + 2]) == 2)


def _part_of(clause: Clause) -> str:
    return clause.section.split(" > ")[0]


class FramedAnswers(DocumentAnswers):
    """Planners keyed by ``Frame.ask``; each returns (answer_type, None)."""

    lexicon: Lexicon

    def _planned(self, frame: Frame, turn: TurnContext, draft: Draft) -> tuple[str, Any] | None:
        """The planner for the frame's kind, or None to let the composer's lookups answer."""
        if frame.ask in ("greeting", "thanks", "help"):
            return self._chitchat(turn, draft, frame.ask)
        if frame.ask == "unspecified" and frame.unspecified is not None:
            if answer := self._unspecified(turn, draft, frame.unspecified):
                return answer
        if frame.ask == "relation":
            return self._relation(turn, draft)
        if frame.ask == "section" and (answer := self._part(turn, draft)):
            return answer
        if (
            frame.ask in ("other", "section")
            and _ABOUT_PART.search(turn.text)
            and self._group_named(turn.text)
            and (answer := self._part(turn, draft))
        ):
            return answer  # "农村电商那部分讲了啥": a second-level heading
        if frame.ask == "count" and (answer := self._count(turn, draft)):
            return answer
        if frame.ask == "definition" and (answer := self._definition(turn, draft)):
            return answer
        if frame.ask in ("other", "amount", "eligibility", "when") and (answer := self._beyond_term(turn, draft)):
            return answer
        if frame.ask in ("other", "amount", "eligibility", "count", "when") and (
            answer := self._parameter(turn, draft)
        ):
            return answer
        if frame.ask in ("other", "amount", "eligibility", "match", "definition") and (
            answer := self._talent(turn, draft)
        ):
            return answer
        if frame.ask in ("other", "amount", "eligibility", "match", "count") and (
            answer := self._business(frame, turn, draft)
        ):
            return answer
        return None

    # --- the talent policy (non-monetary) ----------------------------------------------------------
    def _talent(self, turn: TurnContext, draft: Draft) -> tuple[str, None] | None:
        """ "引进的技术总监孩子上学有照顾吗": 可能, on two conditions the document states, with the preferences
        named in the answer's language; who counts as 高层次人才 is Chongqing's rules, not this document."""
        topics = [t for t in turn.reading.topics if t in POLICY_CLAUSES]
        if topics != ["talent"]:
            return None
        lang = turn.lang
        book = knowledge.load_policies()
        pol = book.policy("talent")
        rule_quote = getattr(pol.amount, "quote", "")  # every rule kind but by_level quotes its sentence
        cid = next((c for c in pol.clauses if rule_quote and rule_quote in self.corpus.get(c).text), pol.clauses[0])
        quote = self._quote(cid, turn.tokens, re.escape(rule_quote))
        basis = book.text("talent", "basis", lang)
        draft.add(
            _t(
                lang,
                f"可能（须同时满足两点：企业设立了所列机构，且该人员属于高层次人才）：{basis}{draft.cite(cid, quote)}"
                "。",
                "Possibly (if both hold: the firm has set up one of the listed centres, and the person counts "
                f"as high-level talent): {basis} {draft.cite(cid, quote)}.",
            )
        )
        draft.add(_t(lang, f"条文原文：“{quote}”", f"The clause reads: “{quote}”"))
        draft.add(
            "",
            *[f"- {n}" for n in book.notes("talent", lang, "always")]
            if any(n.when == "always" for n in pol.notes)
            else [],
        )
        draft.add(
            _t(
                lang,
                f"这是非资金类政策；谁算高层次人才按重庆市规定认定，请咨询{_units([pol.lead_unit], lang)}。",
                "This policy carries no money; who counts as high-level talent is decided under Chongqing's "
                f"rules. Ask {_units([pol.lead_unit], lang)}.",
            )
        )
        return "policy_answer", None

    # --- a year past a subsidy's term ---------------------------------------------------------------
    def _beyond_term(self, turn: TurnContext, draft: Draft) -> tuple[str, None] | None:
        """ "租房补贴拿满3年了，第4年还能拿吗": 不能, the term is in policies.yaml; nothing is computed."""
        m = _LATER_YEAR.search(turn.text)
        topics = [t for t in turn.reading.topics if t in POLICY_CLAUSES]
        if not m or len(topics) != 1:
            return None
        year = knowledge_year(m.group("n"))
        term = next((p for p in self.lexicon.parameters if p.id == "term"), None)
        pol = knowledge.policy(topics[0])
        names = term.names(list(pol.params())) if term else []
        if year is None or not names:
            return None
        limit = pol.params()[names[0]]
        if year <= limit.value:
            return None
        lang = turn.lang
        title = pol.title.get(lang)
        quote_text = getattr(pol.amount, "quote", "") or ""
        cid = next(
            (c for c in reversed(pol.clauses) if quote_text and quote_text in self.corpus.get(c).text), pol.clauses[-1]
        )
        quote = self._quote(cid, turn.tokens, re.escape(quote_text) if quote_text else None)
        shown = knowledge.format_quantity(limit, lang)
        if limit.unit != "year":  # a count of years (前3年 + 后2年 = 5)
            years = format(limit.value.normalize(), "f")
            shown = f"{years}年" if lang != "en" else f"{years} years"
        draft.add(
            _t(
                lang,
                f"不能：{title}的期限为{shown}，第{year}年不在期限内{draft.cite(cid, quote)}。",
                f"No: {title} runs for {shown}; year {year} is outside it {draft.cite(cid, quote)}.",
            )
        )
        draft.add(_t(lang, f"条文原文：“{quote}”", f"The clause reads: “{quote}”"))
        draft.add(
            "",
            _t(
                lang,
                f"如有特殊情况请咨询{_units([pol.lead_unit], lang)}。",
                f"For special cases ask {_units([pol.lead_unit], lang)}.",
            ),
        )
        return "policy_answer", None

    # --- one figure of a subsidy -------------------------------------------------------------------
    def _parameter(self, turn: TurnContext, draft: Draft) -> tuple[str, None] | None:
        """ "租房补贴补几年", "What is the maximum purchase subsidy?": the figure first, from policies.yaml,
        then the rule's own sentence. Only for a question that states no figure of its own (those compute)."""
        topics = [t for t in turn.reading.topics if t in POLICY_CLAUSES and t != "talent"]
        if not topics or turn.reading.extraction.unassigned or set(turn.reading.facts) - _STATUS_FACTS - _LEVEL_FACTS:
            return None  # a claimed figure ("才有30万") is fine; a figure of the owner's is computed instead
        if set(turn.reading.facts) & _LEVEL_FACTS and OWN_STATEMENT.search(turn.text):
            return None  # "我们被认定为国家级示范基地": their own case, computed
        lines = self._parameter_lines(turn, draft, topics)
        if not lines:
            return None
        draft.add(*lines)
        units = list(dict.fromkeys(knowledge.policy(p).lead_unit for p in topics))
        draft.add(
            "",
            _t(turn.lang, f"办理请咨询{_units(units, turn.lang)}。", f"To apply, contact {_units(units, turn.lang)}."),
        )
        return "policy_answer", None

    def _parameter_lines(self, turn: TurnContext, draft: Draft, topics: list[str]) -> list[str]:
        """The asked figures of these policies, each cited; [] when the message asks for none."""
        asked = self.lexicon.parameters_in(turn.text)
        if not asked:
            return []
        lang = turn.lang
        lines: list[str] = []
        levels = {v for k, v in turn.reading.facts.items() if k in _LEVEL_FACTS}
        for pid in topics:
            pol = knowledge.policy(pid)
            params = pol.params()
            given: set[tuple[str, ...]] = set()
            for parameter in asked:
                if parameter.id == "award" and OWN_STATEMENT.search(turn.text):
                    continue  # "我们…能拿多少": their own amount, computed or asked for, not the policy's figure
                names = parameter.names(list(params))
                if not names:
                    continue
                if levels and set(names) & levels:
                    names = [n for n in names if n in levels]  # "市级示范园区奖多少": that level's award
                elif parameter.pick == "largest":
                    money = [n for n in names if params[n].unit in ("CNY", "USD")]
                    names = [max(money, key=lambda n: params[n].value)] if money else names[:1]
                if tuple(names) in given:  # "最高补多少" is both a maximum and an award question: say it once
                    continue
                given.add(tuple(names))
                conds = {c.id: c for c in pol.conditions}

                by_level = getattr(pol.amount, "levels", None) or {}

                def shown(name: str) -> str:
                    value = knowledge.format_quantity(params[name], lang)
                    if name in by_level:  # "国家级电子商务示范基地30万元", not a bare list of figures
                        return (
                            f"{by_level[name].name.get(lang)}{value}"
                            if lang != "en"
                            else f"{by_level[name].name.get(lang)}: {value}"
                        )
                    fact = (
                        conds[name].fact
                        if name in conds
                        else getattr(pol.amount, "fact", None)
                        if name.endswith("_floor")
                        else None
                    )
                    if fact:  # a threshold reads with what it measures: 注册资金1000万元
                        label = re.sub(r"（[^）]*）$|\s*\([^)]*\)$", "", knowledge.fact_label(fact, lang))
                        return f"{label}{value}" if lang != "en" else f"{label} {value}"
                    return value

                values = ("、" if lang != "en" else "; ").join(shown(n) for n in names)
                if parameter.id == "threshold" and "amount" in params and "amount" not in names:  # and what it pays
                    award = knowledge.format_quantity(params["amount"], lang)
                    values += _t(lang, f"；达到后给予{award}", f"; meeting it pays {award}")
                title = pol.title.get(lang)
                quotes = (
                    [conds[n].quote for n in names if n in conds and conds[n].quote]
                    or [by_level[n].quote for n in names if n in by_level]
                    or [getattr(pol.amount, "quote", None)]
                )
                cid = next(
                    (c for c in reversed(pol.clauses) if quotes[0] and quotes[0] in self.corpus.get(c).text),
                    pol.clauses[-1],
                )
                text = self.corpus.get(cid).text
                spans = [(text.index(q), text.index(q) + len(q)) for q in quotes if q and q in text]
                quote = (
                    text[min(a for a, _b in spans) : max(b for _a, b in spans)]
                    if spans
                    else self._quote(cid, turn.tokens)
                )
                mark = draft.cite(cid, quote)
                lines.append(
                    _t(lang, f"{title}的{parameter.zh}：{values}{mark}。", f"{title}: {parameter.en} {values} {mark}.")
                )
                lines.append(_t(lang, f"条文原文：“{quote}”", f"The clause reads: “{quote}”"))
        return lines

    # --- a kind of business, or money for a task ---------------------------------------------------
    def _business(self, frame: Frame, turn: TurnContext, draft: Draft, own: bool = False) -> tuple[str, None] | None:
        """ "我们是蔬菜合作社…有没有说法", "海外仓有补贴吗", "给每家发钱吗": what the document says about
        this kind of business or task, and whether any money is attached to it."""
        if (
            explicit_clause_ids(turn.text, self.corpus)
            or turn.reading.extraction.unassigned
            or any(k.endswith(("_yuan", "_usd", "_cny")) for k in turn.reading.facts)
        ):
            return None  # a clause asked by its id, or figures to compute with
        money = bool(_MONEY_ASKED.search(turn.text))
        unfunded_named = any(t.business and not t.policies for t in frame.terms)
        named = [t for t in turn.reading.topics if t in POLICY_CLAUSES]
        if named and not (money and unfunded_named) and not (frame.terms and _WHAT_FOR_US.search(turn.text)):
            return None  # a subsidy (or the talent policy) is named: its own answer is more precise
        if not money and not own and not _OWN_CASE.search(turn.text) and not _ABOUT_US.search(turn.text):
            return None  # "文件里提到电子合同了吗": a clause lookup, not an owner asking what applies to them
        terms = [t for t in frame.terms if t.business]
        tasks = [c for c in self._lexical_targets(turn) if c.startswith(("二", "四"))] if money else []
        if not terms and not tasks:
            return None
        lang = turn.lang
        per_term = 2 if len(terms) == 1 else 1  # one business: its clauses; several: the first of each
        cids = list(dict.fromkeys([c for t in terms for c in t.clauses[:per_term]] + tasks))[:2]
        cids = [c for c in cids if self.corpus.has(c)]
        policies = list(dict.fromkeys(p for t in terms for p in t.policies if p in POLICY_CLAUSES))
        name_zh = "、".join(t.zh for t in terms) or "、".join(_title_of(self.corpus.get(c), "zh") for c in cids)
        name_en = ", ".join(t.en for t in terms) or ", ".join(_title_of(self.corpus.get(c), "en") for c in cids)
        unfunded = [t for t in terms if not t.policies]
        subsidy_clauses = {c for clauses in POLICY_CLAUSES.values() for c in clauses}
        own_clauses = [t.clauses[0] for t in terms if t.clauses] or tasks
        if money and (unfunded or not any(c in subsidy_clauses for c in own_clauses)):
            if unfunded:  # "海外仓有没有奖励": the most specific word names something no policy pays for
                name_zh, name_en = "、".join(t.zh for t in unfunded), ", ".join(t.en for t in unfunded)
                cids = list(dict.fromkeys([c for t in unfunded for c in t.clauses[:1]] + cids))[:2]
            draft.add(
                _t(
                    lang,
                    f"文件没有规定专门针对{name_zh}的资金补贴或奖励。",
                    f"The document does not specify any subsidy or reward specifically for {name_en} (文件没有规定).",
                )
            )
        else:
            called = "、".join(dict.fromkeys(f"“{t.called}”" for t in terms))
            draft.add(
                _t(
                    lang,
                    f"有相关规定：{name_zh}属于文件所说的{called}。" if called else f"文件中有关于{name_zh}的规定。",
                    f"Yes: the document covers {name_en}.",
                )
            )
        draft.add("", _t(lang, "相关条文：", "The clauses:"))
        for cid in cids:
            own_words = {
                w for w in turn.tokens if len(w) >= 2 and w in self.corpus.get(cid).text and w not in _GENERIC_WORDS
            }
            prefer = "|".join(re.escape(t.called) for t in terms) or None
            quote = self._quote(cid, own_words or turn.tokens, None if own_words else prefer)
            draft.quoted(_title_of(self.corpus.get(cid), lang), cid, quote)
        if policies:
            draft.add(
                "",
                _t(
                    lang,
                    "可能适用的资金政策（须满足各自条件）：",
                    "Funding policies that may apply (each has its own conditions):",
                ),
            )
            for pid in policies:
                cid = POLICY_CLAUSES[pid][-1]
                quote = self._quote(cid, turn.tokens)
                draft.quoted(_title_of(self.corpus.get(POLICY_CLAUSES[pid][0]), lang), cid, quote)
        units = self._contact_units(cids, None)
        draft.add("", _t(lang, f"具体请咨询{_units(units, lang)}。", f"Please ask {_units(units, lang)}."))
        return "policy_answer", None

    # --- chit-chat ---------------------------------------------------------------------------------
    def _chitchat(self, turn: TurnContext, draft: Draft, kind: str) -> tuple[str, None]:
        lang = turn.lang
        opening = {
            "greeting": ("您好！我是北碚电商政策助手。", "Hello! I am the Beibei e-commerce policy assistant."),
            "thanks": ("不客气！还有问题随时问我。", "You're welcome! Ask me anything else about the policy."),
            "help": (
                "我是北碚电商政策助手，只依据北碚府发〔2019〕75号文件及其任务分解表回答。",
                "I am the Beibei e-commerce policy assistant; I answer from document 北碚府发〔2019〕75号 "
                "and its task table only.",
            ),
        }[kind]
        draft.add(_t(lang, *opening))
        draft.add("", _t(lang, "我可以帮您：", "I can:"))
        draft.add(
            *[
                _t(
                    lang,
                    "- 测算补贴金额：总部引进（一次性扶持、租房/购房补贴、贡献奖励）、示范基地/示范企业奖励、"
                    "自建平台、跨境电商；",
                    "- estimate subsidy amounts: headquarters support (one-time, rent, purchase, contribution),"
                    " demonstration rewards, self-built platforms, cross-border e-commerce;",
                ),
                _t(
                    lang,
                    "- 判断您的企业可能符合哪些政策、还缺什么条件；",
                    "- tell you which policies your business may meet and what is still missing;",
                ),
                _t(
                    lang,
                    "- 查询条文原文、牵头单位和责任单位、完成时间和发展目标。",
                    "- quote the clauses, the lead and responsible units, deadlines and targets.",
                ),
            ]
        )
        examples = default_phrasing().example_questions
        shown = examples["en"][:1] if lang == "en" else examples["zh"][:2]
        draft.add(
            "",
            _t(lang, "例如：" + "".join(f"“{q}”" for q in shown), "For example: " + " ".join(f"“{q}”" for q in shown)),
        )
        return "policy_answer", None

    # --- what the document does not say ------------------------------------------------------------
    def _nearest(self, turn: TurnContext, topic: Unspecified | None = None) -> list[str]:
        """The clauses the question is about: its policies, its lay terms, its named clauses, else the
        topic's default."""
        found: list[str] = []
        if topic is not None and topic.prefer == "lexical":
            found += [c for c in self._lexical_targets(turn) if c not in ("文件信息", "前言")][:2]
        if topic is not None and topic.prefer == "topic":
            found += list(topic.nearest[:1])
        for pid, (noun, _en) in AWARD_NOUN.items():  # "拿到的一次性财政扶持…": the policies that award it
            if noun and noun in turn.text:
                found += POLICY_CLAUSES.get(pid, [])[:1]
        for t in turn.reading.topics:
            found += POLICY_CLAUSES.get(t, [])[:1]
        for term in self.lexicon.terms_in(turn.text):
            found += list(term.clauses[:1])
        if not found:
            found = [c for c in self._lexical_targets(turn) if c not in ("文件信息",)][:2]
        if not found and topic is not None:
            found = list(topic.nearest[:1])
        if not found:
            ranked = rank_clauses(turn.text, self.corpus, turn.hits)
            found = [r.clause_id for r in ranked[:1]]
        return [c for c in dict.fromkeys(found) if self.corpus.has(c)][:3]

    def _contact_units(self, cids: list[str], topic: Unspecified | None) -> list[str]:
        if topic is not None and topic.ask != "lead":
            return [topic.ask]
        leads = [self.corpus.get(c).lead_unit for c in cids]
        return list(dict.fromkeys(u for u in leads if u)) or [CONTACT]

    def _unspecified(self, turn: TurnContext, draft: Draft, topic: Unspecified) -> tuple[str, None] | None:
        lang = turn.lang
        cids = self._nearest(turn, topic)
        what_zh, what_en = topic.zh, topic.en
        if topic.subject:
            subject = topic.subject_in(turn.text)
            if not subject:
                return None
            texts = [self.corpus.get(c).text for c in cids + [r for c in cids for r in self.corpus.get(c).related]]
            if any(_mentions(t, subject) for t in texts):
                return None  # "自建平台对投资额有要求吗": the clause does say (附件-11: 项目投资100万元以上)
            what_zh, what_en = f"对{subject}的要求", f"any requirement on “{subject}”"
        draft.add(_t(lang, f"文件没有规定{what_zh}。", f"The document does not specify {what_en} (文件没有规定)."))
        if topic.id == "payment":  # what the clause does say: a one-time award, or a yearly one
            said = [
                (POLICY_TITLES_EN[t] if lang == "en" else POLICY_TITLES[t], AWARD_NOUN[t][lang == "en"])
                for t in turn.reading.topics
                if t in AWARD_NOUN
            ]
            for title, noun in said:
                draft.add(_t(lang, f"条文只写明{title}是“{noun}”。", f"The clause only says {title} is a {noun}."))
        if cids:
            draft.add("", _t(lang, "与此最接近的条文：", "The nearest clauses:"))
            for cid in cids:
                clause = self.corpus.get(cid)
                quote = self._quote(cid, turn.tokens)
                draft.quoted(_title_of(clause, lang), cid, quote)
        units = self._contact_units(cids, topic)
        draft.add("", _t(lang, f"具体请咨询{_units(units, lang)}。", f"Please ask {_units(units, lang)}."))
        return "policy_answer", None

    # --- relation to other documents ---------------------------------------------------------------
    def _relation(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        lang = turn.lang
        text = self.corpus.get("前言").text
        m = re.search(r"《[^》]+》（[^）]*号）", text)
        basis = m.group(0) if m else ""
        quote = self._quote("前言", turn.tokens, re.escape(basis) if basis else None)
        if basis:
            draft.add(
                _t(
                    lang,
                    f"本文件是北碚区根据{basis}文件要求制定的实施意见{draft.cite('前言', quote)}。",
                    f"This document is Beibei District's implementing opinion, issued under {basis} "
                    f"{draft.cite('前言', quote)}.",
                )
            )
        draft.add(_t(lang, f"前言原文：“{quote}”", f"The preamble reads: “{quote}”"))
        draft.add(
            "",
            _t(
                lang,
                f"文件没有规定它与市级政策在适用上的其他关系（如能否同时享受市级扶持），请咨询{CONTACT}。",
                "The document does not specify how it combines with municipal support (文件没有规定); ask "
                "the District Commerce Commission (区商务委).",
            ),
        )
        return "policy_answer", None

    # --- parts and counts --------------------------------------------------------------------------
    def _parts(self) -> dict[str, list[Clause]]:
        parts: dict[str, list[Clause]] = {}
        for c in self.corpus.clauses:
            if c.source == "main" and "、" in _part_of(c):
                parts.setdefault(_part_of(c), []).append(c)
        return parts

    def _part_named(self, text: str) -> str | None:
        parts = self._parts()
        if m := _PART_NUMBER.search(text):
            word = m.group(1) or m.group(2)
            number = _PART_WORDS.get(word.lower(), word)
            return next((p for p in parts if p.startswith(number + "、")), None)
        if m := _HEADINGS.search(text):
            heading = "支持政策" if m.group(0) == "扶持政策" else m.group(0)
            return next((p for p in parts if p.endswith(heading)), None)
        return None

    def _groups(self) -> dict[str, list[Clause]]:
        """Second-level headings ("（三）创新发展农村电子商务") with their clauses."""
        groups: dict[str, list[Clause]] = {}
        for c in self.corpus.clauses:
            path = c.section.split(" > ")
            if c.source == "main" and len(path) >= 2 and path[1].startswith("（"):
                groups.setdefault(path[1], []).append(c)  # （四）加快发展跨境电子商务 is its own group
        return groups

    def _group_named(self, text: str) -> str | None:
        """ "农村电商那部分" names （三）创新发展农村电子商务: its core (4+ characters) is in the question."""
        question = text.replace("电子商务", "电商")
        best, best_len = None, 0
        for heading in self._groups():
            core = re.sub(
                r"^（[一二三四五六七八九十]+）|^(?:大力|加快|创新|提高|壮大|深化|推动)+(?:发展)?", "", heading
            ).replace("电子商务", "电商")
            for length in range(len(core), 3, -1):
                if any(core[i : i + length] in question for i in range(len(core) - length + 1)):
                    if length > best_len:
                        best, best_len = heading, length
                    break
        return best

    def _part(self, turn: TurnContext, draft: Draft) -> tuple[str, None] | None:
        lang = turn.lang
        if len(_PART_NUMBER.findall(turn.text)) > 1:
            return None  # "第二部分、第三部分都讲跨境，有啥区别": the clauses themselves, compared
        part = self._part_named(turn.text)
        if part is not None and _ASPECTS.search(turn.text):
            return self._aspects(turn, draft, part)
        if part is None and (group := self._group_named(turn.text)):
            clauses = self._groups()[group]
            draft.add(_t(lang, f"“{group}”共{len(clauses)}项：", f"“{group}” has {len(clauses)} items:"))
            for c in clauses:
                quote = self._quote(c.clause_id, turn.tokens)
                draft.add(f"- {c.clause_id} **{_title_of(c, lang)}**{draft.cite(c.clause_id, quote)}：“{quote}”")
            return "policy_answer", None
        if part is None:
            if _ANNEX_WORDS.search(turn.text):
                return self._annex_overview(turn, draft)
            return self._structure(turn, draft)
        clauses = self._parts()[part]
        draft.add(
            _t(
                lang,
                f"这一部分是“{part}”，共{len(clauses)}条：",
                f"That part is “{part}”, with {len(clauses)} clauses:",
            )
        )
        for c in clauses:
            quote = self._quote(c.clause_id, turn.tokens)
            draft.add(f"- {c.clause_id} **{_title_of(c, lang)}**{draft.cite(c.clause_id, quote)}：“{quote}”")
        return "policy_answer", None

    def _structure(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        lang = turn.lang
        parts = self._parts()
        annex = [c for c in self.corpus.clauses if c.source == "annex"]
        names = "、".join(parts)
        draft.add(
            _t(
                lang,
                f"正文共{len(parts)}部分：{names}；另附任务分解表（共{len(annex)}项）。",
                f"The main text has {len(parts)} parts ({names}), plus a task table with {len(annex)} rows.",
            )
        )
        for part, clauses in parts.items():
            first = clauses[0]
            quote = self._quote(first.clause_id, turn.tokens)
            titles = "、".join(_title_of(c, lang) for c in clauses)
            draft.add(f"- **{part}**（{len(clauses)}条）：{titles}{draft.cite(first.clause_id, quote)}")
        return "policy_answer", None

    def _annex_overview(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        lang = turn.lang
        annex = [c for c in self.corpus.clauses if c.source == "annex"]
        title = self.corpus.annex_title or "任务分解表"
        draft.add(
            _t(
                lang,
                f"附件是{title}，共{len(annex)}项，逐项列出具体任务、任务内容、牵头单位、责任单位和完成时间。",
                f"The annex is the task table ({title}): {len(annex)} rows, each with the task, its content,"
                " the lead unit, the responsible units and the deadline.",
            )
        )
        for c in annex:
            quote = self._quote(c.clause_id, set())
            draft.add(
                _t(
                    lang,
                    f"- 第{c.clause_id.split('-')[1]}项 {c.title}（牵头：{c.lead_unit}）"
                    f"{draft.cite(c.clause_id, quote)}",
                    f"- Row {c.clause_id.split('-')[1]} {_title_of(c, lang)} "
                    f"(lead: {_unit(c.lead_unit or '', lang)}) {draft.cite(c.clause_id, quote)}",
                )
            )
        return "policy_answer", None

    def _count(self, turn: TurnContext, draft: Draft) -> tuple[str, None] | None:
        """ "一共有几条支持政策", "主要任务有几项", "任务分解表多少项", "文件有几部分"."""
        text = turn.text
        if units_in(text):
            return None  # "区商务委牵头几项任务": that unit's tasks, answered by the unit lookup
        if _LEADS.search(text):
            return self._lead_units(turn, draft)
        if DEADLINE_CUE.search(text) or "完成时间" in text:
            return self._deadline_counts(turn, draft)
        if _ASPECTS.search(text) and (part := self._part_named(text)):
            return self._aspects(turn, draft, part)
        if _ANNEX_WORDS.search(text):
            return self._numbering(turn, draft)
        if re.search(r"部分|part", text, re.IGNORECASE) and not _PART_NUMBER.search(text):
            return self._structure(turn, draft)
        part = self._part_named(text)
        if part is None and re.search(r"政策|补贴|扶持|奖励|polic|subsid|support", text, re.IGNORECASE):
            part = self._part_named("支持政策")
        if part is None and re.search(r"任务|task", text, re.IGNORECASE):
            part = self._part_named("主要任务")
        if part is None:
            return None
        return self._part(turn, draft) if self._part_named(text) else self._part_for(turn, draft, part)

    def _deadline_counts(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """ "完成时间是2022年12月的一共几项": the task table's rows counted by deadline."""
        lang = turn.lang
        rows: dict[str, list[Clause]] = {}
        for c in self.corpus.clauses:
            if c.source == "annex":
                rows.setdefault(c.deadline or "/", []).append(c)
        parts = [
            _t(
                lang,
                f"完成时间为{d}的共{len(cl)}项" if d != "/" else f"未列完成时间（“/”）的共{len(cl)}项",
                f"{len(cl)} rows due {d}" if d != "/" else f"{len(cl)} rows with no deadline (“/”)",
            )
            for d, cl in rows.items()
        ]
        draft.add(_t(lang, "任务分解表中，" + "；".join(parts) + "。", "In the task table: " + "; ".join(parts) + "."))
        for d, clauses in rows.items():
            marks = "".join(draft.cite(c.clause_id, self._quote(c.clause_id, set())) for c in clauses)
            numbers = "、".join(c.clause_id.split("-")[-1] for c in clauses)
            draft.add(_t(lang, f"- {d}：第{numbers}项{marks}", f"- {d}: rows {numbers} {marks}"))
        return "policy_answer", None

    def _lead_units(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """ "当牵头单位的部门一共有几个": every distinct lead unit, with the tasks each leads."""
        lang = turn.lang
        leads: dict[str, list[Clause]] = {}
        for c in self.corpus.clauses:
            if c.source == "main" and c.lead_unit:
                leads.setdefault(c.lead_unit, []).append(c)
        names = ("、" if lang != "en" else "; ").join(_unit(u, lang) for u in leads)
        draft.add(_t(lang, f"文件中的牵头单位共{len(leads)}个：{names}。", f"{len(leads)} units lead tasks: {names}."))
        for unit, clauses in leads.items():
            marks = "".join(
                draft.cite(c.clause_id, self._units_quote(c.clause_id) or self._quote(c.clause_id, set()))
                for c in clauses
            )
            titles = ("、" if lang != "en" else "; ").join(_title_of(c, lang) for c in clauses)
            draft.add(f"- {_unit(unit, lang)}{_t(lang, '：', ': ')}{titles}{marks}")
        return "policy_answer", None

    def _aspects(self, turn: TurnContext, draft: Draft, part: str) -> tuple[str, None]:
        """ "主要任务分了几个方面": the second-level headings of a part."""
        lang = turn.lang
        groups = {h: cl for h, cl in self._groups().items() if cl and _part_of(cl[0]) == part}
        if not groups:
            return self._part_for(turn, draft, part)
        draft.add(
            _t(
                lang,
                f"“{part}”分{len(groups)}个方面：{'、'.join(groups)}。",
                f"Part “{part}” has {len(groups)} areas: {'; '.join(groups)}.",
            )
        )
        for heading, clauses in groups.items():
            marks = "".join(draft.cite(c.clause_id, self._quote(c.clause_id, set())) for c in clauses)
            draft.add(f"- {heading}{_t(lang, '：', ': ')}{'、'.join(_title_of(c, lang) for c in clauses)}{marks}")
        return "policy_answer", None

    def _part_for(self, turn: TurnContext, draft: Draft, part: str) -> tuple[str, None]:
        lang = turn.lang
        clauses = self._parts()[part]
        draft.add(_t(lang, f"共{len(clauses)}条（“{part}”）：", f"{len(clauses)} in all (part “{part}”):"))
        for c in clauses:
            quote = self._quote(c.clause_id, turn.tokens)
            draft.add(f"- {c.clause_id} **{_title_of(c, lang)}**{draft.cite(c.clause_id, quote)}")
        return "policy_answer", None

    # --- definitions -------------------------------------------------------------------------------
    def _definition(self, turn: TurnContext, draft: Draft) -> tuple[str, None] | None:
        """Quote the sentence that uses the term; the document has no definitions section."""
        lang = turn.lang
        m = _DEFINED.search(turn.text)
        term = (m.group("a") or m.group("b") or "").strip("“”\"' ，,") if m else ""
        term = re.sub(r"^(?:文件(?:里|中)?(?:说的|讲的|的)?|这个|那个|所谓的?|政策(?:里)?(?:的)?)", "", term)
        titles = [c.title for c in self.corpus.clauses if c.source == "main" and c.title and len(c.title) >= 4]
        if term and any(t in term or (len(term) >= 3 and term in t) for t in titles):
            return None  # "健全工作机制是指什么": a clause by its title, which the clause lookup answers
        cids = self._nearest(turn)
        hits: list[tuple[str, str]] = []
        candidates = cids + [r for c in cids for r in self.corpus.get(c).related]
        if term and not any(term in self.corpus.get(c).text for c in candidates):
            candidates = [c.clause_id for c in self.corpus.clauses if c.source == "main" and term in c.text][:2]
        for cid in candidates:
            text = self.corpus.get(cid).text
            if term and term in text:
                hits.append((cid, self._matching_span(cid, re.escape(term))))
        if not hits and not cids:
            return None
        if hits:
            cids = list(dict.fromkeys(c for c, _q in hits))
            draft.add(
                _t(
                    lang,
                    f"文件没有规定“{term}”的具体定义（包括哪些、不包括哪些），条文中的表述是：",
                    f"The document does not specify a definition of “{term}” (文件没有规定); the clauses say:",
                )
            )
            for cid, quote in hits[:2]:
                draft.quoted(_title_of(self.corpus.get(cid), lang), cid, quote)
        else:
            content = {
                w for w in turn.tokens if len(w) >= 2 and w not in _GENERIC_WORDS and re.search(r"[\u4e00-\u9fff]", w)
            }
            texts = " ".join(self.corpus.get(c).text for c in cids[:2])
            listed = _WHICH_KINDS.search(turn.text)
            if (content and all(w in texts for w in content)) or listed:
                # "电商楼宇算不算孵化基地", "总部包括哪些机构": the clause itself answers; quote it, no disclaimer
                draft.add(_t(lang, "条文中的表述：", "What the clauses say:"))
                for cid in cids[:2]:
                    quote = self._quote(cid, content or turn.tokens)
                    draft.quoted(_title_of(self.corpus.get(cid), lang), cid, quote)
                return "policy_answer", None
            what = f"“{term}”" if term else "这一概念"
            draft.add(
                _t(
                    lang,
                    f"文件没有规定{what}的定义或认定办法。最接近的条文：",
                    f"The document does not define {what} (文件没有规定). The nearest clauses:",
                )
            )
            for cid in cids[:2]:
                quote = self._quote(cid, turn.tokens)
                draft.quoted(_title_of(self.corpus.get(cid), lang), cid, quote)
        units = self._contact_units(cids, None)
        draft.add(
            "", _t(lang, f"具体认定请咨询{_units(units, lang)}。", f"For how it is applied, ask {_units(units, lang)}.")
        )
        return "policy_answer", None

    # --- a unit's tasks ----------------------------------------------------------------------------
    def _unit_tasks(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """Lead and responsible roles kept apart: "牵头哪些" lists only what the unit leads."""
        lang, text = turn.lang, turn.text
        lead_only = bool(_LEAD_ONLY.search(text)) and not _PART_ONLY.search(text) or bool(_NOT_PART.search(text))
        part_only = bool(_PART_ONLY.search(text)) and not _LEAD_ONLY.search(text) or bool(_NOT_LEAD.search(text))
        for unit in units_in(text)[:2]:
            leads = [c for c in self.corpus.clauses if c.source == "main" and c.lead_unit == unit]
            parts = [c for c in self.corpus.clauses if c.source == "main" and unit in c.responsible_units]
            shown = []
            if not part_only:
                shown.append(("牵头", "leads", leads))
            if not lead_only:
                shown.append(("作为责任单位参与", "is a responsible unit for", parts))
            summary = "；".join(f"{zh}{len(cl)}项" for zh, _en, cl in shown)
            summary_en = "; ".join(f"{en} {len(cl)}" for _zh, en, cl in shown)
            draft.add(_t(lang, f"**{unit}**{summary}：", f"**{_unit(unit, lang)}** {summary_en}:"))
            for zh, en, clauses in shown:
                for c in clauses:
                    marks = draft.cite(c.clause_id, self._units_quote(c.clause_id) or self._quote(c.clause_id, set()))
                    marks += "".join(draft.cite(a, self._units_quote(a) or self._quote(a, set())) for a in c.related)
                    draft.add(
                        _t(
                            lang,
                            f"- {zh}：{c.clause_id} {_title_of(c, lang)}{marks}",
                            f"- {en}: {c.clause_id} {_title_of(c, lang)} {marks}",
                        )
                    )
                if not clauses:
                    draft.add(_t(lang, f"- {zh}：无（文件没有安排该单位{zh}的任务）。", f"- {en}: none."))
            if lead_only and not leads and parts:  # "区供销联社牵头了什么": none, but here is its part
                draft.add(_t(lang, "它作为责任单位参与：", "It is a responsible unit for:"))
                for c in parts:
                    marks = draft.cite(c.clause_id, self._units_quote(c.clause_id) or self._quote(c.clause_id, set()))
                    draft.add(f"- {c.clause_id} {_title_of(c, lang)}{marks}")
        return "policy_answer", None
