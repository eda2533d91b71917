"""Reading a county's own free-text 评分标准 into a rule (``rules.read_standard_text``).

Pure standard library, imported lazily by ``rules`` so that ``import perfeval_xl.rules``
(which Excel UDFs do) stays light. The grammar is described in docs/rules.md.
"""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

from perfeval_xl.rules import (
    _HUNDRED,
    _ZERO,
    ABOVE,
    BELOW,
    Band,
    Bands,
    DeductPerPoint,
    DeductPerStep,
    Manual,
    Proportional,
    Rule,
    RuleError,
    Tier,
    _as_weight,
    _bands_gap,
    _normalize,
    _raw_deduction,
    _to_decimal,
    full_marks,
)

#
# Reading a county's own 评分标准 text back into a rule, for ``adopt``. Each text is cut
# into clauses and every clause must be understood; one unknown clause means None, so a
# rule is never guessed from half a sentence. Patterns are plain strings: ``re`` caches
# them on first use, which keeps the import cheap for Excel UDFs.

_N = r"-?\d+(?:\.\d+)?"
# Units a number may carry. The value is just a number in that unit (days work like %).
_UNIT_WORDS = (
    "分数|个百分点|百分点|个工作日|工作日|个月|%|‰|个|人次|人|名|位|项|次|家|件|天|日|周|月|年|户|例|起|处"
    "|岁|条|种"
    "|亩|公斤|千克|吨|万元|元|篇|份|所|座|公里|米|台|辆|倍"
)
_UNIT = rf"(?:{_UNIT_WORDS})?"
_PTS = rf"(?:满分|{_N}分|不得分|不计分|不给分|零分)"
_GIVE = r"(?:计|得|给|评|为|记|可得|可计)?"
_MARK = rf"\((?:含|包含|包括|不含|不包含|不包括)(?:本数|端点|两端|{_N}{_UNIT})?\)"
_PREFIX = r"[\u4e00-\u9fff“”\"():、]*?"

# Comparison words -> operator. The pattern tries longer words first (不超过 before 超过),
# since a regex alternation takes the first alternative that fits.
_OPS = {
    "小于或等于": "≤", "低于或等于": "≤", "小于等于": "≤", "不超过": "≤", "不高于": "≤",
    "不大于": "≤", "控制在": "≤", "≤": "≤",
    "大于或等于": "≥", "高于或等于": "≥", "大于等于": "≥", "不低于": "≥", "不少于": "≥",
    "不小于": "≥", "达到": "≥", "≥": "≥",
    "未达到": "<", "低于": "<", "小于": "<", "不足": "<", "不到": "<", "未满": "<",
    "不满": "<", "少于": "<", "<": "<", "至少": "≥", "最少": "≥",
    "超过": ">", "大于": ">", "高于": ">", "超出": ">", "多于": ">", ">": ">",
    "未超过": "≤", "未超出": "≤", "没有超过": "≤", "不超出": "≤", "未低于": "≥",
    "等于": "=", "为": "=", "是": "=", "=": "=",
}
_OPS_RE = "|".join(sorted(map(re.escape, _OPS), key=len, reverse=True))
# Comparison words that may stand before the subject rather than the number; the
# one-character "为"/"是" would match inside ordinary words, so they are not among them.
_LEADING_OPS_RE = "|".join(
    sorted((w for w, op in _OPS.items() if len(w) > 1 and op != "="), key=len, reverse=True)
)
# Words after a number; 以上/以下/以内 include the number itself (as in law texts).
_POSTS = {"及以上": "≥", "以上": "≥", "及以下": "≤", "以下": "≤", "以内": "≤", "之内": "≤"}
_POSTS_RE = "|".join(sorted(_POSTS, key=len, reverse=True))
_NEGATIONS = ("未", "不", "没", "没有", "无", "非")

# Verbs after 每, by the side of the base they walk to. Matched anywhere in the words
# between 每 and the number ("每少落实1个百分点"), neutral and lag words first.
_NEUTRAL_VERBS = "相差|偏离|偏差|变动|浮动"
_LAG_VERBS = "滞后|延迟|推迟|逾期|延期|延误|超时|迟报|迟交|迟到|晚报|晚交|迟"
_BELOW_VERBS = "低|少|减|降|不足|差|欠|下滑"
_ABOVE_VERBS = "超|高|多|增|提高|上升|上涨"
_DEDUCT_RE = (
    r"(?P<pre>.*?)每(?P<verb>[\u4e00-\u9fff]{0,8}?)(?P<size>\d+(?:\.\d+)?)?"
    rf"(?P<unit>个单位|单位|个点|{_UNIT_WORDS}|点)?"
    # What is counted may follow the unit ("每有1项填写不完整的"); only a count reading
    # accepts it (checked in _std_deduct).
    r"(?P<subj>[^\d,;。]{0,30}?)(?:的|者|部分)?"
    r"(?:扣|扣减|减|扣除)(?P<pts>\d+(?:\.\d+)?)分(?P<post>.*)"
)

# ---- counts: the value is how many times something happened (family "每发现1例扣3.6分").
# Units a count is made of; a rate's units (%, 百分点) never are.
_COUNT_UNITS = (
    "人次|个工作日|工作日|个月|个|项|次|例|起|处|户|人|名|家|件|篇|份|所|座|台|辆|条|笔|批|张"
    "|天|日|周|月|年"
)
# Verbs that name occurrences or missing items; the count itself is the value.
_COUNT_VERBS = "发现|出现|发生|存在|认定|查出|查实|核实|有|缺失|缺少|缺|少|漏|错|延误|不符合|未"
# A deduction without 每 for one occurrence: "发现1例扣3.6分", "未开展的1次扣4.5分".
_ONE_COUNT_RE = (
    rf"(?P<pre>[^\d]*?)(?P<verb>(?:{_COUNT_VERBS})?)(?P<size>1)(?P<unit>{_COUNT_UNITS})"
    r"(?P<subj>[^\d,;。]{0,30}?)(?:的|者)?(?:扣|扣减|扣除)(?P<pts>\d+(?:\.\d+)?)分(?P<post>.*)"
)
# What is counted may be two things at the same rate: "每缺失1项内容或重复1个部分".
_COUNT_SUBJECT_RE = rf"[^\d]*?(?:或[\u4e00-\u9fff]*?[1一](?:{_COUNT_UNITS})[^\d]*)?"
# A clause with no number and no score: what is assessed ("开展季度检查工作"). Accepted
# only around a count deduction, where it names what is counted.
_NO_SCORE_RE = r"[^\d]*"
# Words that score, or veto a score ("一票否决"), so a clause with one is never a mere
# description.
_SCORE_WORDS_RE = (
    r"扣|每|否则|得分|满分|不得|不计|计分|记分|给分|赋分|否决|取消|清零|零分|不予|加分"
    r"|从重|加倍|另行"
)
# Findings that make a zero-tolerance text a count: "未发现任何违规违纪行为，得10分，否则不得分".
_FINDING_WORDS = (
    "违规|违纪|违法|问题|投诉|事故|案件|差错|失误|错误|挪用|截留|挤占|滞留|虚报|冒领|套取"
    "|安全事故|质量事故|信访|举报"
)
# A short lead ("全年") may stand before it, never a second condition ("资料齐全、").
_NONE_FOUND_RE = (
    r"[^\d且并和及与、,]{0,10}?(?:未发现|没有发现|未发生|没有发生|未出现|没有出现|不存在|没有|无)"
)
# Clauses that only restate the finding-free state beside it ("资金使用规范").
_COMPLIANT_RE = r"[^\d分扣得每]{0,30}?(?:规范|合规|合法|专款专用)[^\d分扣得每]{0,30}"
_NONE_FOUND_FULL_RE = (
    rf"(?P<body>[^\d]+?)(?:的|时|者)?(?:本项|该项|此项)?{_GIVE}(?P<pts>满分|{_N}分)"
)


def _none_found(c: str):
    """"未发现任何违规违纪行为，得10分" as its match (points in ``pts``), else None. The
    findings are searched apart from the match, which keeps long cells linear."""
    m = re.fullmatch(_NONE_FOUND_FULL_RE, c)
    if m and re.match(_NONE_FOUND_RE, m["body"]) and re.search(_FINDING_WORDS, m["body"]):
        return m
    return None
_ROUND_UP_RE = (
    rf"不足(?P<a>{_N})?(?:{_UNIT_WORDS}|个单位|单位|个点|点)?(?:的)?(?:部分)?(?:按照?|以|算)"
    rf"(?P<b>{_N})?(?:{_UNIT_WORDS}|个单位|单位|个点|点)?(?:计算|计|算)?(?:扣分)?"
)
_FULL_AMOUNT_RE = (
    r"[\u4e00-\u9fff]*(?:足额|全额)[\u4e00-\u9fff]*?(?:的)?(?:为|得|计|记)满分"
)
# Clauses that say where to look, from when a period counts, or how the rate is computed
# ("在职人员控制率=实际在职人数/编制人数×100%"), not when points are given.
_ASIDE_RE = (
    r"[\u4e00-\u9fff()]*率=[\u4e00-\u9fff()]+/[\u4e00-\u9fff()]+(?:×100%)?|"
    # "准确率=(1-|决算数-预算数|/预算数)×100%": a rate's definition with more arithmetic
    r"[\u4e00-\u9fff()]*(?:率|度)=(?=[^,;。]*/)[\u4e00-\u9fff()|×/+\-\d.]+(?:×100%)?|"
    r"(?:查看|查阅|核查|核对|检查|抽查)[\u4e00-\u9fff]*(?:资料|材料|文件|台账|记录|报表|凭证)"
    r"|(?:自|从)?[\u4e00-\u9fff()]*之日起(?:计算|算起)?"
    # "以免疫标识、农户免疫记录为准", "以当地邮局邮戳日期为准": what counts as evidence
    r"|以[\u4e00-\u9fff、()]{2,30}为准"
)
_STOP_RES = (
    r"(?:直至|直到)?(?:本项|该项)?(?:分值)?(?:扣完|扣至0分?|扣到0分?)(?:本项|该项)?(?:分值)?"
    r"(?:为止|即止|为限|止)?",
    r"最低(?:得|扣至|为)?(?:0分|不得分)",
    r"不得负分|不计负分|不倒扣分?|最多扣完(?:本项)?(?:分值)?",
)
_STEP_MARK_RE = (
    r"不足(?:\d+(?:\.\d+)?)?(?:个百分点|百分点|个点|%|点"
    rf"|{_COUNT_UNITS})?(?:的|部分)?(?:不扣分|不予扣分|不扣)"
)
_CAP_RES = (
    r"最高(?:不超过)?(?:得|计)?(?:满分|(?:本项|该项|本指标|该指标)?分值|\d+(?:\.\d+)?分)",
    r"(?:超过|超出|高于)(?:目标|目标值)?(?:的)?(?:部分)?不(?:另外|再)?(?:加分|得分|计分)",
    r"(?:最多|最高)得满分|封顶|不超过(?:本项|该项)?分值|(?:满分|得满分)为止",
)
_TARGET_DONE_RE = (
    r"(?:全部|按时|足额)?(?:完成|达到|实现)(?:全部|年度|既定|预期|计划)?"
    r"(?:目标|任务|计划)?(?:值|任务)?(?:的)?(?:得|计)?满分"
)
_RATE = r"[\u4e00-\u9fff、]*(?:率|比例|比重|比值|之比|的比)"
_WEIGHT_WORD = rf"(?:本项|该项|该|本)?(?:指标)?(?P<w>分值|权重|满分|{_N}分?)"
# "根据实际到位资金占计划的比重计算得分", "按照…确定的实现程度赋分".
_SHARE_SCORE_RE = (
    r"[^\d]*?(?:根据|按照?|依据)[^\d]*?(?:比重|比例|比值|实现程度|完成程度)(?:计算|折算)?"
    rf"(?:得分|计分|赋分|给分)(?:\((?P<w>{_N})分\))?"
)
# "若实施方案没有该项建设任务的，不扣分": the row does not apply, no value to score.
_NOT_APPLICABLE_RE = (
    r"(?:若|如|如果)?[^\d]*(?:没有|无|未安排)(?:该项|此项|本项)[^\d]*?(?:的)?"
    r"(?:不扣分|不考核|不予考核)"
)
_ZERO_PTS = r"(?:得|计|为|记)?(?:0分|零分|不得分|不计分|不给分)"
_ELSE_ZERO_RES = (
    rf"(?:否则|反之|其他情况|其余情况|其余)(?:的)?{_ZERO_PTS}",
    # "未全部完成不得分", "没有足额到位的不得分"
    r"(?:未|没有|不能)(?:全部|足额|全面|按时)(?:完成|到位|落实|达标|实现|兑现|拨付|发放)"
    rf"(?:目标|任务|计划)?(?:的|者|时)?(?:该项|本项|此项)?{_ZERO_PTS}",
    # "达不到的，该项不得分": the subject, if any, must be one the bands already name;
    # "项目未完成验收的不得分" brings a new condition and is no else-clause.
    r"(?P<subject>.*?)(?:达不到|未达到|没有达到|不达标|未达标|未完成|没有完成)"
    r"(?:目标|标准|要求|任务|指标)?(?:的|者|时)?"
    rf"(?:该项|本项|此项|本项指标|该指标)?{_ZERO_PTS}",
)
# "全部完成得5分", "足额到位的得满分": the whole target met, a completion rate of 100 %.
_WHOLE_DONE_RE = (
    r"[^\d,且并和及与同]{0,30}?(?:全部|足额|全面)(?:完成|到位|落实|达标|实现|兑现|拨付|发放)"
    r"[^\d,且并和及与同]{0,30}?"
    rf"(?:的|时|者)?(?:本项|该项|此项)?{_GIVE}(?P<pts>满分|{_N}分)"
)
_CAP_NOTE_RE = r"\((?:超过|超出|高于|大于)100%(?:的)?(?:以|按)100%(?:计算|计)\)"
_RATE_FORMULA_RES = (
    rf"(?:得分=)?{_RATE}[×]{_WEIGHT_WORD}",
    rf"(?:得分=)?{_WEIGHT_WORD}[×]{_RATE}",
)
# "实际完成值/目标值", "实际完成率/计划完成率" and the like.
_ACTUAL_WORD = r"[\u4e00-\u9fff]*(?:实际|完成)[\u4e00-\u9fff]*"
_TARGET_WORD = r"[\u4e00-\u9fff]*(?:目标|计划)[\u4e00-\u9fff]*"
_DISCRETION_RE = (
    r"酌情|视情况?|综合(?:评定|评价|打分)|(?:专家|评价人|评价组)(?:直接)?(?:评分|打分|评定)"
)

