"""The Tk window 绩效评价助手: presentation only. Every button calls a ``Controller`` method on
a worker thread; the worker puts progress lines and the final ``Outcome`` on a queue that the
Tk thread polls with ``after()``, so the window never freezes and Tk is only touched from
its own thread. Messages are Chinese dialogs; unexpected errors are logged to the temp
folder (see controller.log_unexpected), never shown as a traceback.

Drag and drop: Tk has no native file drop without the tkdnd extension (not in the standard
library), so the window does not take drops; dropping a workbook on the desktop shortcut
(.lnk / .desktop with %f) opens it, since the launcher takes the workbook as its argument.
"""

from __future__ import annotations

import queue
import threading
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from tkinter import font as tkfont

from perfeval_xl.catalogue import DEFAULT_PRESET, PRESETS
from perfeval_xl.gui import controller as C
from perfeval_xl.gui.fonts import pick_ui_family

INDICATOR_COLUMNS = [  # (key, heading, sample text for the width, stretch)
    ("level1", "一级指标", "一级指标", False),
    ("level2", "二级指标", "职责履行职责", False),
    ("name", "三级指标", "“三公经费”控制率（个）", False),
    ("weight", "分值", "分值分", False),
    ("value", "实际值", "100.00%优", False),
    ("score", "得分", "得分分", False),
    ("note", "扣分原因", "实际值98.29%，为目标值100%的98.29%，得2.95分，扣0.05分", True),
]
PROBLEM_COLUMNS = [
    ("severity", "严重程度", "严重程度", False),
    ("location", "位置", "'预算执行'!C10", False),
    ("message", "说明", "本年实际支出与基本支出、项目支出之和不一致", True),
]
PRESET_NAMES = {"mof2013": "mof2013（财预〔2013〕53号框架，默认）", "hunan": "hunan（湖南样式）",
                "perf2020": "perf2020（财预〔2020〕10号样式）"}
POLL_MS = 80


class Dialogs:
    """Chinese message boxes; tests pass a recorder with the same methods instead."""

    def __init__(self, parent):
        self.parent = parent

    def info(self, text: str) -> None:
        messagebox.showinfo(C.TITLE, text, parent=self.parent)

    def warning(self, text: str) -> None:
        messagebox.showwarning(C.TITLE, text, parent=self.parent)

    def error(self, text: str) -> None:
        messagebox.showerror(C.TITLE, text, parent=self.parent)

    def ask(self, text: str) -> bool:
        return messagebox.askyesno(C.TITLE, text, parent=self.parent)


def setup_fonts(root: tk.Tk) -> str | None:
    """Give Tk's named fonts a CJK-capable family; returns the family chosen."""
    family = pick_ui_family(tkfont.families(root))
    size = 10
    for name in ("TkDefaultFont", "TkTextFont", "TkMenuFont", "TkHeadingFont", "TkCaptionFont",
                 "TkSmallCaptionFont", "TkIconFont", "TkTooltipFont"):
        try:
            f = tkfont.nametofont(name, root=root)
        except tk.TclError:
            continue
        if family:
            f.configure(family=family)
        f.configure(size=size)
    tkfont.nametofont("TkHeadingFont", root=root).configure(weight="bold")
    return family


