"""core.oversight_clustering: grouping similar cases (高频共性问题 → 新政)."""

from __future__ import annotations

import random
import time
import tomllib
from collections import defaultdict
from itertools import combinations
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from core.oversight_clustering import DEFAULT_THRESHOLD, Cluster, cluster_texts, normalize_text

CASES = tomllib.loads((Path(__file__).parent / "data" / "clustering_cases.toml").read_text("utf-8"))["case"]
TEXTS = [c["text"] for c in CASES]
GROUPS = [c["group"] for c in CASES]


def predicted_labels(clusters: list[Cluster], n: int) -> list[int]:
    """One label per text; every unclustered text gets a label of its own."""
    labels = list(range(-1, -n - 1, -1))
    for cluster in clusters:
        for i in cluster.members:
            labels[i] = cluster.label
    return labels


def truth_labels(groups: list[str]) -> list[str]:
    return [g or f"singleton-{i}" for i, g in enumerate(groups)]


def pair_scores(truth: list[str], predicted: list[int]) -> tuple[float, float]:
    """Pair-counting precision and recall: pairs put together vs pairs that belong together."""
    together = {(i, j) for i, j in combinations(range(len(truth)), 2) if predicted[i] == predicted[j]}
    belong = {(i, j) for i, j in combinations(range(len(truth)), 2) if truth[i] == truth[j]}
    hits = len(together & belong)
    return hits / max(len(together), 1), hits / max(len(belong), 1)


# --- synthetic cases for speed (40 topics × shared company names, places and wording) ---

TOPICS = [
    ("排水管淤积", "雨水管道堵塞", "下雨后厂区积水严重，排水管淤泥堆积"),
    ("道路破损", "路面坑洼", "门前道路坑洼不平，货车进出颠簸爆胎"),
    ("路灯不亮", "路灯损坏", "夜间路灯长期不亮，员工下夜班一片漆黑"),
    ("施工许可进度", "施工许可证审批慢", "新厂房施工许可证申请后迟迟没有审批结果"),
    ("用电增容", "变压器容量不足", "新增生产线后用电负荷不够，增容报装未落实"),
    ("招工补贴", "新招员工补贴未发放", "新招用员工的招工补贴申报后一直未到账"),
    ("技改补助兑现", "技术改造补助未到账", "技改项目验收通过后补助资金迟迟未兑现"),
    ("排污许可延续", "排污许可证到期", "排污许可证即将到期，延续申请未受理"),
    ("消防验收", "消防验收未安排", "厂房完工后申请消防验收，一直未安排现场检查"),
    ("停车位不足", "员工停车难", "厂区周边停车位严重不足，车辆只能停在路边"),
    ("网络信号差", "手机信号弱", "厂区手机信号很弱，网络时断时续，需要增设基站"),
    ("员工子女入学", "外地员工孩子上学难", "外地员工子女无法就近入学，需要协调学位"),
    ("出口退税慢", "退税款未到账", "出口退税申报后迟迟未退，资金周转困难"),
    ("商标被抢注", "品牌商标侵权", "使用多年的商标被他人抢先注册，需要维权指导"),
    ("融资贷款难", "银行抽贷", "抵押物不足，银行拒绝续贷，需要融资担保支持"),
    ("天然气涨价", "用气成本高", "工业天然气价格大幅上涨，生产成本压力大"),
    ("垃圾清运不及时", "生活垃圾堆积", "园区生活垃圾多日无人清运，气味很大"),
    ("外籍人员工作许可", "外国专家来华手续", "外籍技术专家来华工作许可办理流程不清楚"),
    ("夜间施工噪音", "工地噪声扰民", "附近工地夜间施工噪音很大，影响员工休息"),
    ("公交班次少", "通勤公交不便", "园区公交车班次太少，员工上下班通勤困难"),
    ("自来水水压低", "停水频繁", "车间自来水水压不足，高峰时段经常停水"),
    ("频繁停电", "电压不稳", "厂区一个月停电多次，设备损坏，生产中断"),
    ("用地指标", "工业用地不足", "扩产项目缺少工业用地指标，新厂区无法落地"),
    ("不动产权证办理", "房产证办不下来", "厂房建成多年仍未取得不动产权证，影响抵押贷款"),
    ("环评审批", "环境影响评价进度", "新项目环评报告提交后审批进度缓慢"),
    ("检查过于频繁", "多头重复检查", "各部门安全检查次数过多，一周来好几拨，影响生产"),
    ("货车限行", "物流车辆通行证", "货车白天限行，原材料运输进不了城区"),
    ("人才公寓", "员工住房紧张", "引进人才没有住处，申请人才公寓排不上号"),
    ("职称评定", "工程师职称申报", "技术骨干职称评审通道不畅，申报条件不清楚"),
    ("高新技术企业认定", "高企申报", "申报高新技术企业认定，需要辅导材料准备"),
    ("社保缴费基数", "社保费用负担重", "社保缴费基数调整后企业负担明显加重"),
    ("员工培训补贴", "职业技能培训补贴", "组织员工技能培训后，培训补贴申领被退回"),
    ("食品经营许可", "职工食堂许可证", "职工食堂办理食品经营许可证需要哪些材料"),
    ("污水管网接入", "污水纳管", "新厂区污水管网未接通，生产废水无法纳管排放"),
    ("厂房租金上涨", "标准厂房租金高", "园区厂房租金一年上涨两成，企业难以承受"),
    ("燃气管道未通", "天然气管道接入", "园区燃气管道一直没有接通，只能用液化气"),
    ("围墙倒塌", "厂区围墙安全", "暴雨后厂区围墙部分倒塌，存在安全隐患"),
    ("跨境电商备案", "海外仓政策", "开展跨境电商业务，备案流程和海外仓补助不清楚"),
    ("专利侵权", "产品被仿冒", "竞争对手仿冒专利产品在网上低价销售"),
    ("快递网点太远", "物流收发不便", "园区附近没有快递网点，寄样品要跑很远"),
]
TOWNS = ["路桥街道", "路南街道", "路北街道", "螺洋街道", "桐屿街道", "峰江街道", "新桥镇", "横街镇",
         "蓬街镇", "金清镇", "椒江区", "黄岩区", "温岭市", "临海市"]