_GRADE_WORDS = r"优秀|优|良好|良|较好|好|中等|中|一般|合格|及格|较差|差|不合格|不及格"
_CN_NUMERALS = {
    "零": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5",
    "六": "6", "七": "7", "八": "8", "九": "9", "十": "10",
}
_DEGREE_WORDS = sorted(
    [
        "基本上", "基本不", "严重不", "大部分", "少部分", "基本", "较为", "比较", "不太",
        "不够", "没有", "部分", "全部", "完全", "全面", "非常", "十分", "一般", "尚未", "个别",
        "大多", "较", "不", "未", "无", "很", "已", "有",
    ],
    key=len,
    reverse=True,
)


# Look-alikes and debris found in published copies, mapped before the syntax's own
# normalisation: "〈" for "<", an OCR'd full stop "°", the page number "·4·".
_LOOKALIKE = str.maketrans({"〈": "<", "〉": ">", "°": "。", "∶": ":", "．": ".", "Ｘ": "X"})
_SCORE_LINE_RE = re.compile(r"(?:得|计)?(\d+(?:\.\d+)?(?:\s*[-~至到]\s*\d+(?:\.\d+)?)?)\s*分?")


# Traditional characters of published copies converted from simplified pages ("評分標準…每不符合1項
# 扣40分"), mapped to the simplified ones the grammar is written in: the words of rule texts and
# of indicator names, not a general converter; characters that are also simplified words of
# their own (著, 乾, 只) are left alone.
_TRADITIONAL = str.maketrans(
    "與兩個為於畝價餘關準減別製務區發臺後噸週圍處對張開戶數時條標滿滯點現電紀經給絕續"
    "規計記評該誤費資達過違連遲錯鍵間項額齊萬實際執預報級縣鄉鎮業農種積質優較導這據確"
    "認總應當檢設備內無並將錄範審驗辦結會議論訊訪罰統監測護環庫撥專術訓練調問題書檔責"
    "單職員編權屬還沒進況輕緩補壞塊場衛眾體從們僅傳舉億傷華協賣歷壓廳參雙變號葉啟響圖"
    "國堅復複頭獎婦學層歲崗帶幫幹廣慶廢異棄強歸徵徑懲擴掃擬擇掛損換斷顯來極構樣匯溝濟"
    "災熱愛狀獨畫蓋礦碼礎稱穩類糧糾約納線組細織終績維綜繳網聯肅脫節藥營視覽講許證識訴"
    "詳語說請讀談負貧貫賠車轉輸邊運遠選遞錢鐵銀銷鎖長門閉隊階險隨隱難領頻風飲駐魚齡兌"
    "豐臨義樂買亂爭虧產親儲蘭興養獸冊寫軍衝決淨擊則創刪劑動勞勢醫卻廠廁聽團園圓墾壯聲"
    "夠奮娛孫寧寬塵盡屆幣師帳彈徹態慣戰擾搶擔擁揮攤舊雜機槍櫃欄樹橋樓歡毀氣漢澤潔淺塗"
    "漲漁溫遊灣濫滅燈靈爐煉煙燒牽豬獻暢療鹽盤禮禍離窮競筆築簽簡緊紅紙絡繼綠縮羅習勝腦"
    "腳艱藝蘇薦獲藍慮蟲裝見觀覺訂討讓診詞譯試誠詢課謹貢財敗貨購貼貸貿賦賽趨軌輪載輔輛"
    "轄遷適遺郵鄰釋鑑鋼閱陽陰陣陸陳頂順須顧館駛駕麥黃龍係繫撫儀濕稅齒賬倉鋪鑒滙穫僱劃"
    "畢紐隻註衞粵壩擺籌頒",
    "与两个为于亩价余关准减别制务区发台后吨周围处对张开户数时条标满滞点现电纪经给绝续"
    "规计记评该误费资达过违连迟错键间项额齐万实际执预报级县乡镇业农种积质优较导这据确"
    "认总应当检设备内无并将录范审验办结会议论讯访罚统监测护环库拨专术训练调问题书档责"
    "单职员编权属还没进况轻缓补坏块场卫众体从们仅传举亿伤华协卖历压厅参双变号叶启响图"
    "国坚复复头奖妇学层岁岗带帮干广庆废异弃强归征径惩扩扫拟择挂损换断显来极构样汇沟济"
    "灾热爱状独画盖矿码础称稳类粮纠约纳线组细织终绩维综缴网联肃脱节药营视览讲许证识诉"
    "详语说请读谈负贫贯赔车转输边运远选递钱铁银销锁长门闭队阶险随隐难领频风饮驻鱼龄兑"
    "丰临义乐买乱争亏产亲储兰兴养兽册写军冲决净击则创删剂动劳势医却厂厕听团园圆垦壮声"
    "够奋娱孙宁宽尘尽届币师帐弹彻态惯战扰抢担拥挥摊旧杂机枪柜栏树桥楼欢毁气汉泽洁浅涂"
    "涨渔温游湾滥灭灯灵炉炼烟烧牵猪献畅疗盐盘礼祸离穷竞笔筑签简紧红纸络继绿缩罗习胜脑"
    "脚艰艺苏荐获蓝虑虫装见观觉订讨让诊词译试诚询课谨贡财败货购贴贷贸赋赛趋轨轮载辅辆"
    "辖迁适遗邮邻释鉴钢阅阳阴阵陆陈顶顺须顾馆驶驾麦黄龙系系抚仪湿税齿账仓铺鉴汇获雇划"
    "毕纽只注卫粤坝摆筹颁",
)
# Pinyin a converter left after a character: "鄉(xiāng)", "發(fā)現" (a tone mark is required).
_PINYIN_DEBRIS_RE = re.compile(r"\([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")


def _join_lines(text: str) -> str:
    """In-cell line breaks end a clause; a line that is only a score (a table's score
    column pasted into the cell: "…100%\\n| 4\\n| …") gives its points to the line before."""
    out: list[str] = []
    # A box-drawn row pasted on one line ("…100% | 4 | …80-99% | 3") breaks like lines do.
    for raw in re.split(r"[\r\n|]+", text):
        line = raw.strip()
        if not line:
            continue
        m = _SCORE_LINE_RE.fullmatch(line)
        if m and out:
            points = re.sub(r"\s", "", m.group(1))
            out[-1] = out[-1].rstrip("。.;；,，") + f"得{points}分"
        else:
            out.append(line)
    return ";".join(out)