class App:
    """The main window. ``controller`` and ``dialogs`` can be replaced (tests)."""

    def __init__(self, root: tk.Tk, controller: C.Controller | None = None,
                 dialogs=None, workbook: str | Path | None = None):
        self.root = root
        self.controller = controller or C.Controller()
        self.dialogs = dialogs or Dialogs(root)
        self.queue: queue.Queue = queue.Queue()
        self.worker: threading.Thread | None = None
        self.last_outcome: C.Outcome | None = None
        self.workbook: Path | None = None
        self.font_family = setup_fonts(root)
        root.title(C.TITLE)
        root.report_callback_exception = self._callback_error
        root.protocol("WM_DELETE_WINDOW", self.close)
        self._build()
        self._refresh_recent()
        if workbook:
            self.set_workbook(Path(workbook))
        root.after(POLL_MS, self._poll)

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        root = self.root
        base = tkfont.nametofont("TkDefaultFont", root=root)
        line = base.metrics("linespace")
        style = ttk.Style(root)
        style.configure("Treeview", rowheight=int(line * 1.45))
        big = base.copy()
        big.configure(size=15, weight="bold")
        self._big_font = big
        style.configure("Big.TLabel", font=big)
        style.configure("Grade.TLabel", font=big, foreground="#1a5fb4")
        style.configure("Fix.TLabel", foreground="#a51d2d")

        outer = ttk.Frame(root, padding=8)
        outer.grid(row=0, column=0, sticky="nsew")
        root.columnconfigure(0, weight=1)
        root.rowconfigure(0, weight=1)
        outer.columnconfigure(0, weight=1)

        # Workbook chooser and recent workbooks.
        top = ttk.Frame(outer)
        top.grid(row=0, column=0, sticky="ew")
        top.columnconfigure(1, weight=1)
        ttk.Label(top, text="工作簿：").grid(row=0, column=0, sticky="w")
        self.path_var = tk.StringVar(value="（未选择，请点击“选择工作簿…”）")
        ttk.Entry(top, textvariable=self.path_var, state="readonly").grid(
            row=0, column=1, sticky="ew", padx=4)
        self.choose_button = ttk.Button(top, text="选择工作簿…", command=self.choose_workbook)
        self.choose_button.grid(row=0, column=2, padx=2)
        self.recent_button = ttk.Menubutton(top, text="最近使用")
        self.recent_menu = tk.Menu(self.recent_button, tearoff=False)
        self.recent_button["menu"] = self.recent_menu
        self.recent_button.grid(row=0, column=3, padx=2)

        # The ribbon's buttons, then the two that make a workbook.
        bar = ttk.Frame(outer, padding=(0, 6))
        bar.grid(row=1, column=0, sticky="ew")
        self.buttons: dict[str, ttk.Button] = {}
        specs = [("score", self.do_score), ("check", self.do_check),
                 ("report", self.do_report), ("pdf", self.do_pdf),
                 ("folder", self.do_folder), ("help", self.show_help),
                 ("new", self.do_new), ("adopt", self.do_adopt)]
        for n, (key, cmd) in enumerate(specs):
            text = "使用说明" if key == "help" else C.ACTION_LABELS[key]
            b = ttk.Button(bar, text=text, command=cmd)
            b.grid(row=0, column=n + (1 if n >= 6 else 0), padx=2)
            self.buttons[key] = b
        ttk.Separator(bar, orient="vertical").grid(row=0, column=6, sticky="ns", padx=6)

        mode = ttk.Frame(outer)
        mode.grid(row=2, column=0, sticky="w")
        ttk.Label(mode, text="计算得分写入：").grid(row=0, column=0)
        self.in_place = tk.BooleanVar(value=False)
        ttk.Radiobutton(mode, text="评分副本（原文件名加“_已评分”，原文件不变）",
                        variable=self.in_place, value=False).grid(row=0, column=1, padx=4)
        ttk.Radiobutton(mode, text="直接写回原文件（先自动备份）",
                        variable=self.in_place, value=True).grid(row=0, column=2, padx=4)

        # Result: unit, total, grade.
        res = ttk.Frame(outer, padding=(0, 8, 0, 4))
        res.grid(row=3, column=0, sticky="ew")
        res.columnconfigure(1, weight=1)
        self.unit_label = ttk.Label(res, text="单位：—")
        self.unit_label.grid(row=0, column=0, columnspan=2, sticky="w")
        ttk.Label(res, text="总分").grid(row=0, column=2, padx=(12, 2))
        self.total_label = ttk.Label(res, text="—", style="Big.TLabel")
        self.total_label.grid(row=0, column=3)
        ttk.Label(res, text="分　等级").grid(row=0, column=4, padx=(2, 2))
        self.grade_label = ttk.Label(res, text="—", style="Grade.TLabel")
        self.grade_label.grid(row=0, column=5)

        panes = ttk.PanedWindow(outer, orient="vertical")
        panes.grid(row=4, column=0, sticky="nsew")
        outer.rowconfigure(4, weight=1)
        ind_frame = ttk.Labelframe(panes, text="指标得分", padding=4)
        self.tree = self._table(ind_frame, INDICATOR_COLUMNS, height=12)
        self.tree.bind("<<TreeviewSelect>>", self._indicator_selected)
        self.detail_var = tk.StringVar(value="")
        ttk.Label(ind_frame, textvariable=self.detail_var, wraplength=1000).grid(
            row=2, column=0, columnspan=2, sticky="w", pady=(4, 0))
        panes.add(ind_frame, weight=3)
        prob_frame = ttk.Labelframe(panes, text="问题列表（点击一条查看要修改的单元格）", padding=4)
        self.problems = self._table(prob_frame, PROBLEM_COLUMNS, height=5)
        self.problems.bind("<<TreeviewSelect>>", self._problem_selected)
        self.problems.tag_configure("错误", foreground="#a51d2d")
        self.problems.tag_configure("警告", foreground="#9c6500")
        self.fix_var = tk.StringVar(value="")
        self.fix_label = ttk.Label(prob_frame, textvariable=self.fix_var, wraplength=1000)
        self.fix_label.grid(row=2, column=0, columnspan=2, sticky="w", pady=(4, 0))
        panes.add(prob_frame, weight=2)

        status = ttk.Frame(outer, padding=(0, 6, 0, 0))
        status.grid(row=5, column=0, sticky="ew")
        status.columnconfigure(0, weight=1)
        self.progress_var = tk.StringVar(value="就绪。")
        ttk.Label(status, textvariable=self.progress_var).grid(row=0, column=0, sticky="w")
        # Shown only while a worker runs (a stopped indeterminate bar keeps a stray chunk).
        self.progressbar = ttk.Progressbar(status, mode="indeterminate", length=160)
        self.progressbar.grid(row=0, column=1, sticky="e")
        self.progressbar.grid_remove()

        width = sum(base.measure(sample) + 24 for _, _, sample, _ in INDICATOR_COLUMNS)
        root.geometry(f"{min(max(960, width + 60), root.winfo_screenwidth() - 40)}x"
                      f"{min(max(660, line * 40), root.winfo_screenheight() - 60)}")
        root.minsize(720, 480)

    def _table(self, frame, columns, height: int) -> ttk.Treeview:
        base = tkfont.nametofont("TkDefaultFont", root=self.root)
        tree = ttk.Treeview(frame, columns=[c[0] for c in columns], show="headings",
                            height=height, selectmode="browse")
        for key, heading, sample, stretch in columns:
            tree.heading(key, text=heading, anchor="w")
            tree.column(key, width=base.measure(sample) + 20, minwidth=base.measure(heading) + 16,
                        stretch=stretch, anchor="w")
        ys = ttk.Scrollbar(frame, orient="vertical", command=tree.yview)
        xs = ttk.Scrollbar(frame, orient="horizontal", command=tree.xview)
        tree.configure(yscrollcommand=ys.set, xscrollcommand=xs.set)
        tree.grid(row=0, column=0, sticky="nsew")
        ys.grid(row=0, column=1, sticky="ns")
        xs.grid(row=1, column=0, sticky="ew")
        frame.columnconfigure(0, weight=1)
        frame.rowconfigure(0, weight=1)
        return tree

    # ------------------------------------------------------------------ workbook

    def set_workbook(self, path: Path) -> None:
        path = Path(path).absolute()
        if path != self.workbook:
            self._clear_result()
        self.workbook = path
        self.path_var.set(str(path))
        self.controller.remember(path)
        self._refresh_recent()

    def choose_workbook(self) -> None:
        initial = str(self.workbook.parent) if self.workbook else None
        name = filedialog.askopenfilename(
            parent=self.root, title="选择自评表工作簿", initialdir=initial,
            filetypes=[("Excel 工作簿", "*.xlsx *.xlsm"), ("所有文件", "*")])
        if name:
            self.set_workbook(Path(name))

    def _refresh_recent(self) -> None:
        self.recent_menu.delete(0, "end")
        items = [p for p in self.controller.recent() if p.exists()]
        for p in items:
            self.recent_menu.add_command(label=str(p), command=lambda p=p: self.set_workbook(p))
        if not items:
            self.recent_menu.add_command(label="（暂无）", state="disabled")

    # ------------------------------------------------------------------ actions

    def _need_workbook(self) -> Path | None:
        if self.workbook is None:
            self.dialogs.info("请先点击“选择工作簿…”选择自评表。")
        return self.workbook

    def do_score(self) -> None:
        wb = self._need_workbook()
        if wb is None:
            return
        in_place = bool(self.in_place.get())
        if in_place and not self.controller.busy and not self.dialogs.ask(
                f"将把得分直接写回原文件：\n{wb}\n写入前会自动备份（文件名加 .bak-1 等）。是否继续？"):
            return
        self._start(self.controller.score, wb, in_place=in_place)

    def do_check(self) -> None:
        wb = self._need_workbook()
        if wb is not None:
            self._start(self.controller.check, wb)

    def do_report(self) -> None:
        wb = self._need_workbook()
        if wb is not None:
            self._start(self.controller.report, wb)

    def do_pdf(self) -> None:
        wb = self._need_workbook()
        if wb is not None:
            self._start(self.controller.report, wb, pdf=True)

    def do_folder(self) -> None:
        wb = self._need_workbook()
        if wb is not None:
            self._start(self.controller.folder, wb)

    def do_adopt(self) -> None:
        name = filedialog.askopenfilename(
            parent=self.root, title="选择县财政局下发的自评表",
            filetypes=[("Excel 工作簿", "*.xlsx *.xlsm"), ("所有文件", "*")])
        if name:
            self._start(self.controller.adopt, Path(name))

    def do_new(self) -> NewDialog:
        return NewDialog(self)

    def show_help(self) -> tk.Toplevel:
        win = tk.Toplevel(self.root)
        win.title("使用说明 - " + C.TITLE)
        win.transient(self.root)
        text = tk.Text(win, wrap="char", width=70, height=22, padx=10, pady=8,
                       font=tkfont.nametofont("TkDefaultFont", root=self.root))
        text.insert("1.0", C.HELP_TEXT)
        text.configure(state="disabled")
        text.grid(row=0, column=0, sticky="nsew")
        ttk.Button(win, text="关闭", command=win.destroy).grid(row=1, column=0, pady=6)
        win.columnconfigure(0, weight=1)
        win.rowconfigure(0, weight=1)
        self.help_window = win
        return win

    def _start(self, fn, *args, **kwargs) -> None:
        if self.controller.busy:
            # The controller refuses at once (no work is done) with its Chinese message.
            self._apply(fn(*args, **kwargs))
            return

        def progress(text: str) -> None:
            self.queue.put(("progress", text))

        def work() -> None:
            try:
                outcome = fn(*args, progress=progress, **kwargs)
            except BaseException as exc:  # the controller catches; this is the last resort
                message, log = C.log_unexpected(exc)
                outcome = C.Outcome("?", C.EXIT_UNUSABLE, message, log=log)
            self.queue.put(("done", outcome))

        self.progress_var.set("正在处理…")
        self.progressbar.grid()
        self.progressbar.start(12)
        self.root.configure(cursor="watch")
        self.worker = threading.Thread(target=work, name="perfeval-gui-worker", daemon=True)
        self.worker.start()

    @property
    def idle(self) -> bool:
        """No worker running and every message from it shown (tests pump until idle)."""
        return (self.worker is None or not self.worker.is_alive()) and self.queue.empty()

    def _poll(self) -> None:
        try:
            while True:
                kind, payload = self.queue.get_nowait()
                if kind == "progress":
                    self.progress_var.set(payload)
                else:
                    self._finish(payload)
        except queue.Empty:
            pass
        try:
            self.root.after(POLL_MS, self._poll)
        except tk.TclError:  # window closed
            pass

    def _finish(self, outcome: C.Outcome) -> None:
        self.progressbar.stop()
        self.progressbar.grid_remove()
        self.root.configure(cursor="")
        label = C.ACTION_LABELS.get(outcome.action, "操作")
        self.progress_var.set(f"{label}：" + ("完成。" if outcome.status == C.EXIT_OK else
                                              "完成，有需要修改的问题。" if outcome.status == 1
                                              else "未完成。"))
        self._apply(outcome)

    def _apply(self, outcome: C.Outcome) -> None:
        self.last_outcome = outcome
        if outcome.busy:
            self.dialogs.info(outcome.message)
            return
        if outcome.workbook is not None and outcome.action in ("new", "adopt"):
            self.set_workbook(outcome.workbook)
        if outcome.view is not None:
            self.show_view(outcome.view)
        if outcome.action == "folder" and outcome.ok:
            if not C.open_path(outcome.outputs[0]):
                self.dialogs.info(outcome.message)
            return
        if outcome.status == C.EXIT_OK:
            self.dialogs.info(outcome.message)
        elif outcome.status == C.EXIT_PROBLEMS:
            self.dialogs.warning(outcome.message)
        else:
            self.dialogs.error(outcome.message)

    # ------------------------------------------------------------------ result

    def _clear_result(self) -> None:
        self.unit_label.configure(text="单位：—")
        self.total_label.configure(text="—")
        self.grade_label.configure(text="—")
        self.tree.delete(*self.tree.get_children())
        self.problems.delete(*self.problems.get_children())
        self.fix_var.set("")
        self.detail_var.set("")

    def show_view(self, view: C.ResultView) -> None:
        if view.unit or view.indicators:
            year = f"（{view.year} 年度）" if view.year else ""
            self.unit_label.configure(text=f"单位：{view.unit}{year}")
            self.total_label.configure(text=view.total)
            self.grade_label.configure(text=view.grade)
            self.tree.delete(*self.tree.get_children())
            self._indicator_lines = list(view.indicators)
            self.detail_var.set("")
            for line in view.indicators:
                self.tree.insert("", "end", values=[getattr(line, c[0]) for c in
                                                    INDICATOR_COLUMNS])
            self._fit(self.tree, "note", [line.note for line in view.indicators])
        self.problems.delete(*self.problems.get_children())
        self._problem_lines = list(view.problems)
        for n, p in enumerate(view.problems):
            self.problems.insert("", "end", iid=str(n), tags=(p.severity,),
                                 values=(p.severity, p.location or "—", p.message))
        self._fit(self.problems, "message", [p.message for p in view.problems])
        self.fix_var.set(f"错误 {view.errors} 个，警告 {view.warnings} 个。" if view.problems
                         else "未发现问题。")
        self.fix_label.configure(style="Fix.TLabel" if view.errors else "TLabel")

    def _fit(self, tree: ttk.Treeview, column: str, texts: list[str]) -> None:
        """Widen the last (stretching) column to its longest text, so the horizontal
        scrollbar reaches the end of long 扣分原因 / 说明 texts instead of clipping them."""
        base = tkfont.nametofont("TkDefaultFont", root=self.root)
        widest = max(max((base.measure(t) for t in texts), default=0) + 24,
                     base.measure("扣分原因说明") + 24)
        others = sum(tree.column(c, "width") for c in tree["columns"] if c != column)
        # Tk shrinks a stretching column to the visible width, which would clip the text.
        tree.column(column, width=widest, stretch=others + widest <= tree.winfo_width())

    def _indicator_selected(self, _event=None) -> None:
        sel = self.tree.selection()
        if sel:
            line = self._indicator_lines[self.tree.index(sel[0])]
            where = f"（{line.location}）" if line.location else ""
            self.detail_var.set(f"{line.name}{where}：分值 {line.weight}，实际值 {line.value}，"
                                f"得分 {line.score}。{line.note}")

    def _problem_selected(self, _event=None) -> None:
        sel = self.problems.selection()
        if sel:
            self.fix_var.set(self._problem_lines[int(sel[0])].fix)

    def close(self) -> bool:
        """Close the window, unless a worker is writing (quitting would cut its write off)."""
        if self.controller.busy:
            running = C.ACTION_LABELS.get(self.controller.current or "", "处理")
            self.dialogs.info(f"正在{running}，请等它完成后再关闭窗口。")
            return False
        self.root.destroy()
        return True

    def _callback_error(self, exc_type, exc, tb) -> None:
        message, _ = C.log_unexpected(exc)
        self.dialogs.error(message)


