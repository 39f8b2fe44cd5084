"""Answers to questions about the document itself: who leads a task, by when, what the targets are, how the
main text and the task table differ, what a clause or the document header says.

A mixin of ``assistant.compose.Composer``; each method writes into a `Draft` and returns
(answer_type, calculation=None). Quotes are verbatim spans chosen by `Quoter`.
"""

from __future__ import annotations

import re

from assistant.calculator import POLICY_CLAUSES
from assistant.compose_annex import AnnexAnswers
from assistant.compose_draft import (
    _SENTENCE,
    CONTACT,
    Draft,
    TurnContext,
    _t,
    _title_of,
    _unit,
    _units,
)
from assistant.intent import (
    DEADLINE_CUE,
    FOLLOWUP_CUE,
    LEAD_CUE,
    MONETARY_POLICIES,
    RESP_CUE,
    SECTION_CUE,
    explicit_clause_ids,
    rank_clauses,
    units_in,
)

_COUNTED = re.compile(r"\d+\s*(?:家|个)以上")
_COUNTED_PHRASE = re.compile(r"[^，。；、“”]{0,24}?\d+\s*(?:家|个)(?:以上)?")
_POINTS_BACK = re.compile(r"这项|该项|这个|这条|那项|那条|这一项|它|\bthis\b|\bit\b", re.IGNORECASE)
_TASK_WORD = re.compile(r"任务|事项|\d+项|各项|每项|tasks?\b|rows?\b", re.IGNORECASE)
_ALL_TASKS = re.compile(r"都|各|全部|所有|每(?:一)?项|整个|文件|\ball\b|\beach\b|\bevery\b", re.IGNORECASE)