def _std_normalize(text: str) -> str:
    text = _PINYIN_DEBRIS_RE.sub("", text.translate(_TRADITIONAL))
    # "|决算数-预算数|/预算数": bars of an absolute value, not a box-drawn table's columns
    text = re.sub(r"[|｜]([^|｜\n]{1,40}?-[^|｜\n]{1,40}?)[|｜](?=\s*[/×*÷])", r"绝对值(\1)", text)
    s = _join_lines(text.translate(_LOOKALIKE))
    s = re.sub(r"·\s*\d{1,3}\s*·", "", s)  # page-number debris inside a re-joined cell
    s = _normalize(s).replace("÷", "/").replace("*", "×").replace("＊", "×")
    s = s.replace("乘以", "×").replace("除以", "/").replace("“", "").replace("”", "")
    s = s.replace('"', "")
    # "x"/"X" written for "×" between a word or number and a number or word: "好路率X120".
    s = re.sub(r"(?<=[\u4e00-\u9fff\d%)])[xX](?=[\d\u4e00-\u9fff(])", "×", s)
    # OCR reads "=" as "二" right after 得分: "评价指标得分二资金到位率*该项指标分值".
    s = re.sub(r"(得分值?|分值)二(?=[\u4e00-\u9fff])", r"\1=", s)
    # Numbering at the start of a clause: "1、", "2.", "(3)", "①".
    s = re.sub(r"(?:^|(?<=[;。,:]))(?:\(\d{1,2}\)|\d{1,2}[、.](?!\d)|[\u2460-\u2473]|[A-Ha-h][、.])",
               "", s)
    # A full stop written "." (not a decimal point): "按完成比例计算得分,满分为止."; and
    # OCR'd "%。" as "%0" / "%o" at the end of a formula ("得分二平均分*12%0达标为90分").
    # ("低于60%0分" is points glued to their number, read below)
    s = re.sub(r"%[0oO](?=(?!分)[\u4e00-\u9fff]|$)", "%。", s)
    s = s.replace("率(%)=", "率=")  # "项目支出执行率(%)=项目实际支出/项目预算×100%"
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", "。", s)
    # Chinese numerals one to ten where a count is meant: 每超过一个百分点, 扣两分, 为零.
    s = re.sub(
        r"百分之([零一二两三四五六七八九十百]+|\d+(?:\.\d+)?)",
        lambda m: f"{v}%" if (v := _cn_percent(m.group(1))) is not None else m.group(0),
        s,
    )
    s = re.sub(
        r"(?<=[每过于出扣得计减降增少多足到高低差])([一二两三四五六七八九十])"
        r"(?=个|%|分|点|项|次|天|日|年|月|例|起|处|人|户|家|件)",
        lambda m: _CN_NUMERALS[m.group(1)],
        s,
    )
    s = re.sub(
        r"(每[\u4e00-\u9fff]{0,4}?)([一二两三四五六七八九十])"
        r"(?=个|项|次|天|日|年|月|周|例|起|处|人|户|家|件|份|篇|条|张|名)",
        lambda m: m.group(1) + _CN_NUMERALS[m.group(2)],
        s,
    )
    # "发现一起…扣1分", "每缺失一项": a count in a deduction; elsewhere ("有一项关键指标
    # 未完成(5分)") the words are a tier's label and stay as written.
    s = re.sub(
        r"(?<=[现生缺失有漏错后迟期误])([一二两三四五六七八九十])"
        r"(?=(?:个|项|次|天|日|年|例|起|处|人|户|家|件|份|篇|条|张|名)[^;。]*?扣)",
        lambda m: _CN_NUMERALS[m.group(1)],
        s,
    )
    s = re.sub(
        r"([一二两三四五六七八九十])(?=个百分点|个点)", lambda m: _CN_NUMERALS[m.group(1)], s
    )
    # "建设1个以上创业带动就业孵化基地(2分)", "至少2种宣传方式,否则不得分": what is counted
    # after the count, before its points
    # (never words that turn the count around: "有1项未完成的得0分" keeps its 未完成)
    s = re.sub(r"(?<=\d)(个|种|项|座|家|名|处|次)(及以上|以上)?"
               r"(?:(?![未不没无非少缺超差低高扣])[\u4e00-\u9fff]){2,12}?"
               r"(?=\((?:得|计)?\d|(?:的)?(?:得|计|记)\d|(?:的)?(?:得|计)满分|,否则)", r"\1\2", s)
    # "达92%12分": the points glued to the number they belong to
    s = re.sub(rf"(?<=\d%)(?={_N}分)", "得", s)
    # "下降1个百分点扣1分" at a clause's start: per percentage point, 每 left out
    s = re.sub(r"(?:^|(?<=[,;。:]))(?=(?:下降|降低|减少|上升|增加|提高|超过|超出|低于|高于)"
               r"1个百分点扣)", "每", s)
    # "科级领导干部中35岁及以下的不低于总数的20%": an age that only names who is counted
    s = re.sub(r"(?<=[\u4e00-\u9fff])\d+周?岁(?:及以下|以下|及以上|以上)(?:的)?"
               r"(?=[\u4e00-\u9fff]*?(?:不低于|不少于|不高于|不超过|达到|低于|高于|超过|占))",
               "该年龄段", s)
    # "(…,一项可得2分,…)": one of a count at a clause's start
    s = re.sub(r"(?:^|(?<=[,;。:(]))一(?=(?:项|个|次|件|处|篇|条|户|人)(?:可|得|计|记|给))", "1", s)
    # "迟报四天及以上", "有五处及以上": a count with its bound
    s = re.sub(
        r"([一二两三四五六七八九十])(?=(?:个|项|次|天|日|年|月|例|起|处|人|户|家|件|份|篇|条|张|名)"
        r"(?:及以上|以上|及以下|以下))",
        lambda m: _CN_NUMERALS[m.group(1)],
        s,
    )
    s = re.sub(r"(?<=[按以照])一(?=个百分点|个点|%|个|项|次|天|日|年|月|周|例|起|处|人|户|家|件)", "1", s)
    s = re.sub(r"(?<=[为于是])零", "0", s)
    # describe_rule's own parentheticals: "得满分（8分）", "扣完为止（不足5个百分点不扣分）".
    s = re.sub(rf"满分\(({_N})分\)", r"\1分", s)
    s = re.sub(rf"(?<=[得计为])满分({_N})分", r"\1分", s)  # "得满分6分"
    s = re.sub(r"\((不足[^()]*)\)", r",\1", s)
    s = s.replace("(由评价人在区间内评定)", "")  # describe_rule's note on a range band
    # "完成(5分)完成80%以上(4分)": a parenthesised score ends a tier or band.
    s = re.sub(rf"(\((?:{_N})分?(?:(?:-|~|到|至)(?:{_N}))?分\))(?=[\u4e00-\u9fff\d<>≤≥=])", r"\1;", s)
    # Ranks: "前3名" is ≤3, "7名以后" / "第7名及以后" ≥7 (以后 includes its number, as 以下).
    s = re.sub(r"(?<=[前第])([一二两三四五六七八九十])(?=名|位)", lambda m: _CN_NUMERALS[m[1]], s)
    s = re.sub(rf"前({_N})(名|位)", r"≤\1\2", s)
    s = re.sub(r"(?<=[名位])(至|到|-)第", r"\1", s)  # "第4名至第6名"
    s = re.sub(rf"(?:第)?({_N})(名|位)(?:及|含)?(?:以后|之后|以外)", r"≥\1\2", s)
    return _expand_respectively(_score_values(s))


# The value is itself a score ("测评平均分90分以上得满分，每低1分扣0.5分"): "N分" in a
# value's place is written "N分数" (a unit of the value), so it is not read as points.
_SCORED_SUBJECT_RE = r"测评|平均分|分数|考核得分|考评得分|测评得分|评议得分|综合得分|评价得分|考试成绩"
_VALUE_POINTS_RES = (
    # "90分以上", "60分及以下", "80-90分之间", "85分-90分"
    (rf"({_N})分(?=(?:\((?:含|不含)\))?(?:及?以上|及?以下|以内|之间|(?:-|~|至|到){_N}分?))",
     r"\1分数"),
    # "60分(含)至80分": the other end of a range of values
    (rf"(分数(?:\((?:含|不含)\))?(?:-|~|至|到){_N})分(?!数)", r"\1分数"),
    # "≥90分", "低于60分", "达到85分"
    (rf"((?:≥|≤|<|>|=|达到|低于|不足|超过|高于|不低于|不高于|不超过)){_N}分",
     lambda m: m.group(0)[:-1] + "分数"),
    # "每低1分扣0.5分", "每降低1分"
    (rf"(每[\u4e00-\u9fff]{{0,4}}?{_N})分(?=扣|减)", r"\1分数"),
    # "80-90分得3分": a range of values, then its points
    (rf"((?:{_N})分?(?:-|~|至|到){_N})分(?=(?:之间)?(?:的|时)?,?(?:得|计|给|记|为|不得|不计))",
     r"\1分数"),
)


def _score_values(s: str) -> str:
    if not re.search(_SCORED_SUBJECT_RE, s):
        return s
    for pattern, repl in _VALUE_POINTS_RES:
        s = re.sub(pattern, repl, s)
    # "得8-10分" after a giving verb stays a score range: undo a range read as values there
    return re.sub(rf"(?<=[得计给记为])({_N}(?:-|~|至|到){_N})分数", r"\1分", s)


def _cn_percent(raw: str) -> str | None:
    """"八十" → "80", "九十五" → "95", "一百" → "100", "5" → "5" (after 百分之); None when
    the numeral is not one of 0–100."""
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return raw
    if raw in ("一百", "百"):  # "百分之百"
        return "100"
    if raw == "零":
        return "0"
    m = re.fullmatch(r"([一二两三四五六七八九])?(十)?([一二三四五六七八九])?", raw)
    if m is None or not raw or (m[1] and m[3] and not m[2]):
        return None  # "五五" is no numeral
    tens, ten, ones = m.groups()
    if not ten:
        return _CN_NUMERALS[tens or ones]
    return str(int(_CN_NUMERALS.get(tens, "1")) * 10 + (int(_CN_NUMERALS[ones]) if ones else 0))


def _expand_respectively(s: str) -> str:
    """"30%以上、20%以上和10%以上，分别得6分、4分和2分" → one band clause per pair."""
    out = []
    for sentence in re.split(r"(?<=[;。])", s):
        at = sentence.find("分别")
        if at < 0:
            out.append(sentence)
            continue
        left, right = sentence[:at], sentence[at + 2 :]
        item = rf"{_N}{_UNIT}(?:{_POSTS_RE})?"
        sep = r"(?:、|和|及|与|或)"
        lists = list(re.finditer(rf"{item}(?:{sep}{item})+", left))
        m = lists[-1] if lists else None  # the list nearest to 分别
        p = re.match(rf"(?:得|计|为|记)?((?:{_N}分?{sep})+{_N}分)(?P<rest>[;。]?)$", right)
        if m is None or p is None:
            out.append(sentence)
            continue
        items = re.split(sep, m.group())
        points = [x.rstrip("分") for x in re.split(sep, p.group(1))]
        if len(items) != len(points):
            out.append(sentence)
            continue
        pre, mid = left[: m.start()], left[m.end() :].strip(",")
        # A trailing unit or post word stated once ("80%、70%和60%以上") applies to all.
        tail = re.search(rf"(?:{_UNIT_WORDS})?(?:{_POSTS_RE})?$", items[-1]).group()
        fixed = [x if re.search(r"\D$", x) else x + tail for x in items]
        out.append(
            ";".join(f"{pre}{x}{mid}得{pt}分" for x, pt in zip(fixed, points, strict=True))
            + p["rest"]
        )
    return "".join(out)


def _std_clauses(s: str) -> list[str]:
    # A "、" separates clauses only after a score ("得2分、及时开展…"); elsewhere it lists
    # subjects ("水、电、路等…完成率×10").
    parts = re.split(r"[,;。:]+|(?<=分)、|(?<=分\))、", s)
    clauses = [c for c in parts if c and not re.fullmatch(r"\(?\d{1,2}\)?\.?", c)]
    merged: list[str] = []
    for c in clauses:
        if merged and (
            merged[-1].endswith(("的", "时", "者"))
            # "…≤10%，计6分" / "每超过1个百分点，扣0.5分": a result alone joins its condition.
            or re.fullmatch(rf"(?:该项|本项|此项|本项指标|该指标)?{_GIVE}"
                            rf"(?:{_PTS}|{_N}分?(?:-|~|至|到){_N}分)", c)
            or re.match(r"(?:扣|扣减|减)\d+(?:\.\d+)?分", c)
            # "“三公经费”>0，每超过一个百分点…": a bare condition heads its deduction.
            or (c.startswith("每") and re.search(r"\d", merged[-1])
                and _std_condition(merged[-1]) is not None
                # "目标值≥95%，每低…": the target stays a clause of its own (the base)
                and not re.fullmatch(_STATED_TARGET_RE, merged[-1]))
        ):
            merged[-1] += c
        else:
            merged.append(c)
    return merged


def _mark_inclusive(mark: str) -> bool:
    return "不" not in mark


def _std_condition(body: str):
    """``body`` (a condition in words) as (low, high, low_inc, high_inc, uses_abs), or None."""
    m = re.fullmatch(
        rf"(?P<pre>{_PREFIX})(?P<a>{_N}){_UNIT}(?P<ma>{_MARK})?(?:-|~|至|到)"
        rf"(?P<b>{_N}){_UNIT}(?P<mb>{_MARK})?(?:之间|区间|范围内)?(?:{_DONE_WORDS})?",
        body,
    )
    if m:
        return _std_range(m)
    m = re.fullmatch(
        rf"(?P<pre>{_PREFIX})(?P<a>{_N}){_UNIT}(?P<o1><|≤)[\u4e00-\u9fff“”\"A-Za-z()]*"
        rf"(?P<o2><|≤)(?P<b>{_N}){_UNIT}",
        body,
    )
    if m:
        a, b = Decimal(m["a"]), Decimal(m["b"])
        if a >= b or m["pre"].endswith(_NEGATIONS):
            return None
        return a, b, m["o1"] == "≤", m["o2"] == "≤", "绝对值" in m["pre"]
    if both := _two_sided(body):
        return both
    m = re.fullmatch(
        rf"(?P<pre>{_PREFIX})(?P<op>{_OPS_RE})?(?P<x>{_N}){_UNIT}(?P<m1>{_MARK})?"
        rf"(?P<post>{_POSTS_RE})?(?P<m2>{_MARK})?(?:{_DONE_WORDS})?",
        body,
    )
    if m is None or m["pre"].endswith(_NEGATIONS):
        return None  # "未超过" read as "未" + "超过" would turn the condition around
    x = Decimal(m["x"])
    mark = m["m1"] or m["m2"]
    op = _OPS.get(m["op"] or "")
    if m["post"] and (op is None or m["op"] in ("达到", "控制在", "为", "是")):
        op = _POSTS[m["post"]]
    if op is None and not m["post"]:
        # "达到可种面积的100%": the comparison word leads the subject the number belongs to.
        found = list(re.finditer(_LEADING_OPS_RE, m["pre"]))
        if found and not re.search(r"[未不没无非]$", m["pre"][: found[-1].start()]):
            op = _OPS[found[-1].group()]
    if op is None:
        if mark:
            return None
        op = "="  # a bare number: "100%得满分"
    if mark and op in ("<", "≤", ">", "≥"):
        inclusive = _mark_inclusive(mark)
        op = {("<", True): "≤", ("≤", False): "<", (">", True): "≥", ("≥", False): ">"}.get(
            (op, inclusive), op
        )
    uses_abs = "绝对值" in m["pre"]
    if op == "=":
        return x, x, True, True, uses_abs
    if op in (">", "≥"):
        return x, None, op == "≥", False, uses_abs
    return None, x, False, op == "≤", uses_abs


