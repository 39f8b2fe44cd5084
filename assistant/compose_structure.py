"""Planners for questions about the document's shape: its parts and groups, how many tasks or units, deadlines
by count, lead units, aspects, definitions and a unit's tasks. The conclusion (the count, the list, the unit)
comes first, then the verbatim sentence that supports it. A link in the planner chain
(``DocumentAnswers`` → ``StructureAnswers`` → ``FramedAnswers`` → ``MoneyAnswers`` → ``Composer``).
"""

from __future__ import annotations

import re

from assistant.calculator import POLICY_CLAUSES
from assistant.compose_docs import DocumentAnswers
from assistant.compose_draft import AWARD_NOUN, CONTACT, Draft, TurnContext, _t, _title_of, _unit, _units
from assistant.corpus import Clause
from assistant.intent import DEADLINE_CUE, rank_clauses, units_in
from assistant.lexicon import Lexicon, Unspecified

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

_WHICH_KINDS = re.compile(
    r"包括哪些|哪些类型|哪几类|有哪些(?:机构|类型|企业)|what\s+kinds?\s+of|which\s+types?", re.IGNORECASE
)

_NOT_LEAD = re.compile(r"不是牵头|非牵头|不牵头|没有牵头|not\s+(?:the\s+)?lead", re.IGNORECASE)

_NOT_PART = re.compile(r"不是责任单位|非责任单位|not\s+(?:a\s+)?responsible", re.IGNORECASE)

_DEFINED = re.compile(
    r"^(?:请问|问一下|想问)?(?:文件里|文件中|政策里)?(?:的)?(?P<a>.{1,20}?)(?:到底|具体)?(?:是)?(?:怎么认定|怎么界定|怎么理解|如何认定|如何界定|是什么意思|什么意思|指什么|指的是什么|是指什么|的定义|算不算)"
    r"|(?:什么|啥)(?:样的)?(?:才)?(?:算|叫|是)(?P<b>.{1,20}?)(?:[？?。！!]|$)"
)


def _part_of(clause: Clause) -> str:
    return clause.section.split(" > ")[0]


#: Words too common to name a clause or a topic on their own.
GENERIC_WORDS = {"电商", "电子商务", "企业", "政策", "文件", "支持", "发展", "北碚", "我们", "网上"}


class StructureAnswers(DocumentAnswers):
    lexicon: Lexicon  # set by Composer

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
                w for w in turn.tokens if len(w) >= 2 and w not in GENERIC_WORDS and re.search(r"[\u4e00-\u9fff]", w)
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