class DocumentAnswers(AnnexAnswers):
    """Document questions. The composer supplies ``_general`` (the retrieval answer) as the fallback."""

    def _general(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _targets_or_focus(self, turn: TurnContext) -> list[str]:
        """The question's own clauses; for a short follow-up ("那完成时间呢？", "这项由谁牵头") the clauses the
        previous answer cited; failing both, the best retrieval hit."""
        targets = self._lexical_targets(turn)
        focus = [c for c in turn.state.focus if self.corpus.get(c).source == "main"] or [
            r for c in turn.state.focus for r in self.corpus.get(c).related
        ]
        points_back = bool(_POINTS_BACK.search(turn.text))
        new_subject = bool(targets) and not set(targets) & set(focus) and not points_back
        if focus and not new_subject and (not targets or (FOLLOWUP_CUE.search(turn.text) and len(turn.text) <= 14)):
            return list(dict.fromkeys(focus))[:3]
        if targets:
            return targets
        ranked = rank_clauses(turn.text, self.corpus, turn.hits)
        return [r.clause_id for r in ranked[:1]]

    # --- who / when --------------------------------------------------------------------------------
    def _lookup(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """Lead unit, responsible units (main clause and annex row) and the annex row's deadline."""
        lang, text = turn.lang, turn.text
        targets = [t for t in self._targets_or_focus(turn) if t not in ("文件信息",)]
        wants_deadline = bool(DEADLINE_CUE.search(text))
        # "要求哪年哪月搞完" right after "农产品那块谁牵头": a short question with no subject of its own asks
        # about the subject just answered; "各项任务都什么时候完成" asks about all of them
        continues = FOLLOWUP_CUE.search(text) or (len(text) <= 12 and not _ALL_TASKS.search(text))
        if wants_deadline and not self._lexical_targets(turn) and not (turn.state.focus and continues):
            return self._deadline_overview(turn, draft)
        if (
            not wants_deadline
            and not self._lexical_targets(turn)
            and not units_in(text)
            and _ALL_TASKS.search(text)
            and _TASK_WORD.search(text)
            and LEAD_CUE.search(text)
        ):
            return self._lead_table(turn, draft)  # "所有任务的牵头单位", "lead units of all 13 tasks"
        if not targets:
            return self._general(turn, draft)
        deadline_only = wants_deadline and not (LEAD_CUE.search(text) or RESP_CUE.search(text))
        for cid in targets:
            clause = self.corpus.get(cid)
            annex = [self.corpus.get(a) for a in clause.related]
            title = _title_of(clause, lang)
            if deadline_only and annex:  # only the task table states deadlines: cite it alone
                marks = "".join(draft.cite(a.clause_id, self._quote(a.clause_id, turn.tokens)) for a in annex)
                draft.add(f"**{title}**{marks}：" if lang != "en" else f"**{title}** {marks}:")
                draft.add(*[self._deadline_line(a, lang) for a in annex])
                continue
            units_quote = self._units_quote(cid)
            main_mark = draft.cite(cid, units_quote or self._quote(cid, turn.tokens))
            annex_marks = "".join(draft.cite(a.clause_id, self._quote(a.clause_id, turn.tokens)) for a in annex)
            if clause.lead_unit:
                draft.add(
                    _t(
                        lang,
                        f"**{title}**{main_mark}{annex_marks}：牵头单位为**{clause.lead_unit}**；责任单位："
                        f"{_units(clause.responsible_units, lang)}。",
                        f"**{title}** {main_mark}{annex_marks}: lead unit **{_unit(clause.lead_unit, lang)}**;"
                        f" responsible units: {_units(clause.responsible_units, lang)}.",
                    )
                )
                for a in annex:
                    if a.responsible_units != clause.responsible_units or a.lead_unit != clause.lead_unit:
                        draft.add(
                            _t(
                                lang,
                                f"  - 任务分解表{a.clause_id}所列：牵头单位{a.lead_unit}；"
                                f"责任单位：{_units(a.responsible_units, lang)}。",
                                f"  - The task table row {a.clause_id} lists: lead {_unit(a.lead_unit or '', lang)}"
                                f"; responsible: {_units(a.responsible_units, lang)}.",
                            )
                        )
            else:
                draft.add(
                    _t(
                        lang,
                        f"文件没有规定“{title}”的牵头单位和责任单位{main_mark}；该条属于保障措施，没有对应的任务分解表行。",
                        f"The document does not specify lead or responsible units for “{title}” {main_mark} "
                        "(文件没有规定).",
                    )
                )
            for a in annex:
                draft.add(self._deadline_line(a, lang))
            if not annex and wants_deadline:
                draft.add(
                    _t(
                        lang,
                        "  - 该条在任务分解表中没有对应的行，文件未规定完成时间。",
                        "  - This clause has no row in the task table; no deadline is set.",
                    )
                )
        return "policy_answer", None

    # --- the document's header, targets, clauses ----------------------------------------------------
    def _meta(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """文号, issuer, date, addressees: the 文件信息 sentences the question asks for."""
        cid = "文件信息"
        text = self.corpus.get(cid).text
        wanted = []
        q = turn.text
        if re.search(r"文号|文件号|几号|北碚府发|document\s+number|number", q, re.IGNORECASE):
            wanted.append("文号")
        if re.search(r"哪个单位|哪个部门|发文机关|谁(?:发|印)|issuer|who\s+issued", q, re.IGNORECASE):
            wanted.append("发文机关")
        if re.search(r"哪天|哪一天|什么时候|啥时候|日期|时间|when|date|印发的|issued", q, re.IGNORECASE):
            wanted.append("成文日期")
        if re.search(r"主送|下发|发给|哪些单位|addressee|sent\s+to", q, re.IGNORECASE):
            wanted.append("主送")
        wanted = wanted or ["标题", "文号", "成文日期"]
        spans = [m for m in _SENTENCE.finditer(text) if any(m.group(0).startswith(w) for w in wanted)]
        quote = text[spans[0].start() : spans[-1].end()] if spans else text
        mark = draft.cite(cid, quote)
        lines = [m.group(0) for m in spans] or [text]
        draft.add(_t(turn.lang, "本文件的基本信息：", "Document information:"))
        draft.add(*[f"- {line}" for line in lines])
        if turn.lang == "en":
            draft.add(
                "- (北碚府发〔2019〕75号 = document No. 75 of 2019 of the Beibei District Government, dated "
                "5 December 2019.)"
            )
        draft.add(_t(turn.lang, f"来源：{mark}", f"Source: {mark}"))
        return "policy_answer", None

    def _preamble(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """The basis (渝府发〔2019〕17号) and the role of e-commerce, from the preamble."""
        cid = "前言"
        quote = self._quote(cid, turn.tokens, r"渝府发" if re.search(r"依据|根据|上级|based", turn.text) else None)
        draft.add(
            _t(
                turn.lang,
                f"文件前言写道{draft.cite(cid, quote)}：“{quote}”",
                f"The preamble says {draft.cite(cid, quote)}: “{quote}”",
            )
        )
        return "policy_answer", None

    def _goals_clause(self) -> str:
        """The clause headed 发展目标 (the document's 2022 figures)."""
        return next(c.clause_id for c in self.corpus.clauses if c.source == "main" and c.title == "发展目标")

    def _counted_targets(self) -> list[str]:
        """Main clauses that set a counted target ("培育网商（微商）1000家以上")."""
        return [
            c.clause_id
            for c in self.corpus.clauses
            if c.source == "main" and c.clause_id != self._goals_clause() and _COUNTED.search(c.text)
        ]

    def _targets(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """The 2022 figures of 一(二) and the counted targets of 二, with the annex's wording where it differs."""
        lang = turn.lang
        goals = self._goals_clause()
        target_clauses = (goals, *self._counted_targets())
        ranked = [c for c in self._lexical_targets(turn) if c in target_clauses]
        focused = [
            m for c in turn.state.focus for m in (c, *self.corpus.get(c).related)
        ]  # a deadline answer cites the annex row
        if _POINTS_BACK.search(turn.text) and (focus := list(dict.fromkeys(c for c in focused if c in target_clauses))):
            ranked = focus  # "它要培育多少个": the task the conversation is about
        if not ranked or (
            re.search(r"目标|2022|交易额|零售额|结算|打造成|年份|量化|target|goal", turn.text, re.IGNORECASE)
            and not _POINTS_BACK.search(turn.text)
        ):
            ranked = [goals] + [c for c in ranked if c != goals]
        listing = ranked == [goals] and re.search(
            r"量化|所有|全部|各项|(?:目标|指标)(?:都)?有哪些|哪些(?:目标|指标)|all\s+(?:the\s+)?targets|quantitative|what\s+targets",
            turn.text,
            re.IGNORECASE,
        )
        if listing:
            ranked = list(target_clauses)  # "有哪些目标": the 2022 figures and every counted target in 二
        if len(ranked) == 1 and ranked[0] != goals and lang != "en":
            # "它要培育多少个市场主体": the figure first, then the quotes that state it
            clause = self.corpus.get(ranked[0])
            counted = [m.group(0) for m in _COUNTED_PHRASE.finditer(clause.text)]
            annexed = [m.group(0) for a in clause.related for m in _COUNTED_PHRASE.finditer(self.corpus.get(a).text)]
            if counted:
                differs = [a for a in annexed if a not in counted]
                tail = f"（任务分解表写作“{'、'.join(differs)}”）" if differs else ""
                draft.add(f"{_title_of(clause, lang)}的目标：{'；'.join(counted)}{tail}。", "")
        draft.add(_t(lang, "文件设定的目标：", "Targets set by the document:"))
        for cid in ranked[:5]:
            clause = self.corpus.get(cid)
            if cid == goals:
                quote = self._full(cid)
            elif listing or lang == "en":  # English tokens pick no Chinese sentence: show every counted target
                quote = self._matching_span(cid, r"\d+(?:家|个)")
            else:
                quote = self._quote(cid, turn.tokens, r"\d+(?:家|个)")
            title = _title_of(clause, lang)
            draft.quoted(f"**{title}**", cid, quote)
            for a in clause.related:
                annex_quote = self._quote(a, turn.tokens, r"\d+(?:家|个)")
                if annex_quote not in quote:
                    draft.add(
                        _t(
                            lang,
                            f"  - 任务分解表{a}写作{draft.cite(a, annex_quote)}：“{annex_quote}”",
                            f"  - The task table row {a} reads {draft.cite(a, annex_quote)}: “{annex_quote}”",
                        )
                    )
        return "policy_answer", None

    def _clause(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """ "三(四)说了什么", "附件11是什么": the clause in full, with its counterpart."""
        lang = turn.lang
        for cid in explicit_clause_ids(turn.text, self.corpus)[:3]:
            clause = self.corpus.get(cid)
            quote = self._full(cid)
            title = _title_of(clause, lang)
            if clause.source == "annex":
                draft.add(
                    _t(
                        lang,
                        f"任务分解表第{cid.split('-')[1]}项“{clause.title}”{draft.cite(cid, quote)}：“{quote}”",
                        f"Task table row {cid.split('-')[1]} “{clause.title}” {draft.cite(cid, quote)}: “{quote}”",
                    )
                )
                draft.add(
                    _t(
                        lang,
                        f"- 牵头单位：{clause.lead_unit}；责任单位：{_units(clause.responsible_units, lang)}。",
                        f"- Lead unit: {_unit(clause.lead_unit or '', lang)}; "
                        f"responsible: {_units(clause.responsible_units, lang)}.",
                    )
                )
                draft.add(self._deadline_line(clause, lang).strip())
                for m in clause.related:
                    draft.add(
                        _t(
                            lang,
                            f"- 对应正文：{m}{draft.cite(m, self._quote(m, turn.tokens))}",
                            f"- Main text: {m} {draft.cite(m, self._quote(m, turn.tokens))}",
                        )
                    )
            else:
                draft.add(f"**{cid} {title}**{draft.cite(cid, quote)}：“{quote}”")
                for a in clause.related:
                    annex_quote = self._full(a)
                    draft.add(
                        _t(
                            lang,
                            f"- 任务分解表对应行{draft.cite(a, annex_quote)}：“{annex_quote}”",
                            f"- Task table row {draft.cite(a, annex_quote)}: “{annex_quote}”",
                        )
                    )
        return "policy_answer", None

    # --- validity, applying, parts of the document --------------------------------------------------
    def _validity(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """The document states no period of validity: say what it does state and where to confirm."""
        lang = turn.lang
        info = self.corpus.get("文件信息").text
        date = next((m.group(0) for m in _SENTENCE.finditer(info) if m.group(0).startswith("成文日期")), info[:40])
        annex = [c for c in self.corpus.clauses if c.source == "annex"]
        dated = next((c for c in annex if c.deadline), None)
        undated = next((c for c in annex if not c.deadline), None)
        draft.add(
            _t(
                lang,
                "文件没有规定有效期或失效时间。文件写明的时间信息：",
                "The document does not specify a period of validity (文件没有规定). What it does state:",
            )
        )
        draft.add(f"- {date}{draft.cite('文件信息', date)}")
        if dated:
            dated_mark = draft.cite(dated.clause_id, self._quote(dated.clause_id, set()))
            draft.add(
                _t(
                    lang,
                    f"- 任务分解表中主要任务的完成时间为{dated.deadline}{dated_mark}。",
                    f"- The main tasks in the task table were due {dated.deadline} {dated_mark}.",
                )
            )
        if undated:
            undated_mark = draft.cite(undated.clause_id, self._quote(undated.clause_id, set()))
            draft.add(
                _t(
                    lang,
                    f"- 支持政策各项在任务分解表中未列完成时间（“/”）{undated_mark}。",
                    f"- The support-policy rows list no deadline (“/”) {undated_mark}.",
                )
            )
        draft.add(
            "",
            _t(
                lang,
                f"该政策现在是否仍然有效、是否已被修订或替代，请向{CONTACT}确认。",
                "Whether the policy still applies or has been amended or replaced must be confirmed with "
                "the District Commerce Commission (区商务委).",
            ),
        )
        return "policy_answer", None

    def _apply(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """No procedure is in the document; name the lead unit of each support policy concerned."""
        lang = turn.lang
        topics = [t for t in turn.reading.topics if t in POLICY_CLAUSES] or list(MONETARY_POLICIES) + ["talent"]
        mains = list(dict.fromkeys(POLICY_CLAUSES[t][0] for t in topics))
        draft.add(
            _t(
                lang,
                "文件没有规定申请程序、申请材料和受理时间。各项支持政策的牵头单位如下，请向其咨询办理：",
                "The document sets no application procedure or documents. Ask the lead unit of the policy concerned:",
            )
        )
        for cid in mains:
            clause = self.corpus.get(cid)
            mark = draft.cite(cid, self._units_quote(cid) or self._quote(cid, set()))
            draft.add(f"- {_title_of(clause, lang)}{mark}：{_unit(clause.lead_unit or CONTACT, lang)}")
        return "policy_answer", None

    def _section(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """ "保障措施有哪些": every clause of that part, with its first sentence."""
        lang = turn.lang
        heading = SECTION_CUE.search(turn.text).group(1)  # type: ignore[union-attr]
        clauses = [c for c in self.corpus.clauses if c.source == "main" and c.section.split(" > ")[0].endswith(heading)]
        part = clauses[0].section.split(" > ")[0] if clauses else heading
        draft.add(_t(lang, f"“{part}”共{len(clauses)}条：", f"Part “{part}” has {len(clauses)} clauses:"))
        for c in clauses:
            quote = self._quote(c.clause_id, turn.tokens)
            draft.add(f"- {c.clause_id} **{_title_of(c, lang)}**{draft.cite(c.clause_id, quote)}：“{quote}”")
        return "policy_answer", None