_DONE_WORDS = "完成|到位|达标|落实|办结|符合"  # "100%完成得4分": the number, then what it measures


def _two_sided(body: str):
    """"小于90%大于等于80%", "80%以上90%以下": two one-sided conditions on one value, as
    the interval between them; None unless both read and face each other."""
    one = rf"(?:{_OPS_RE})?{_N}{_UNIT}(?:{_MARK})?(?:{_POSTS_RE})?(?:{_MARK})?"
    m = re.fullmatch(rf"(?P<c1>{_PREFIX}{one})(?:且|并且|而|、|,)?(?P<c2>{one})", body)
    if m is None or not re.search(r"\D", m["c2"]) or not re.search(r"\D", m["c1"]):
        return None
    first, second = _std_condition(m["c1"]), _std_condition(m["c2"])
    if first is None or second is None:
        return None
    sides = {c[0] is None for c in (first, second)}
    if sides != {True, False} or any(c[0] is not None and c[1] is not None for c in (first, second)):
        return None
    low = first if first[0] is not None else second
    high = second if low is first else first
    if low[0] >= high[1]:
        return None
    return low[0], high[1], low[2], high[3], low[4] or high[4]


def _std_range(m):
    if m["pre"].endswith(_NEGATIONS):
        return None
    a, b = Decimal(m["a"]), Decimal(m["b"])
    marks: dict[str, bool] = {}
    for end, mark in (("a", m["ma"]), ("b", m["mb"])):
        if not mark:
            continue
        if "两端" in mark:  # "(含两端)" / "(不含两端)", as describe_rule writes them
            marks = {"a": _mark_inclusive(mark), "b": _mark_inclusive(mark)}
            continue
        named = re.search(_N, mark)
        if named:  # "(含10%)" names the end it is about
            x = Decimal(named.group())
            if x not in (a, b):
                return None
            end = "a" if x == a else "b"
        marks[end] = _mark_inclusive(mark)
    if len(marks) == 1:  # "0-10%(含)": the other end is the opposite
        (end, inc), = marks.items()
        marks["b" if end == "a" else "a"] = not inc
    # No mark at all: both ends inclusive; the first band written wins on a shared edge.
    a_inc, b_inc = marks.get("a", True), marks.get("b", True)
    if a > b:
        a, b, a_inc, b_inc = b, a, b_inc, a_inc
    if a == b and not (a_inc and b_inc):
        return None
    return a, b, a_inc, b_inc, "绝对值" in m["pre"]


def _std_points(raw: str, weight: Decimal) -> Decimal:
    if raw == "满分":
        return weight
    if raw.endswith("分") and _to_decimal(raw[:-1]) is not None:
        return Decimal(raw[:-1])
    return _ZERO  # 不得分 / 不计分 / 零分


def _std_band_clause(clause: str, weight: Decimal):
    """A clause "condition + points" as (condition, points), or None."""
    m = re.fullmatch(
        rf"(?P<body>.+?)(?:的|时|者)?(?:本项|该项|此项|本指标|该指标)?{_GIVE}(?P<pts>{_PTS})",
        clause,
    )
    # "到位率80%以上(4分)": the points in brackets after the condition.
    m = m or re.fullmatch(rf"(?P<body>.+?)(?:的|时|者)?\((?:得|计)?(?P<pts>{_PTS})\)", clause)
    if m is None or re.search(rf"[得计]{_N}", m["body"]):
        return None  # "优得100%（3分）" is a tier with its share, not a band
    cond = _std_condition(m["body"])
    if cond is None:
        return None
    return cond, _std_points(m["pts"], weight)


_PTS_RANGE = rf"(?P<lo>{_N})分?(?:-|~|到|至)(?P<hi>{_N})分"


def _std_range_band_clause(clause: str):
    """A clause "condition + score range" ("到位率在75%以上(10分到13分)", "…>100%得5-3分")
    as (condition, highest, lowest points), or None."""
    m = re.fullmatch(
        rf"(?P<body>.+?)(?:的|时|者)?(?:本项|该项|此项|本指标|该指标)?{_GIVE}{_PTS_RANGE}", clause
    )
    m = m or re.fullmatch(rf"(?P<body>.+?)(?:的|时|者)?\((?:得|计)?{_PTS_RANGE}\)", clause)
    if m is None or re.search(rf"[得计]{_N}", m["body"]):
        return None
    cond = _std_condition(m["body"])
    if cond is None:
        return None
    low, high = sorted((Decimal(m["lo"]), Decimal(m["hi"])))
    return cond, high, low


# "资金全部到位(14分)", "完成(5分)" at the head of bands on the same measure ("到位率在75%以上
# (10分到13分)…", "完成80%以上(4分)…"): the whole target met, a rate of 100 % and more.
_WHOLE_IN_LIST_RE = (
    r"(?P<subj>[^\d,且并和及与同()]{0,20}?)(?:全部|足额|全面)?(?P<verb>完成|到位|达标|落实|办结)"
    r"(?:任务|目标|计划)?(?:的|时|者)?(?:本项|该项|此项)?"
    rf"(?:{_GIVE}(?P<pts>满分|{_N}分)|\((?:得|计)?(?P<bpts>满分|{_N}分)\))"
)
# Degrees short of (or past) the whole: "基本完成", "超额完成" are no 100 %.
_NOT_WHOLE_RE = r"未|不|没|无|非|超|基本|部分|大|多|少|尚|较|逾"
# "其余情况由评价人在0至14分之间评定" (describe_rule's words for ``其余=人工``).
_REST_MANUAL_RE = (
    rf"(?:其余|其他|其它)(?:情况|数值)?(?:的)?由?评价人(?:在{_N}分?(?:-|~|至|到){_N}分"
    r"(?:之间|以内|内|范围内)?)?评定"
)


def _direction_of(cond) -> str | None:
    """Where a full-marks condition puts the losing side: ≤x → above, ≥x → below."""
    low, high = cond[0], cond[1]
    if low is not None and high is not None:
        return None if low == high else "range"
    return BELOW if low is not None else ABOVE


# "目标值≥95%", "年度目标值为90%": a target stated on its own, the base of a deduction.
_STATED_TARGET_RE = (
    r"(?:年度|本年度?|全年|绩效)?(?:目标值|目标|计划值|标准值)"
    rf"(?P<op>为|是|:|=|≥|≤|不低于|不超过|不高于|达到)?(?P<b>{_N}){_UNIT}(?P<post>以上|以下)?"
)


def _std_deduct(clauses: list[str], weight: Decimal, target: Decimal | None = None) -> Rule | None:
    bases: set[Decimal] = set()
    directions: set[str] = set()
    found = None
    step_mark = continuous_mark = round_up = False
    floors: list = []
    full_base = False  # the base is "足额" (100 %), which needs a percent deduction
    clean = described = 0  # count readings only: "要素齐全的计2分", "开展季度检查工作"
    kinds = 1  # how many kinds of occurrence the count adds up
    numbered = required = 0  # count readings only: a preamble with numbers, a requirement
    # "每有1个内设机构…达不到要求的，扣0.5分": the full-marks clause is that requirement
    requirement = any(
        (m := re.fullmatch(_DEDUCT_RE, c) or re.fullmatch(_ONE_COUNT_RE, c))
        and re.search(_REQUIREMENT_WORDS, (m["pre"] or "") + (m["subj"] or "")) for c in clauses)
    count_floors: list = []  # "迟报四天及以上不得分": (number, inclusive, unit, clause)
    for c in clauses:
        if m := re.fullmatch(rf"(?:以|按)(?P<b>{_N}){_UNIT}为(?:标准|基准|基数|目标|标准值)", c):
            bases.add(Decimal(m["b"]))
        elif m := re.fullmatch(_STATED_TARGET_RE, c):
            # "目标值≥95%，实际值每低1个百分点扣0.5分": the base, and the side that loses.
            bases.add(Decimal(m["b"]))
            if m["op"] in ("≥", "不低于", "达到") or m["post"]:
                directions.add(BELOW if m["op"] != "≤" and m["post"] != "以下" else ABOVE)
            elif m["op"] in ("≤", "不超过", "不高于"):
                directions.add(ABOVE)
        elif _is_stop(c, weight) or _is_aside(c):
            pass
        elif (stated := _stated_weight(c)) is not None:
            if stated != weight:
                return None
        elif re.fullmatch(_STEP_MARK_RE, c):
            step_mark = True
        elif "按比例" in c and "扣" in c and "每" not in c and c.startswith("不足"):
            continuous_mark = True  # "不足1个百分点的按比例扣分"
        elif m := re.fullmatch(_ROUND_UP_RE, c):
            round_up = m  # "不足一个百分点的按照一个百分点计算"
        elif re.fullmatch(_FULL_AMOUNT_RE, c):
            bases.add(_HUNDRED)  # "足额配套的为满分": 100 %
            full_base = True
        elif m := re.fullmatch(_DEDUCT_RE, c) or re.fullmatch(_ONE_COUNT_RE, c):
            if found is not None:
                # Several kinds of one count at one rate ("未按规定审核的，每例扣0.1分；未及时
                # 维护的，每例扣0.1分"): the value is the total; checked as a count below.
                if (m["size"] or "1", m["unit"], m["pts"]) != (
                        found["size"] or "1", found["unit"], found["pts"]) or re.search(
                        r"\d", m["pre"] + found["pre"]) or (m["post"] and not _is_stop(
                        m["post"], weight)):
                    return None  # two deduction rates cannot be one rule
                kinds += 1
                continue
            found = m
            post = m["post"]
            if post and not _is_stop(post, weight):
                return None
            pre = re.sub(r"(?:的|部分|时)+$", "", m["pre"])
            if re.search(r"\d", pre):
                cond = _std_condition(pre)
                if cond is None or (cond[0] is not None and cond[1] is not None) or cond[4]:
                    return None
                # "超过100%的每…" / ">0每…": the losing side starts at the number. Or
                # the requirement ("每年开展培训不少于2次，每少1次…"): the verb then names
                # the other side, and the number is the base all the same.
                bases.add(cond[0] if cond[0] is not None else cond[1])
                if _verb_direction(m["verb"] or "") is None:
                    directions.add(ABOVE if cond[0] is not None else BELOW)
        elif m := re.fullmatch(_CLEAN_STATE_RE, c):
            pts = re.sub(r"^满分为?(?=\d)|^为", "", m["pts"])  # "进度满分8分"
            # "至少每季度主持召开一次例会…，得1分": 每季度 is how often, not a score word
            body = re.sub(r"每(?:季度|月|年|周|半年|旬)", "", m["body"])
            if re.search(_SCORE_WORDS_RE, body) or _std_points(pts, weight) != weight:
                return None
            clean += 1  # full marks for a state without a number: the count is 0
        elif re.fullmatch(_NO_SCORE_RE, c) and not re.search(_SCORE_WORDS_RE, c):
            described += 1
        elif re.fullmatch(r"[^,;。]*累计(?:扣分|扣除|计算|计扣)", c):
            pass  # "由一处数据错误造成两个以上数据错误的累计扣分": deductions add up, as they do
        elif found is None and not re.search(_SCORE_WORDS_RE + r"|分", c) and not re.search(
                r"[<>≤≥=]|以上|以下|以内|不低于|不少于|不高于|不超过|达到|超过|低于|不足|高于|少于|多于"
                r"|至少|最多", c):
            numbered += 1  # "春节前下达全部专项资金的50%": what the count below is measured by
        elif (m := re.fullmatch(rf"(?P<body>.*?\d.*?)(?:的|时|者)?{_GIVE}(?P<pts>满分|{_N}分)", c)) \
                and _std_points(m["pts"], weight) == weight and (
                    requirement or _std_condition(m["body"]) is None):
            required += 1  # "…不低于平均数的1/2，得1.5分": the requirement each counted one misses
        elif m := re.fullmatch(_COUNT_FLOOR_RE, c):
            n, unit = (m["n"], m["unit"]) if m["n"] else (m["n2"], m["unit2"])
            count_floors.append((Decimal(n), m["post"] is not None, unit))
        elif band := _std_band_clause(c, weight):
            cond, points = band
            if points == 0 and weight > 0 and _direction_of(cond) in (ABOVE, BELOW):
                floors.append(cond)  # "低于60%不得分": checked against the deduction below
                continue
            # A deduction cannot take an absolute value: "绝对值≤5%得满分，每超过…" stays manual.
            if points != weight or _direction_of(cond) == "range" or cond[4]:
                return None
            bases.add(cond[0] if cond[0] is not None else cond[1])
            if (d := _direction_of(cond)) is not None:
                directions.add(d)
        else:
            return None
    if found is None:
        return None
    count = _count_unit(found, bases, clean)
    if count is None and (clean or described or kinds > 1 or numbered or required):
        return None  # unnumbered states, kinds that add up: counts only
    if required and (required > 1 or not re.search(
            _REQUIREMENT_WORDS, (found["pre"] or "") + (found["subj"] or ""))):
        return None  # a requirement in numbers is the count's only when the count says so
    if count is None:  # "超过15个工作日不得分" beside a base: a floor like any other
        floors += [(n, None, inclusive, False, False) for n, inclusive, _ in count_floors]
        count_floors = []
    if count is not None:
        if floors or full_base or len(count_floors) > 1 or any(
                u != count for _, _, u in count_floors):
            return None  # a floor or 足额 is about another quantity than the count
        bases, directions = {_ZERO}, {ABOVE}  # none found is full marks
    elif found.re.pattern == _ONE_COUNT_RE or found["subj"]:
        return None  # "(每)…1项…的" without a count reading: what is counted is unclear
    if not bases and target is not None:
        # "每低5%扣1分": from the row's 目标值, when the verb says which side loses; "每滞后
        # 1个百分点" of a progress rate names no side of a target.
        if _verb_direction(found["verb"] or "") is None or re.search(_LAG_VERBS, found["verb"]):
            return None
        # Percent steps from a target are percentage points of a rate; a target outside
        # (1, 100] is a coefficient or an amount, of which "5%" would be another thing.
        if found["unit"] in ("%", "个百分点", "百分点") and not 1 < target <= _HUNDRED:
            return None
        bases.add(Decimal(target))
    if len(bases) != 1:
        return None
    verb = found["verb"]
    if verb and count is None:
        d = _verb_direction(verb)
        if d is None and not re.search(_NEUTRAL_VERBS, verb):
            return None  # "每发现一处…": a count, not a distance from the base
        if d is not None:
            directions.add(d)
    if len(directions) != 1:
        return None
    unit = found["unit"] or ""
    if full_base and unit not in ("%", "个百分点", "百分点"):
        return None
    (base,), (direction,) = bases, directions
    size = Decimal(found["size"] or 1)
    per = Decimal(found["pts"])
    if size <= 0 or per <= 0:
        return None
    if round_up:
        said = [Decimal(x) for x in (round_up["a"], round_up["b"]) if x]
        if any(x != size for x in said) or step_mark or continuous_mark:
            return None
        rule = DeductPerStep(base, direction, size, per, round_up=True)
    # "每…1个百分点扣x分" is read continuously; bigger steps count only when full, unless
    # the text says otherwise ("不足…不扣分" / "不足…按比例扣分").
    elif step_mark or (size > 1 and not continuous_mark):
        rule = DeductPerStep(base, direction, size, per)
    else:
        rule = DeductPerPoint(base, direction, per, size)
    for low, high, low_inc, high_inc, _ in floors:
        # "满意度低于60%的不得分": where the deduction has already taken everything it says
        # nothing new; earlier, it cuts the score off there (``不得分=<60``). One cutoff, on
        # the losing side of the base.
        edge = high if direction == BELOW else low
        if (high is None) != (direction == ABOVE) or edge is None:
            return None
        if _raw_deduction(rule, edge) < weight:
            beyond = edge < base if direction == BELOW else edge > base
            if len(floors) > 1 or not beyond:
                return None
            inclusive = high_inc if direction == BELOW else low_inc
            rule = dataclasses.replace(rule, cutoff=edge, cutoff_inclusive=inclusive)
    for n, inclusive, _ in count_floors:
        # "每迟报一天扣1分;迟报四天及以上不得分": the count itself cut off, where the
        # deduction has not taken everything yet.
        if n <= 0:
            return None
        rule = dataclasses.replace(rule, cutoff=n, cutoff_inclusive=inclusive)
    if base == 0 and direction == ABOVE and re.fullmatch(_COUNT_UNITS, unit):
        # "0例得满分，每多1例扣3.6分" (describe_rule's own text): a count after all.
        rule = dataclasses.replace(rule, unit=unit)
    return rule


