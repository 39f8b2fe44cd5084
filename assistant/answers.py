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
from assistant.compose_draft import (
    AWARD_NOUN,
    POLICY_TITLES_EN,
    Draft,
    TurnContext,
    _t,
    _title_of,
    _units,
)
from assistant.compose_structure import GENERIC_WORDS, StructureAnswers
from assistant.intent import explicit_clause_ids
from assistant.lexicon import Unspecified
from assistant.money import parse_numeral
from assistant.phrasing import default_phrasing
from assistant.reading import OWN_STATEMENT, Frame

__all__ = ["FramedAnswers"]

_WHAT_FOR_US = re.compile(
    r"有(?:啥子?|什么|哪些)(?:鼓励|支持|政策|扶持|说法|好处)|(?:鼓励|支持)(?:什么|啥)|what\s+(?:support|help)\s+is\s+there",
    re.IGNORECASE,
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
_ABOUT_US = re.compile(
    r"沾边|有关|相关|提到|说法|咋个说|怎么说|有没有.{0,4}(?:政策|说法|支持)|跟我|对我们|适用|apply\s+to|relevant",
    re.IGNORECASE,
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


class FramedAnswers(StructureAnswers):
    """Planners keyed by ``Frame.ask``; each returns (answer_type, None)."""

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
                w for w in turn.tokens if len(w) >= 2 and w in self.corpus.get(cid).text and w not in GENERIC_WORDS
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