class NewDialog:
    """新建自评表: unit, year and preset, then a save-as dialog (.xlsx or .xlsm)."""

    def __init__(self, app: App):
        self.app = app
        self.win = win = tk.Toplevel(app.root)
        win.title("新建自评表 - " + C.TITLE)
        win.transient(app.root)
        frame = ttk.Frame(win, padding=12)
        frame.grid(row=0, column=0, sticky="nsew")
        # Plain widgets, no tk Variables: a Variable collected later on a worker thread would
        # call into Tk from that thread.
        ttk.Label(frame, text="单位名称：").grid(row=0, column=0, sticky="e", pady=3)
        self.unit = ttk.Entry(frame, width=36)
        self.unit.grid(row=0, column=1, sticky="w")
        ttk.Label(frame, text="评价年度：").grid(row=1, column=0, sticky="e", pady=3)
        self.year = ttk.Entry(frame, width=8)
        self.year.grid(row=1, column=1, sticky="w")
        ttk.Label(frame, text="评分预设：").grid(row=2, column=0, sticky="e", pady=3)
        self.preset = ttk.Combobox(frame, state="readonly", width=40,
                                   values=[PRESET_NAMES[p] for p in PRESETS])
        self.preset.set(PRESET_NAMES[DEFAULT_PRESET])
        self.preset.grid(row=2, column=1, sticky="w")
        buttons = ttk.Frame(frame, padding=(0, 8, 0, 0))
        buttons.grid(row=3, column=0, columnspan=2)
        ttk.Button(buttons, text="选择保存位置并新建…", command=self.create).grid(row=0, column=0,
                                                                          padx=4)
        ttk.Button(buttons, text="取消", command=win.destroy).grid(row=0, column=1, padx=4)

    def options(self) -> dict:
        preset = next(p for p in PRESETS if PRESET_NAMES[p] == self.preset.get())
        text = self.year.get().strip()
        year = int(text) if text.isdigit() else None
        if text and year is None:
            year = -1  # the controller says what a year must look like
        return {"preset": preset, "unit": self.unit.get().strip(), "year": year}

    def create(self, out: str | Path | None = None) -> None:
        opts = self.options()
        if out is None:
            stem = "_".join(x for x in (opts["unit"], str(opts["year"] or "")) if x)
            out = filedialog.asksaveasfilename(
                parent=self.win, title="保存新的自评表", defaultextension=".xlsx",
                initialfile=f"{stem + '_' if stem else ''}部门整体支出绩效自评表.xlsx",
                filetypes=[("Excel 工作簿", "*.xlsx"), ("Excel 启用宏的工作簿", "*.xlsm")])
            if not out:
                return
        self.win.destroy()
        self.app._start(self.app.controller.new, Path(out), **opts)