_REQUIREMENT_WORDS = r"达不到要求|未达到要求|不符合要求|未达要求|不达标|达不到标准|不符合标准"
# "迟报四天及以上不得分", "有五处及以上逻辑审核错误,不得分", "发现有两次及以上的，此项不得分",
# "超过3次的不得分": a cut-off on the count itself (its unit is checked by the caller).
_COUNT_FLOOR_RE = (
    rf"(?:[^\d]{{0,12}}?(?P<n>{_N})(?P<unit>{_COUNT_UNITS})(?P<post>及以上|以上)"
    rf"|[^\d]{{0,8}}?(?:超过|多于|高于)(?P<n2>{_N})(?P<unit2>{_COUNT_UNITS}))"
    r"[^\d,;。]{0,20}?(?:的|时|者)?(?:此项|该项|本项)?(?:不得分|不计分|得0分|为0分|记0分|零分)"
)


# Points for every one counted, up to the 分值: "每开展1次培训得1分，最高3分", "1个部门0.5分，
# 满分2分". The verb must count something done, not something missing (那是扣分).
_PER_COUNT_RE = (
    rf"(?P<pre>[^\d]*?)(?:每(?P<verb>[\u4e00-\u9fff]{{0,6}}?)(?P<size>{_N})?|(?P<one>1))"
    rf"(?P<unit>{_COUNT_UNITS})(?P<subj>[^\d,;。扣加减]{{0,30}}?)(?:的)?(?:得|计|给|记|可得)?(?P<pts>{_N})分"
)
_PER_COUNT_CAP_RE = (
    rf"(?:本项|该项)?(?:满分|最高|最多)(?:为|得|计)?({_N})分(?:为止|封顶)?|以({_N})分为限"
    rf"|(?:得|计)?({_N})分为止"
    rf"|[^\d得计给记为]*?({_N})分"  # the item's own points after its name: "…政策(2分)"
)


def _std_per_count(clauses: list[str], weight: Decimal) -> Rule | None:
    """"每开展1次得1分，最高3分": score = points × count, capped at the 分值, which is
    按比例 with the count that earns the whole 分值 as its target."""
    found = None
    capped = False
    if any(re.search(r"以上(?:指标|各项|几项|内容)|上述", c) for c in clauses):
        return None  # "以上指标，每项1分": listed items that add up, each its own measure
    for c in clauses:
        if m := re.fullmatch(_PER_COUNT_RE, c):
            verb = m["verb"] or ""
            if found is not None or re.search(r"少|缺|低|减|降|差|未|不|超|扣|漏|错", verb + m["pre"]):
                return None
            found = m
        elif m := re.fullmatch(_PER_COUNT_CAP_RE, c):
            if Decimal(next(g for g in m.groups() if g)) != weight:
                return None
            capped = True
        elif any(re.fullmatch(p, c) for p in _CAP_RES):
            capped = True
        elif not (re.fullmatch(_NO_SCORE_RE, c) and not re.search(_SCORE_WORDS_RE, c)):
            return None
    if found is None or not capped:
        return None  # without a cap the points could pass the 分值: a bonus, not this rule
    size, per = Decimal(found["size"] or 1), Decimal(found["pts"])
    if size <= 0 or per <= 0 or per >= weight:
        return None
    target = weight * size / per
    if target * per != weight * size or target != target.quantize(Decimal("0.0001")):
        return None
    return Proportional(target.normalize() if target != target.to_integral() else
                        target.quantize(Decimal(1)))


_CLEAN_STATE_RE = (
    r"(?P<body>[^\d]+?)(?:的|时|者)?(?:本项|该项|此项|本指标|该指标)?"
    rf"{_GIVE}(?P<pts>满分|(?:满分)?(?:为)?{_N}分)"
)


_ITEM_UNITS = ("项", "份", "篇", "条", "处", "件", "次")  # missing items, never a target's amount


def _count_unit(found, bases: set, clean: int) -> str | None:
    """The unit when a deduction counts occurrences from 0 ("每发现1例", "每滞后1年",
    "要素齐全的计2分…每少1项"), else None. Never with a base in numbers: then the value is
    a distance from it."""
    unit = found["unit"] or ""
    if bases or not re.fullmatch(_COUNT_UNITS, unit):
        return None
    subj = found["subj"] or ""
    if not re.fullmatch(_COUNT_SUBJECT_RE, subj) or re.match(r"百分点|点|单位|%", subj):
        return None
    verb = found["verb"] or ""
    if not verb or re.search(_LAG_VERBS, verb):
        return unit  # "每起扣3分", "每延迟拨付1天": counted from none / from on time
    lead = re.match(rf"(?:{_COUNT_VERBS})", verb)
    if lead is None:
        return None  # 超过/低于/相差 need a base
    if lead.group() in ("缺失", "缺少", "缺", "少") and not clean and unit not in _ITEM_UNITS:
        return None  # "每少1人" may be short of a target; "每少1项", "…齐全的计2分，每少1个" count
    return unit


def _verb_direction(verb: str) -> str | None:
    """Which side of the base a "每…" verb walks: 超过/增加 above, 低于/减少 below."""
    if re.search(_NEUTRAL_VERBS, verb):
        return None
    if re.search(_LAG_VERBS, verb):
        return ABOVE  # days or years late: the value is the delay itself
    if re.search(_BELOW_VERBS, verb):
        return BELOW
    if re.search(_ABOVE_VERBS, verb):
        return ABOVE
    return None


def _is_stop(c: str, weight: Decimal) -> bool:
    """"扣完为止", "扣完20分为止", "最多扣3分" (when that is the whole 分值)."""
    if any(re.fullmatch(p, c) for p in _STOP_RES):
        return True
    m = re.fullmatch(
        rf"(?:直至|直到)?(?:扣完|扣满|最多扣|最高扣|扣分上限为?)(?:本项|该项)?({_N})分(?:为止|即止|为限|止)?",
        c,
    )
    # "扣完20分为止" in a row of 6 (the section's cap): the row's own 0 comes first. A cap
    # below the 分值 ("最多扣3分" of 6) is a floor, not this.
    return m is not None and Decimal(m.group(1)) >= weight


def _stated_weight(c: str) -> Decimal | None:
    m = re.fullmatch(_STATED_WEIGHT_RE, c)
    return None if m is None else Decimal(m.group(1))


def _is_aside(c: str) -> bool:
    """A clause that only says where to look ("查看最近连续两年资料")."""
    return re.fullmatch(_ASIDE_RE, c) is not None


# "得分=(1-预算调整率)×分值", "指标得分=1-10×调剂金额/年初预算数))×指标分值" (parentheses as
# published): a rate or a ratio, times k, taken from 1.
_ONE_MINUS_RE = (
    r"(?:[\u4e00-\u9fff]{0,6}得分=)?\(*1-(?:(?P<k>\d+(?:\.\d+)?)×)?(?P<x>[^×()]+?)\)*"
    r"×(?:本项|该项|该|本)?(?:指标)?(?:分值|权重|满分)"
)