ROADS = ["中兴路", "腾达路", "银座街", "南官大道", "商城路", "机场路", "工业路", "新安东路", "聚洋大道",
         "机电路", "青年路", "富仕路"]
FIRMS = ["精工", "宏达", "华鑫", "永兴", "东方", "恒通", "金马", "瑞丰", "远大", "天成", "新亚", "博创"]
TRADES = ["机械", "塑业", "电子", "汽配", "模具", "鞋业", "五金", "化工", "科技", "包装"]
OPENINGS = ["我公司", "我司", "本企业", "我们厂", "我单位"]
CLOSINGS = ["请求尽快解决", "恳请相关部门协调", "希望政府帮助解决", "请帮忙协调处理", "盼尽快答复",
            "请求给予支持", "望予以重视"]


def synthetic_cases(n: int, seed: int = 7) -> tuple[list[str], list[int]]:
    """``n`` case texts over the 40 topics above, and the topic index of each."""
    rng = random.Random(seed)
    texts, topics = [], []
    for _ in range(n):
        t = rng.randrange(len(TOPICS))
        title, alias, detail = TOPICS[t]
        firm = f"台州{rng.choice(FIRMS)}{rng.choice(TRADES)}有限公司"
        place = f"{rng.choice(TOWNS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
        head = rng.choice([title, alias, f"关于{title}的诉求", f"{alias}问题"])
        body = rng.choice([f"{rng.choice(OPENINGS)}（{firm}）位于{place}，{detail}",
                           f"{firm}反映：{detail}，地址{place}",
                           f"{detail}。{rng.choice(OPENINGS)}地处{place}，已{rng.randint(2, 9)}个月"])
        texts.append(f"{head}：{body}，{rng.choice(CLOSINGS)}。")
        topics.append(t)
    return texts, topics


# --- the labelled set ---

def test_labelled_set_shape():
    groups = defaultdict(int)
    for g in GROUPS:
        groups[g] += 1
    assert len(TEXTS) >= 60
    assert 8 <= len([g for g in groups if g]) <= 12
    assert groups[""] >= 10


def test_labelled_groups_recovered():
    clusters = cluster_texts(TEXTS)
    predicted = predicted_labels(clusters, len(TEXTS))
    truth = truth_labels(GROUPS)
    ari = adjusted_rand_score(truth, predicted)
    precision, recall = pair_scores(truth, predicted)
    assert ari >= 0.8, (ari, precision, recall)
    assert precision >= 0.9 and recall >= 0.8, (precision, recall)
    for cluster in clusters:
        labelled = {GROUPS[i] for i in cluster.members if GROUPS[i]}
        assert len(labelled) <= 1, [TEXTS[i] for i in cluster.members]
    # every labelled group is found, mostly in one cluster
    for group in {g for g in GROUPS if g}:
        members = [i for i, g in enumerate(GROUPS) if g == group]
        largest = max(sum(predicted[i] == c.label for i in members) for c in clusters)
        assert largest >= len(members) - 1, group


def test_singletons_mostly_unclustered():
    clusters = cluster_texts(TEXTS)
    clustered = {i for c in clusters for i in c.members}
    singletons = [i for i, g in enumerate(GROUPS) if not g]
    assert sum(i in clustered for i in singletons) <= 2


