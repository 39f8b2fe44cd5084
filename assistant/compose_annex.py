"""Answers about the task table (任务分解表): lead units and deadlines across its rows, a unit's tasks, and where
the table and the main text disagree or are numbered differently. The table's rows are the annex clauses; the
disagreements are the curated ones in ``corpus/discrepancies.yaml``.

The first link of the document planners (``AnnexAnswers`` → ``DocumentAnswers`` → ``StructureAnswers`` …).
"""

from __future__ import annotations

from typing import Any

from assistant.compose_draft import (
    Draft,
    Quoter,
    TurnContext,
    _t,
    _title_of,
    _unit,
)
from assistant.corpus import Clause
from assistant.intent import (
    DEADLINE_CUE,
    FOLLOWUP_CUE,
    NUMBERING_CUE,
    rank_clauses,
    units_in,
)


class AnnexAnswers(Quoter):
    """Task-table planners; each writes into a `Draft` and returns (answer_type, None)."""

    # --- which clauses a question is about ---------------------------------------------------------
    def _lexical_targets(self, turn: TurnContext) -> list[str]:
        """Main clauses named by explicit id, title or alias (not by retrieval), best first, at most 3."""
        ranked = rank_clauses(turn.text, self.corpus)
        if not ranked:
            return []
        top = ranked[0].score
        return [r.clause_id for r in ranked if r.score >= max(5.0, 0.6 * top)][:3]

    @staticmethod
    def _deadline_line(annex: Clause, lang: str) -> str:
        if annex.deadline:
            deadline_en = annex.deadline.replace("2022年12月", "December 2022 (2022年12月)")
            return _t(
                lang,
                f"  - 完成时间（任务分解表{annex.clause_id}）：**{annex.deadline}**。",
                f"  - Deadline (task table row {annex.clause_id}): **{deadline_en}**.",
            )
        return _t(
            lang,
            f"  - 完成时间（任务分解表{annex.clause_id}）：表中为“/”，未列完成时间。",
            f"  - Deadline (task table row {annex.clause_id}): the table shows “/”, i.e. no deadline is stated.",
        )

    def _lead_table(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """Every row of the task table with its lead unit: the list first, counted by unit."""
        lang = turn.lang
        annex = [c for c in self.corpus.clauses if c.source == "annex"]
        counts: dict[str, int] = {}
        for c in annex:
            counts[c.lead_unit or "/"] = counts.get(c.lead_unit or "/", 0) + 1
        summary = ("、" if lang != "en" else "; ").join(
            _t(lang, f"{u}{n}项", f"{_unit(u, lang)} {n}") for u, n in counts.items()
        )
        draft.add(
            _t(
                lang,
                f"任务分解表{len(annex)}项任务的牵头单位：{summary}。",
                f"Lead units of the task table's {len(annex)} rows: {summary}.",
            ),
            "",
        )
        for c in annex:
            title = _title_of(self.corpus.get(c.related[0]), lang) if c.related else c.title
            mark = draft.cite(c.clause_id, self._units_quote(c.clause_id) or self._quote(c.clause_id, set()))
            draft.add(
                _t(
                    lang,
                    f"- 第{c.clause_id.split('-')[-1]}项 {title}：{c.lead_unit}{mark}",
                    f"- Row {c.clause_id.split('-')[-1]} {title}: {_unit(c.lead_unit or '', lang)} {mark}",
                )
            )
        return "policy_answer", None

    def _deadline_overview(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """No task named: the task table's deadlines at a glance (the main text states none)."""
        lang = turn.lang
        annex = [c for c in self.corpus.clauses if c.source == "annex"]
        dated = [c for c in annex if c.deadline]
        undated = [c for c in annex if not c.deadline]
        draft.add(
            _t(
                lang,
                "正文各条没有写完成时间；完成时间只见于任务分解表：",
                "The main text sets no deadlines; they appear only in the task table:",
            )
        )
        if dated:
            marks = "".join(draft.cite(c.clause_id, self._quote(c.clause_id, set())) for c in dated)
            draft.add(
                _t(
                    lang,
                    f"- 第1至{len(dated)}项（主要任务）{marks}：完成时间均为**{dated[0].deadline}**。",
                    f"- Rows 1–{len(dated)} (main tasks) {marks}: due **{dated[0].deadline}**.",
                )
            )
        if undated:
            marks = "".join(draft.cite(c.clause_id, self._quote(c.clause_id, set())) for c in undated)
            draft.add(
                _t(
                    lang,
                    f"- 第{len(dated) + 1}至{len(annex)}项（支持政策）{marks}：完成时间栏为“/”，未列完成时间。",
                    f"- Rows {len(dated) + 1}–{len(annex)} (support policies) {marks}: the column shows “/”,"
                    " no deadline.",
                )
            )
        return "policy_answer", None

    def _unit_tasks(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """ "区供销联社负责哪项任务": every clause the unit leads or is responsible for."""
        lang = turn.lang
        for unit in units_in(turn.text)[:2]:
            lead = [c for c in self.corpus.clauses if c.source == "main" and c.lead_unit == unit]
            part = [c for c in self.corpus.clauses if c.source == "main" and unit in c.responsible_units]
            draft.add(_t(lang, f"**{unit}**在本文件中：", f"**{_unit(unit, lang)}** in this document:"))
            for label_zh, label_en, clauses in (
                ("牵头", "leads", lead),
                ("作为责任单位参与", "is a responsible unit for", part),
            ):
                for c in clauses:
                    marks = draft.cite(c.clause_id, self._units_quote(c.clause_id) or self._quote(c.clause_id, set()))
                    title = _title_of(c, lang)
                    draft.add(_t(lang, f"- {label_zh}：{title}{marks}", f"- {label_en}: {title} {marks}"))
            if not lead and not part:
                draft.add(_t(lang, "- 文件未给该单位分派任务。", "- The document assigns it no task."))
        return "policy_answer", None

    # --- main text vs task table -------------------------------------------------------------------
    def _discrepancy(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """The recorded discrepancies (``corpus.discrepancies``) of the clauses asked about, or all of them,
        each citing both sides; plus whether lead and responsible units agree."""
        lang, text = turn.lang, turn.text
        if DEADLINE_CUE.search(text) and not self._lexical_targets(turn):
            return self._deadline_overview(turn, draft)
        if NUMBERING_CUE.search(text):
            return self._numbering(turn, draft)
        targets = self._lexical_targets(turn)
        if not targets and FOLLOWUP_CUE.search(text):
            targets = [c for c in turn.state.focus if self.corpus.get(c).source == "main"]
        targets = [t for t in targets if t not in ("文件信息", "前言")]
        if not targets:
            draft.add(
                _t(
                    lang,
                    "正文与任务分解表（附件）的不一致之处：",
                    "Differences between the main text and the task table (annex):",
                )
            )
            for d in self.corpus.discrepancies:
                draft.add(self._discrepancy_line(draft, d))
            return "policy_answer", None
        for cid in targets:
            clause = self.corpus.get(cid)
            title = _title_of(clause, lang)
            if not clause.related:
                mark = draft.cite(cid, self._quote(cid, turn.tokens))
                rows = [
                    c.clause_id
                    for c in self.corpus.clauses
                    if c.source == "annex" and c.related and c.related[0].startswith("三")
                ]
                draft.add(
                    _t(
                        lang,
                        f"**{title}**{mark}：任务分解表中没有对应的行（表中“支持政策”部分只有{'、'.join(rows)}）。",
                        f"**{title}** {mark}: the task table has no corresponding row (its support-policy "
                        f"rows are {', '.join(rows)}).",
                    )
                )
                continue
            found = self.corpus.discrepancies_for(cid)
            draft.add(
                _t(
                    lang,
                    f"**{title}**（正文{cid} 与 任务分解表{'、'.join(clause.related)}）：",
                    f"**{title}** (main text {cid} vs task table {', '.join(clause.related)}):",
                )
            )
            if found:
                draft.add(*[self._discrepancy_line(draft, d) for d in found])
            else:
                marks = draft.cite(cid, self._quote(cid, turn.tokens)) + "".join(
                    draft.cite(a, self._quote(a, turn.tokens)) for a in clause.related
                )
                draft.add(_t(lang, f"- 两处表述一致，未发现差异{marks}。", f"- The two texts agree {marks}."))
            for a in clause.related:
                annex = self.corpus.get(a)
                same_lead = annex.lead_unit == clause.lead_unit
                same_units = annex.responsible_units == clause.responsible_units
                same_set = set(annex.responsible_units) == set(clause.responsible_units)
                units_zh = "相同" if same_units else ("相同但顺序不同" if same_set else "不同")
                draft.add(
                    _t(
                        lang,
                        f"- 牵头单位：正文为{clause.lead_unit}，附件为{annex.lead_unit}"
                        f"（{'一致' if same_lead else '不一致'}）；责任单位{units_zh}。",
                        f"- Lead unit: main text {_unit(clause.lead_unit or '', lang)}, "
                        f"annex {_unit(annex.lead_unit or '', lang)} ({'same' if same_lead else 'different'}); "
                        f"responsible units are {'the same' if same_units else 'listed differently'}.",
                    )
                )
        return "policy_answer", None

    def _disc_quote(self, cid: str, quote: str | None) -> str:
        text = self.corpus.get(cid).text
        return quote if quote and quote in text else self._quote(cid, set())

    def _discrepancy_line(self, draft: Draft, d: Any) -> str:
        main = draft.cite(d.main_clause_id, self._disc_quote(d.main_clause_id, d.main_quote))
        annex = draft.cite(d.annex_clause_id, self._disc_quote(d.annex_clause_id, d.annex_quote))
        return f"- {d.description}{main}{annex}"

    def _numbering(self, turn: TurnContext, draft: Draft) -> tuple[str, None]:
        """How the task table's groups and rows map onto the main text's numbering."""
        lang = turn.lang
        groups: dict[str, list[Clause]] = {}
        for c in self.corpus.clauses:
            if c.source == "annex":
                groups.setdefault(c.section.split(" > ")[1] if " > " in c.section else "", []).append(c)
        total = sum(len(g) for g in groups.values())
        draft.add(
            _t(
                lang,
                f"任务分解表共{total}项，分为{len(groups)}组；与正文编号的对应关系：",
                f"The task table has {total} rows in {len(groups)} groups; how they map onto the main text:",
            )
        )
        for group, rows in groups.items():
            mains = [self.corpus.get(r.related[0]) for r in rows if r.related]
            main_part = mains[0].section.split(" > ")[0] if mains else ""
            pairs = "；".join(
                f"第{r.clause_id.split('-')[1]}项{draft.cite(r.clause_id, self._quote(r.clause_id, set()))}"
                f"对应正文{m.clause_id}{draft.cite(m.clause_id, self._quote(m.clause_id, set()))}"
                for r, m in zip(rows, mains)
            )
            draft.add(f"- 任务分解表“{group}”↔ 正文“{main_part}”：{pairs}。")
        orphans = [
            c for c in self.corpus.clauses if c.source == "main" and c.clause_id.startswith("三") and not c.related
        ]
        if orphans:
            marks = "".join(draft.cite(c.clause_id, self._quote(c.clause_id, set())) for c in orphans)
            draft.add(
                _t(
                    lang,
                    f"- 正文{'、'.join(c.clause_id for c in orphans)}{marks}在任务分解表中没有对应的行，因此表中“支"
                    "持政策”的序号与正文“三、支持政策”的序号不一一对应。",
                    f"- Main-text clauses {', '.join(c.clause_id for c in orphans)} {marks} have no rows "
                    "in the table, so the numbering of the support policies (支持政策) differs.",
                )
            )
        return "policy_answer", None