def _std_proportional(clauses: list[str], weight: Decimal) -> Rule | None:
    markers = 0
    lower = lower_full = False
    rate_formula = False
    targets: set[Decimal] = set()
    fulls_below: set[Decimal] = set()
    zeros: list = []
    spans: list[tuple[Decimal, Decimal]] = []
    falls_to: Decimal | None = None  # "得分=(1-10×调剂金额/预算数)×分值": 0 at 10 %
    cutoffs: list[Decimal] = []
    for c in clauses:
        if m := re.fullmatch(_ONE_MINUS_RE, c):
            # Full marks at 0, nothing at 100/k %: linear, lower is better.
            k = Decimal(m["k"] or 1)
            # A deviation or change may be of either sign ("(1-偏差率)" above 1): not read.
            if k <= 0 or falls_to is not None or re.search(r"偏差|偏离|变动|调整|增长|差异|变化", m["x"]) \
                    or not (re.fullmatch(_RATE, m["x"]) or "/" in m["x"]):
                return None
            falls_to, markers = _HUNDRED / k, markers + 1
            continue
        if falls_to is not None and c == "其中":
            continue
        if falls_to is not None and (m := re.fullmatch(
                rf"若?[^\d<>]*(?:>|超过|大于)(?P<n>{_N})(?P<pct>%)?(?:的)?(?:此项|本项|该项)?"
                r"(?:得0分|不得分|不计分)", c)):
            # "若调剂金额/预算数>0.1,此项得0分": where the formula reaches 0 anyway
            n = Decimal(m["n"])
            if m["pct"] is None and n > 1:
                return None  # a fraction or a percent? The text does not say.
            cutoffs.append(n if m["pct"] else n * _HUNDRED)
            continue
        # "…的资金比例（得分=资金到位率×分值）", "得分（20分×执行率）": the formula in brackets.
        if m := re.fullmatch(r"(?P<desc>[^\d()=]*)\((?P<f>[^()]*[×/][^()]*)\)", c):
            c = m["f"]
        c = re.sub(_CAP_NOTE_RE, "", c)  # "(超过100%以100%计算)": the rule's own cap
        # "低于100%的按到位率×5计算", "未完成的按完成率×分值计分", "未达到的按实际完成值/目标
        # 值×分值计分": the formula for the rest. A rate's formula reaches full marks at 100 %
        # only, so a bound must be 100 %.
        if m := re.fullmatch(rf"(?P<pre>[^×\d]*|[^×]*?\d[^×]*?)(?:的|时)?按(?P<f>(?:{_RATE}|"
                             rf"{_ACTUAL_WORD}/{_TARGET_WORD})[×][^×]+?)"
                             r"(?:计算|计分|得分|赋分|计)", c):
            cond = _std_condition(m["pre"]) if re.search(r"\d", m["pre"]) else None
            if re.search(r"\d", m["pre"]) and (cond is None or cond[0] is not None
                                                or cond[1] != _HUNDRED):
                return None
            c = m["f"]
        c = re.sub(r"^即?(?:[\u4e00-\u9fff]{0,8}?得分值?=|以(?=[^×]+×))", "", c)
        formula = re.sub(r"^得分=", "", c)
        formula = re.sub(r"^\(([^()]*/[^()]*)\)(?=×)", r"\1", formula)  # "(实际值/目标值)×分值"
        formula = re.sub(r"[×](?:本项|该项|该|本)?(?:指标)?(?:分值|权重|满分)$", "", formula)
        if "/" in formula and (k := re.search(rf"[×]({_N})分?$", formula)):
            if Decimal(k.group(1)) != weight:  # "实际/计划×10" in a row of 8 分
                return None
            formula = formula[: k.start()]
        formula = re.sub(r"^(?:本项|该项|该|本)?(?:指标)?(?:分值|权重|满分)[×]", "", formula)
        if m := re.search(rf"\(目标值({_N})%?\)$", formula):  # "（目标值100%）"
            targets.add(Decimal(m.group(1)))
            formula = formula[: m.start()]
        if re.fullmatch(rf"{_TARGET_WORD}/{_ACTUAL_WORD}", formula):
            lower, markers = True, markers + 1
        elif re.fullmatch(rf"{_ACTUAL_WORD}/{_TARGET_WORD}", formula):
            markers += 1
        elif m := next((m for p in _RATE_FORMULA_RES if (m := re.fullmatch(p, c))), None):
            w = m["w"].rstrip("分")
            if _to_decimal(w) is not None and Decimal(w) != weight:
                return None
            rate_formula, markers = True, markers + 1
        elif "越低越好" in c or "反向指标" in c:
            lower = True
        elif re.fullmatch(r"(?:根据|按照?|依据)(?:实际)?[\u4e00-\u9fff]{0,10}?率(?:计算|折算)?"
                          r"(?:得分|计分|赋分|给分)", c):
            rate_formula, markers = True, markers + 1  # "按照实际完成率得分": rate × 分值
        elif (m := re.fullmatch(rf"(?:得分=)?[\u4e00-\u9fff]{{0,8}}(?:平均分|得分|分数|成绩)×(?P<w>{_N})%",
                                c)) and Decimal(m["w"]) == weight:
            # "得分=平均分×12%" on a row of 12: a score out of 100 scaled to the 分值
            rate_formula, markers = True, markers + 1
        elif re.fullmatch(r"(?:根据|按照?|依据)[^\d]*?(?:进行)?折算", c) or re.fullmatch(
                rf"达标(?:线|分数?)?为{_N}分(?:数)?", c):
            pass  # "按照单位测评平均分进行折算", "达标为90分": how, and the pass mark
        elif (m := re.fullmatch(rf"[\u4e00-\u9fff、]{{0,16}}满分(?:为)?(?P<w>{_N})分", c)):
            if Decimal(m["w"]) != weight:  # "单位和一般公共场所满分12分"
                return None
        elif m := re.fullmatch(_SHARE_SCORE_RE, c):
            if m["w"] is not None and Decimal(m["w"]) != weight:
                return None
            markers += 1
        elif re.fullmatch(_NOT_APPLICABLE_RE, c) or _is_aside(c):
            pass
        elif (stated := _stated_weight(c)) is not None:
            if stated != weight:
                return None
        elif re.search(r"按(?:实际)?(?:完成)?(?:的)?比例", c) and "每" not in c:
            markers += 1
            pre = re.sub(r"(?:的|时)+$", "", c[: c.index("按")])
            if re.search(r"\d", pre):
                cond = _std_condition(pre)
                if cond is not None and cond[0] is not None and cond[1] is not None:
                    spans.append((cond[0], cond[1]))  # "15-30日按比例减分": between two ends
                elif cond is None or cond[0] is not None:
                    return None
                else:
                    targets.add(cond[1])  # "低于90%的按比例得分": the target is 90
        elif re.fullmatch(_TARGET_DONE_RE, c) or any(re.fullmatch(p, c) for p in _CAP_RES):
            if (k := re.search(rf"({_N})分$", c)) and Decimal(k.group(1)) != weight:
                return None  # "最高4分" on a row of 6: the text's own full marks differ
        elif re.fullmatch(r"实际值?(?:≤|<|不超过|不高于)0(?:的)?(?:得|计)?满分", c):
            lower_full = True  # the lower-is-better rule's own note
        elif band := _std_band_clause(c, weight):
            cond, points = band
            low, high = cond[0], cond[1]
            if cond[4]:
                return None  # a proportional score of an absolute value is not one we write
            if points == 0 and weight > 0 and (low is None) != (high is None):
                zeros.append(cond)  # ">30日为0分": where the linear part ends
            elif points != weight or (low is not None and high is not None and low != high):
                return None
            elif low is None:
                fulls_below.add(high)  # "≤15日得满分"
            else:
                targets.add(low)  # "≥90%得满分" / "100%得满分"
        else:
            return None
    if falls_to is not None:
        if markers != 1 or targets or fulls_below or zeros or spans or any(
                x != falls_to for x in cutoffs):
            return None
        return Proportional(_ZERO, True, falls_to)
    if zeros or fulls_below or spans:
        return _std_linear(targets, fulls_below, zeros, spans, markers, lower)
    if markers == 0 or len(targets) > 1 or (lower_full and not lower):
        return None
    target = next(iter(targets), None)
    if rate_formula and target is not None and target != _HUNDRED:
        return None  # "95%得满分" beside "到位率×分值": rate or rate/95? The text does not say.
    if target is None and rate_formula and not lower:
        target = _HUNDRED  # "预算执行率×分值": a rate is already a share of 100 %
    if target is not None and target <= 0:
        return None
    return Proportional(target, lower)


def _std_linear(targets, fulls_below, zeros, spans, markers, lower) -> Rule | None:
    """"≤15日得满分，>30日为0分，15-30日按比例减分": full marks on one side of a target,
    none beyond a zero point, linear in between."""
    if markers != 1 or lower or len(zeros) != 1 or len(spans) > 1:
        return None
    (z_low, z_high, *_), = zeros
    if fulls_below and not targets and len(fulls_below) == 1 and z_low is not None:
        target, zero = next(iter(fulls_below)), z_low  # lower is better
        if zero <= target:
            return None
    elif targets and not fulls_below and len(targets) == 1 and z_high is not None:
        target, zero = next(iter(targets)), z_high
        if zero >= target:
            return None
    else:
        return None
    if spans and set(spans[0]) != {target, zero}:
        return None
    return Proportional(target, zero > target, zero)