def test_threshold_robust_around_default():
    """The labelled set survives a band of thresholds around the default, not just one value."""
    truth = truth_labels(GROUPS)
    for threshold in (DEFAULT_THRESHOLD - 0.02, DEFAULT_THRESHOLD + 0.02):
        predicted = predicted_labels(cluster_texts(TEXTS, threshold=threshold), len(TEXTS))
        assert adjusted_rand_score(truth, predicted) >= 0.8, threshold


def test_cluster_shape_and_keywords():
    clusters = cluster_texts(TEXTS)
    assert [c.label for c in clusters] == list(range(len(clusters)))
    assert [c.size for c in clusters] == sorted((c.size for c in clusters), reverse=True)
    seen: set[int] = set()
    for c in clusters:
        assert c.size == len(c.members) >= 2
        assert c.members == sorted(c.members)
        assert not seen & set(c.members)
        seen |= set(c.members)
        assert 3 <= len(c.keywords) <= 5, c.keywords
    by_group = {GROUPS[c.members[0]]: c.keywords for c in clusters}
    assert "路灯" in by_group["streetlight"]
    assert any("消防" in k for k in by_group["fire"])
    assert any("停车" in k for k in by_group["parking"])


def test_min_cluster_size():
    clusters = cluster_texts(TEXTS, min_cluster_size=5)
    assert clusters and all(c.size >= 5 for c in clusters)
    with pytest.raises(ValueError):
        cluster_texts(TEXTS, min_cluster_size=1)
    with pytest.raises(ValueError):
        cluster_texts(TEXTS, threshold=0)


def test_deterministic():
    first = cluster_texts(TEXTS)
    assert cluster_texts(list(TEXTS)) == first
    texts, _ = synthetic_cases(2500, seed=3)
    assert cluster_texts(texts) == cluster_texts(texts)


def test_empty_single_and_blank():
    assert cluster_texts([]) == []
    assert cluster_texts(["路灯不亮：中兴路路灯坏了"]) == []
    assert cluster_texts(["", "  ", "，。！"]) == []
    same = ["路灯不亮：中兴路路灯坏了。", "路灯不亮：中兴路路灯坏了。", "", "商标被抢注"]
    (cluster,) = cluster_texts(same)
    assert cluster.members == [0, 1]


def test_normalisation():
    assert normalize_text("ＡＢＣ１２３，路灯　不亮！") == "abc123 路灯 不亮"
    full = ["路灯不亮：中兴路１２３号路灯坏了！", "路灯不亮:中兴路123号 路灯坏了!", "商标被抢注"]
    (cluster,) = cluster_texts(full)
    assert cluster.members == [0, 1]


def test_progress_reported():
    seen: list[float] = []
    cluster_texts(TEXTS, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_labelled_set_inside_a_large_corpus():
    """Above EXACT_LIMIT the graph path runs; the labelled groups must still come out apart."""
    background, _ = synthetic_cases(3000, seed=11)
    clusters = cluster_texts(TEXTS + background)
    n = len(TEXTS)
    labelled = [c for c in clusters if any(i < n for i in c.members)]
    for cluster in labelled:
        assert len({GROUPS[i] for i in cluster.members if i < n and GROUPS[i]}) <= 1
    predicted = predicted_labels(clusters, n + len(background))[:n]
    assert adjusted_rand_score(truth_labels(GROUPS), predicted) >= 0.8


def test_speed_and_topics_at_3000():
    texts, topics = synthetic_cases(3000)
    started = time.perf_counter()
    clusters = cluster_texts(texts)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, elapsed
    predicted = predicted_labels(clusters, len(texts))
    assert adjusted_rand_score(topics, predicted) >= 0.8


def test_graph_path_refines_exact(monkeypatch):
    """Above EXACT_LIMIT the neighbour graph restricts where average linkage may merge: its
    clusters lie inside the all-pairs ones (it may keep apart what all-pairs merges)."""
    import core.oversight_clustering as module

    texts, topics = synthetic_cases(2500, seed=5)
    via_graph = predicted_labels(cluster_texts(texts), len(texts))
    monkeypatch.setattr(module, "EXACT_LIMIT", 10_000)
    exact = predicted_labels(cluster_texts(texts), len(texts))
    precision, recall = pair_scores(exact, via_graph)
    assert precision >= 0.99 and recall >= 0.8, (precision, recall)
    assert adjusted_rand_score(topics, via_graph) >= 0.9


def test_oversized_components_are_split(monkeypatch):
    """A component larger than EXACT_LIMIT is cut by k-means first; no cluster mixes topics."""
    import core.oversight_clustering as module

    monkeypatch.setattr(module, "EXACT_LIMIT", 40)
    texts, topics = synthetic_cases(2000, seed=9)
    clusters = cluster_texts(texts)
    assert clusters and max(c.size for c in clusters) <= 40
    for cluster in clusters:
        assert len({topics[i] for i in cluster.members}) == 1