def _std_bands(clauses: list[str], weight: Decimal, count_unit: str = "") -> Rule | None:
    bands = []
    uses_abs = False
    else_zero = False
    whole = none_found = compliant = 0
    one_short = False  # "净完成数有1人不达标，该项不得分": anything short of 100 % scores 0
    rest_manual = taken = False  # taken: a band written as what it deducts ("扣0.5分")
    short = None  # "未完成扣2分": what a value short of the one band loses
    whole_verbs: list[str] = []  # the whole target met written beside other bands
    written: list[str] = []  # the clause of each band, in order
    for c in clauses:
        band = _std_band_clause(c, weight)
        points_low = None
        if band is None and (ranged := _std_range_band_clause(c)):
            band, points_low = ranged[:2], ranged[2]
        if band is None and (m := re.fullmatch(_WHOLE_DONE_RE, c)):
            if _std_points(m["pts"], weight) != weight:
                return None
            whole += 1  # "全部完成得5分": the completion rate is 100 %
            whole_verbs.append(next(iter(re.findall(_DONE_WORDS, c)), ""))
            band = (_HUNDRED, None, True, False, False), weight
        if band is None and (m := re.fullmatch(_WHOLE_IN_LIST_RE, c)):
            if re.search(_NOT_WHOLE_RE, m["subj"]) or _std_points(
                m["pts"] or m["bpts"], weight
            ) != weight:
                return None
            whole += 1
            whole_verbs.append(m["verb"] if "全部" in c or "足额" in c or "全面" in c
                               else "bare:" + m["verb"])
            band = (_HUNDRED, None, True, False, False), weight
        if band is None and (m := re.fullmatch(r"(?P<body>.+?)(?:的|时|者)?扣(?P<n>\d+(?:\.\d+)?)分",
                                               c)):
            # "6-10名的扣0.5分" beside "前5名的得满分": the 分值 less what it takes.
            cond = _std_condition(m["body"]) if "每" not in m["body"] else None
            if cond is not None and Decimal(m["n"]) <= weight:
                band, taken = (cond, weight - Decimal(m["n"])), True
        if band is None and re.fullmatch(_REST_MANUAL_RE, c):
            rest_manual = True
            continue
        if band is None and len(clauses) == 2 and c is clauses[0] and re.search(r"\d", c) \
                and re.fullmatch(rf"(?:否则|反之)(?:的)?{_ZERO_PTS}", clauses[1]) \
                and (cond := _std_condition(c)) is not None and (cond[0] is None) != (cond[1] is None):
            band = cond, weight  # "至少2种宣传方式,否则不得分": met is the 分值
        if band is None and (
            # "根据报表数据采集未到县数占行政区划总数的比例": what the value is
            re.fullmatch(r"(?:根据|按照?|依据)[^\d]*", c)
            # "(1)年度信息总量,总量200条得8分": the measure's name heads the bands
            or (c is clauses[0]
                and re.fullmatch(r"[\u4e00-\u9fff]{2,16}(?:总量|数量|总数|率|情况|程度)", c))
        ) and not re.search(_SCORE_WORDS_RE, c):
            continue
        if band is None and (m := re.fullmatch(
                r"(?:未|没有|不能)(?:完成|达到|达标)(?:目标|任务|计划)?(?:的|者|时)?(?:扣|扣除)"
                rf"(?P<n>{_N})分", c)):
            short = Decimal(m["n"])  # "总量200条得8分,未完成扣2分": short of the target
            continue
        if band is None and (m := _none_found(c)):
            if _std_points(m["pts"], weight) != weight:
                return None
            none_found += 1  # "未发现任何违规行为，得10分": the number found is 0
            band = (_ZERO, _ZERO, True, True, False), weight
        if band is None:
            if m := next((m for p in _ELSE_ZERO_RES if (m := re.fullmatch(p, c))), None):
                subject = (m.groupdict().get("subject") or "").lstrip("如若")
                if re.fullmatch(rf".*(?:有|差|少|缺)1(?:{_COUNT_UNITS})", subject):
                    one_short = True
                elif subject and not any(subject in other for other in clauses if other != c):
                    return None
                else_zero = True  # "否则不得分": what no band covers scores 0 anyway
                continue
            if re.fullmatch(_COMPLIANT_RE, c):
                compliant += 1  # "资金使用规范": said again by "未发现违规…" only
                continue
            if _is_aside(c):
                continue
            stated = _stated_weight(c)
            if stated is not None and stated == weight:
                continue
            return None
        (low, high, low_inc, high_inc, abs_flag), points = band
        uses_abs = uses_abs or abs_flag
        bands.append(Band(low, high, low_inc, high_inc, points,
                          points_low=None if points_low == points else points_low))
        written.append(c)
    if not bands:
        return None
    if whole and len(bands) > 1:
        if not _whole_beside_bands(bands, written, whole_verbs):
            return None
        whole = 0  # an ordinary band from here on: the top one
    elif any(v.startswith("bare:") for v in whole_verbs):
        return None  # "完成(5分)" alone: completed what? Only beside the bands it heads.
    if whole or none_found:
        # Either stands for one value only: with other bands the value would be two things.
        if len(bands) != 1 or (none_found and not else_zero) or (compliant and not none_found):
            return None
        return Bands(tuple(bands), unit="次" if none_found else "")
    if compliant:
        return None
    if one_short:
        full = [b for b in bands if b.points == weight]
        if len(full) != 1 or full[0].low != _HUNDRED or (
            full[0].high is not None and full[0].high != _HUNDRED
        ):
            return None  # a shortfall of one is "below 100 %" only beside a 100 % band
    if count_unit:
        b = bands[0]
        if len(bands) != 1 or (b.low, b.high) != (_ZERO, _ZERO) or b.points != weight:
            return None
        return Bands(tuple(bands), unit=count_unit)
    if taken and not any(b.points == weight for b in bands):
        # "扣0.5分" from what? Only beside a band of full marks: "5%以内扣1分,5%-10%扣3分…"
        # never gives the 分值, which the engine reports as a contradiction; left manual.
        return None
    if short is not None:
        # "总量200条得8分,未完成扣2分": the one band is the target (reached at its number or
        # above), and a value short of it keeps the 分值 less the deduction.
        b = bands[0] if len(bands) == 1 else None
        if b is None or b.points != weight or b.low is None or (
                b.high is not None and b.high != b.low) or short > weight or else_zero:
            return None
        return Bands((Band(b.low, None, b.low_inclusive, False, weight),
                      Band(None, b.low, False, not b.low_inclusive, weight - short)))
    # Bands written as what they take say nothing of the values they do not list.
    rest_manual = rest_manual or taken
    anchors = [b for b in bands if b.low == b.high and b.low != 0 and b.points > 0]
    ranks = re.search(r"\d(?:名|位)", "".join(written)) and all(
        b.low == b.low.to_integral_value() for b in anchors)
    if len(anchors) > 1 and not ranks:
        return None  # "完成95%得3分，完成90%得2分": is 97 % "完成95%"? The text does not say.
    if len(bands) == 1:
        # One band alone ("100%得满分") is more likely half a rule than a rule, unless it
        # is a target met or not: "达到80%以上得25分", "…得满分，否则不得分".
        b = bands[0]
        one_sided = b.low is None or b.high is None
        if b.points != weight or not (else_zero or one_sided) or b.points_low is not None:
            return None
    ordered = _most_specific_first(bands)
    # A value between two bands is in none: unless an else clause gives it 0 ("否则不得分"),
    # the text does not say what it scores, so the evaluator does, never 0
    # ("80%以上…60%以上…50%及以下": 55 %). Counts have no values between 1 and 2.
    counted = not re.search(r"%|‰|百分点", "".join(written)) and re.search(
        rf"\d(?:{_COUNT_UNITS})", "".join(written)) is not None
    rest_manual = rest_manual or (not else_zero and _bands_gap(ordered, counted))
    return Bands(ordered, uses_abs, rest_manual=rest_manual)


def _whole_beside_bands(bands, written, verbs) -> bool:
    """"资金全部到位(14分)到位率在75%以上(10分到13分)…": the whole target met heads bands
    on the same measure (each names its verb), all below 100 %, at the 分值."""
    if len(verbs) != 1:
        return False
    verb = verbs[0].removeprefix("bare:")
    whole = next(i for i, b in enumerate(bands) if b.low == _HUNDRED and b.high is None)
    others = [(b, c) for i, (b, c) in enumerate(zip(bands, written, strict=True)) if i != whole]
    return bool(verb) and all(
        verb in c and (b.low is None or b.low < _HUNDRED) and b.points <= bands[whole].points
        for b, c in others
    )


def _most_specific_first(bands: list[Band]) -> tuple[Band, ...]:
    """"达到5%得1分；达到10%得2分；达到15%以上得3分": of open bands on the same side the
    one furthest out is tested first, so 12 % earns the 2 分 it reached, not the 1 分 of
    the first line. Other bands keep the written order (first match wins)."""
    lows = [i for i, b in enumerate(bands) if b.high is None and b.low is not None]
    highs = [i for i, b in enumerate(bands) if b.low is None and b.high is not None]
    out = list(bands)
    for group, key in ((lows, lambda b: (-b.low, not b.low_inclusive)),
                       (highs, lambda b: (b.high, b.high_inclusive))):
        if len(group) > 1:
            ordered = sorted((bands[i] for i in group), key=key)
            for i, b in zip(group, ordered, strict=True):
                out[i] = b
    return tuple(out)


_TIER_POINTS = (
    rf"(?:(?P<lo>{_N})分?(?:-|~|至|到)(?P<hi>{_N})分|(?P<pts>{_PTS})"
    # "优得100%（3分）", "好得80%-100%（12-15分）": shares of the weight, as describe_rule says
    rf"|(?P<plo>{_N})%(?:-|~|至)(?P<phi>{_N})%(?:\({_N}-{_N}分\))?"
    rf"|(?P<pct>{_N})%(?:\({_N}分\))?)"
)
_TIER_LABEL = r"(?:如|若|凡|对)?(?P<label>[^\d<>=≤≥%]+?)"
_TIER_RES = (
    rf"{_TIER_LABEL}\((?:得|计)?{_TIER_POINTS}\)",  # 好（4-5分）
    rf"{_TIER_LABEL}(?:的|者)?{_GIVE}{_TIER_POINTS}",  # 制度健全得3分
)


def _std_tiers(clauses: list[str], weight: Decimal) -> Rule | None:
    labels: list[str] = []
    values: list[tuple[Decimal | None, Decimal]] = []
    shares: list[tuple[Decimal | None, Decimal]] = []
    if clauses and "是否" in clauses[0] and not re.search(r"\d", clauses[0]):
        clauses = clauses[1:]  # "目标设置是否合理。合理：2分；…": the question heads the tiers
    single = len(clauses) > 1 and all(
        not re.search(r"\d", c) and not re.search(_SCORE_WORDS_RE, c) for c in clauses[:-1]
    )
    if single or len(clauses) == 1:
        # "做到专款专用，不存在挪用…现象的15分", "严格按项目批复内容建设的。15分": one state
        # in several clauses, and its points; the evaluator says whether it holds.
        clauses = ["、".join(clauses[:-1] + [clauses[-1]])] if single else clauses
    for c in clauses:
        # "不健全的扣10分" in a row of 10 分: the whole 分值 is lost.
        if (k := re.fullmatch(rf"(.+?)(?:的|者)?扣({_N})分", c)) and Decimal(k[2]) == weight:
            c = k[1] + "得0分"
        m = next((m for p in _TIER_RES if (m := re.fullmatch(p, c))), None)
        if m is None or re.search(r"每|扣|比例|[()]", m["label"]):
            return None
        if re.search(_TARGET_CMP_RE, m["label"]):
            return None  # "小于或等于年度目标值": a number to compare, once the target is known
        labels.append(m["label"])
        if m["lo"] is not None:
            values.append(tuple(sorted((Decimal(m["lo"]), Decimal(m["hi"])))))
        elif m["pts"] is not None:
            values.append((None, _std_points(m["pts"], weight)))
        elif m["plo"] is not None:
            shares.append(tuple(sorted((Decimal(m["plo"]), Decimal(m["phi"])))))
        else:
            shares.append((None, Decimal(m["pct"])))
    if len(labels) == 1 and values == [(None, weight)]:
        # One state: met is full marks. A grade alone ("优秀得满分") is one tier of a scale
        # the text does not give, so half a rule.
        if re.fullmatch(_GRADE_WORDS, labels[0]):
            return None
        return Manual((Tier(labels[0], _HUNDRED),))
    labels = _clean_labels(labels)
    if len(labels) < 2 or len(set(labels)) != len(labels) or (values and shares):
        return None  # tiers in points and in percent mixed: not one scale
    # The best tier must be the whole 分值: "目标明确(1分)，目标细化(1.5分)…" are items that
    # add up, not tiers to choose from.
    if (shares and max(hi for _, hi in shares) != _HUNDRED) or (
        values and max(hi for _, hi in values) != weight
    ):
        return None
    if shares:
        return Manual(tuple(Tier(x, hi, lo) for x, (lo, hi) in zip(labels, shares, strict=True)))
    return Manual(_tiers_from_points(labels, values, weight))


def _tiers_from_points(labels, values, weight: Decimal) -> tuple[Tier, ...]:
    """Tiers as percent of the weight when every share is exact, else in points."""

    def share(x: Decimal) -> Decimal | None:
        if weight <= 0:
            return None
        pct = x * _HUNDRED / weight
        exact = pct == pct.quantize(Decimal("0.01")) and pct * weight / _HUNDRED == x
        return pct if exact else None

    ends = [x for lo, hi in values for x in (lo, hi) if x is not None]
    if all(share(x) is not None for x in ends):
        return tuple(
            Tier(label, share(hi), None if lo is None else share(lo))
            for label, (lo, hi) in zip(labels, values, strict=True)
        )
    return tuple(
        Tier(label, hi, lo, absolute=True) for label, (lo, hi) in zip(labels, values, strict=True)
    )


def _clean_labels(labels: list[str]) -> list[str]:
    """Drop the subject the labels share: 目标明确/目标较明确 → 明确/较明确, and
    制度健全/基本健全/不健全 → 健全/基本健全/不健全."""
    prefix = _common_prefix(labels)
    longer = all(len(x) > len(prefix) for x in labels)
    if len(prefix) >= 2 and prefix not in _DEGREE_WORDS and longer:
        labels = [x[len(prefix) :] for x in labels]
    suffix = _common_prefix([x[::-1] for x in labels])[::-1]
    if not suffix:
        return labels
    cleaned = []
    for x in labels:
        head = x[: len(x) - len(suffix)]
        degree = next((d for d in _DEGREE_WORDS if head.endswith(d)), "")
        cleaned.append(degree + suffix)
    return cleaned if len(set(cleaned)) == len(cleaned) else labels


def _common_prefix(items: list[str]) -> str:
    first = min(items, key=len) if items else ""
    for i, ch in enumerate(first):
        if any(x[i] != ch for x in items):
            return first[:i]
    return first



_SCORE_RANGE_RE = rf"{_N}分?(?:-|~|到|至){_N}分(?!数)"
_STATED_WEIGHT_RE = (
    rf"(?:(?:本项|该项|本指标|该指标)?满分(?:为|是)?|(?:本项|该项)(?:分值)?(?:为|计)?)({_N})分"
)
_COMPOSITE_RE = r"各占|每项|分别计|其中|另外|同时|且|以上指标"


def _has_bonus(s: str) -> bool:
    """Bonus points (加分) beyond the 分值; "不另外加分" is a cap, not a bonus."""
    for m in re.finditer(rf"(?<![增追参附叠])加(?:{_N}分|分)|奖励{_N}分", s):
        if not re.search(r"不|再|另|予", s[max(0, m.start() - 3) : m.start()]):
            return True
    return False


def _read_clauses(s: str, weight: Decimal, target: Decimal | None = None) -> Rule | None:
    # A heading with the item's points ("作风建设(18分):") must agree with the 分值.
    if m := re.match(rf"[\u4e00-\u9fff、“”]{{1,24}}\(({_N})分\):", s):
        if Decimal(m.group(1)) != weight:
            return None
        s = s[m.end() :]
    # A lead like "评分标准：" or "按绝对值计：" heads the whole text; only 绝对值 matters.
    lead = r"([\u4e00-\u9fff]{0,8}(?:标准|规则|方法|办法|计分|评分|评定|说明|绝对值)[\u4e00-\u9fff]{0,4}):"
    if m := re.match(lead, s):
        s = ("绝对值" if "绝对值" in m.group(1) else "") + s[m.end() :]
    count_unit = ""
    if m := re.match(rf"按({_COUNT_UNITS})数计:", s):  # describe_rule's lead for counts
        count_unit, s = m.group(1), s[m.end() :]
    # A closing bracket that holds a list of scoring notes ("…政策。(2分,1个部门0.5分,满分2分)")
    # is more clauses, not a parenthetical.
    s = re.sub(r"\(([^()]*,[^()]*分[^()]*)\)。?$", r";\1", s)
    clauses = _std_clauses(s)
    if not clauses:
        return None
    if count_unit:
        rule = _std_bands(clauses, weight, count_unit)
        return rule if rule is not None and len(rule.bands) == 1 else None
    if target is not None and (m := re.fullmatch(
            rf"(?:得分=)?(?P<f>{_N})×实?际?[\u4e00-\u9fff]{{0,10}}(?:数|值|量)", s.rstrip("。;"))):
        # "4×实达标数" (宝鸡 折算计分): the score is a factor times the value; it is 按比例 when
        # the factor reaches the 分值 exactly at the row's 目标值 (0.57×35 = 19.95 of 20 is not).
        if Decimal(m["f"]) * target == weight and target > 0:
            return Proportional(target)
        return None
    rule = _std_deduct(clauses, weight, target)
    for reader in (_std_proportional, _std_per_count, _std_bands, _std_tiers):
        if rule is not None:
            return rule
        rule = reader(clauses, weight)
    if rule is None and (m := re.match(_HEADING_RE, s)) and m.end() < len(s):
        # "办理程序(10分)。未按程序办理的每件扣10分": the item's name and points head the
        # text; the rest is read as a deduction or proportional rule only (tried last: a
        # "完成(5分)。完成80%以上(4分)…" is a band, never a heading).
        rest = _read_clauses(s[m.end() :], weight, target)
        if Decimal(m["w"]) == weight and isinstance(
                rest, DeductPerPoint | DeductPerStep | Proportional):
            return rest
    return rule


# "办理程序(10分)。", "严格落实党管机构编制原则（1.5分）。", "…免疫密度(12分×2项,即…)。"
_HEADING_RE = rf"[\u4e00-\u9fff、“”]{{1,30}}\((?P<w>{_N})分(?:[×,][^()]*)?\)[。:]"


# "达到年度目标值", "小于或等于年度目标值", "大于目标值": a comparison with the row's 目标值
# (or a reference amount the 目标值 holds) instead of a number.
_TARGET_NOUNS = (
    "目标值|目标|计划值|计划数|计划|任务数|任务|指标值|指标|基数|面积|总量|数量|人数|户数|金额"
    "|平均年龄|平均值|平均数|平均水平"
)
_TARGET_CMP_RE = (
    rf"(?P<op>{_LEADING_OPS_RE}|≤|≥|<|>)"
    rf"(?P<obj>[^,;。:\d<>≤≥=]{{0,30}}?(?:{_TARGET_NOUNS})(?:\([^()\d]{{0,20}}\))?)"
    r"(?=(?:的|时|者)?(?:[,;。:]|$|得|计|记|为|不得|不计|扣|\((?:得|计)?\d))"
)


def _stated_target(s: str) -> str:
    """"达到批准任务(100%)得满分": the number in brackets is the comparison."""
    return re.sub(
        rf"(?P<op>{_LEADING_OPS_RE}|≤|≥|<|>)[^,;。:\d<>≤≥=]{{0,30}}?(?:{_TARGET_NOUNS})的?"
        rf"\((?P<n>{_N}%?)\)",
        lambda m: m["op"] + m["n"],
        s,
    )


def _with_target(s: str, target: Decimal) -> str:
    """The comparisons with the target written with the row's target as a number."""
    t = format(Decimal(target).normalize(), "f")
    return re.sub(_TARGET_CMP_RE, lambda m: m["op"] + t, s)


# "完成得基本分,未完成的不得分", "达到目标得满分，未达到不得分": nothing but the target met.
_DONE_OR_NOT_RE = (
    r"(?:全部)?(?:完成|达到|达标|实现)(?:年度|全年)?(?:目标|任务|计划|目标任务|指标)?(?:的)?,?"
    rf"(?:得|计|记|给)(?P<pts>满分|基本分|{_N}分)[,;]"
    r"(?:未完成|未达到|没有完成|未达标|达不到|未实现)(?:目标|任务|计划)?(?:的)?,?(?:该项|本项)?"
    r"(?:不得分|不计分|得0分|不给分)"
)


def _reading(text, weight, target=None):
    """(rule or None, why-manual or "", stated weight or None) for one text; ``target`` is
    the row's 目标值, for texts that compare with it without writing it."""
    if not isinstance(text, str) or not text.strip():
        return None, "为空", None
    try:
        weight = _as_weight(weight)
    except RuleError:
        return None, "所在行的分值为空或不是数字", None
    if weight <= 0:
        return None, "所在行的分值不是正数", None
    s = _stated_target(_std_normalize(text))
    if target is not None:
        try:
            target = _to_target(target)
        except RuleError:
            target = None
    if target is not None:
        s = _with_target(s, target)
        m = re.fullmatch(_DONE_OR_NOT_RE, s.rstrip("。;"))
        if m and (m["pts"] in ("满分", "基本分") or _to_decimal(m["pts"][:-1]) == weight):
            # "完成得基本分,未完成的不得分" with the row's 目标值: done is reaching it
            return Bands((Band(Decimal(target), None, True, False, weight),)), "", None
    ranged = re.search(_SCORE_RANGE_RE, s) is not None
    if _has_bonus(s):
        return None, "含加分项，得分可能超出分值，需评价人核定", None
    discretion = re.search(_DISCRETION_RE, s) is not None
    rule = _read_clauses(s, weight, target)
    # Score ranges are read only as bands that leave the range to the evaluator.
    range_bands = isinstance(rule, Bands) and (
        rule.rest_manual or any(b.points_low is not None for b in rule.bands)
    )
    if rule is not None and not isinstance(rule, Manual) and (
        (ranged and not range_bands) or discretion
    ):
        rule = None  # a range or a discretionary clause leaves the score to the evaluator
    stated = None
    if rule is None and not (ranged or discretion):
        # Written for other full points ("≤100%计6分…" in a row of 8 分): read at those
        # points, and let the caller report the contradiction at the cell.
        # Full points are what a text gives ("计6分", "得满分6分", "×20"), never what it takes.
        stated_points = re.findall(rf"(?:计|得|记|为|满分|\(|×)({_N})分?", s)
        for raw in dict.fromkeys(stated_points):
            other = Decimal(raw)
            if other > 0 and other != weight:
                # Only kinds whose full marks are written as points: tiers or bands read at
                # a sub-item's points ("①…得0.5分") would pass items that add up for tiers.
                rule = _read_clauses(s, other, target)
                if isinstance(rule, Proportional | DeductPerPoint | DeductPerStep):
                    stated = other
                    break
                rule = None
    if rule is not None:
        if stated is None and isinstance(rule, Bands | Manual):
            top = full_marks(rule, weight)
            stated = top if top != weight else None
        return rule, "", stated
    if ranged:
        return None, "写的是分数区间，需评价人在区间内评定", None
    if discretion:
        return None, "含酌情或视情况扣分，需评价人评定", None
    if target is None and (re.search(_TARGET_CMP_RE, s)
                           or re.fullmatch(_DONE_OR_NOT_RE, s.rstrip("。;"))):
        return None, "与目标值比较，但未写出目标值的数字，需要目标值（在目标值栏填写后可自动评分）", None
    if len(re.findall(r"(?:以内|以下|以上|之间|%)(?:的)?扣\d", s)) > 1 and not re.search(
            r"满分|得\d|计\d", s):
        return None, "各档都写成扣分，没有得满分的一档（最好也得不到分值），需评价人核定", None
    points = [Decimal(x) for x in re.findall(rf"({_N})分", s)]
    adds_up = len(points) > 1 and sum(points) == weight and max(points) < weight
    if adds_up or re.search(_COMPOSITE_RE, s):
        return None, "含多项评分条件（复合条件，或分项计分后相加），无法归为一条规则", None
    rest = re.sub(rf"每[^,;。]*?扣{_N}分|{_N}分|扣完{_N}分", "", s)
    if re.search(r"每[^,;。]*扣", s) and not re.search(r"\d", rest):
        if re.search(r"否决|取消|不得分|不计分|零分", rest):
            return None, "含多项评分条件（复合条件：按次数扣分之外另有否决条件），无法归为一条规则", None
        if target is not None:  # the target did not help: no side, or not a percent target
            return None, "按次数或差距扣分，但未写明从多少开始扣、向哪一侧扣（基准和方向）", None
        return None, "按次数或差距扣分，但未写明从多少开始扣（基准），需要目标值", None
    return None, "无法自动识别", None


def _to_target(target) -> Decimal | None:
    from perfeval_xl.rules import _as_number

    t = _as_number(target, "目标值")
    return t if t.is_finite() else None


def parse(text: str, weight: Decimal) -> Rule | None:
    """``rules.parse_standard_text``: the rule at the row's weight, or None.

    Discretionary texts (酌情扣分) give ``Manual()``, as they always have; ``read`` gives
    them ``rule=None`` and a reason instead.
    """
    rule, _, stated = _reading(text, weight)
    if rule is not None and (stated is None or isinstance(rule, Bands | Manual)):
        # A band or tier rule whose top differs from the 分值 is returned as read: the
        # caller compares full_marks with the 分值. Other kinds read only at another 分值
        # give None.
        if stated is None or full_marks(rule, weight) == stated:
            return rule
        return None
    if rule is None and isinstance(text, str) and re.search(_DISCRETION_RE, _std_normalize(text)):
        return Manual()
    return None


def read(text: str, weight, *, target: Decimal | None = None):
    """``rules.read_standard_text``: the reading with why a text is left manual."""
    from perfeval_xl.rules import StandardReading

    # A proportional rule without a target of its own keeps target=None and score_rule
    # takes the row's target; ``target`` is read only where the text compares with it.
    rule, why, stated = _reading(text, weight, target)
    if rule is not None:
        note = ""
        if isinstance(rule, DeductPerPoint | DeductPerStep) and rule.unit and rule.base == 0 \
                and len(re.findall(r"(?<![多高满])扣(?:除)?\d", _std_normalize(text))) > 1:
            # "未按规定审核的，每例扣0.1分；未及时维护的，每例扣0.1分": one count of all kinds
            note = f"评分标准列出的各种扣分情形按同一标准扣分：实际值填写各种情形合计的{rule.unit}数。"
        return StandardReading(text, rule, "", stated, note)
    raw = text if isinstance(text, str) else ""
    shown = re.sub(r"\s+", " ", raw).strip()
    shown = shown if len(shown) <= 80 else shown[:80] + "…"
    return StandardReading(raw, None, f"评分标准“{shown}”{why}，按人工评分处理。", None)
