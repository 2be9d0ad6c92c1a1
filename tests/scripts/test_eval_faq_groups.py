"""scripts/eval_faq.py ``--group-paraphrases``: near-paraphrases of one label share a cluster, a
cluster never straddles train and test, and the folds depend only on the seed."""

from __future__ import annotations

from collections import Counter

from civil_affairs.faq.ranker import NONE_CLASS
from scripts.eval_faq import Item, fold_tests, group_sizes, paraphrase_groups


def _items() -> list[Item]:
    """Four labels with paraphrase pairs and distinct questions, as the seed's batches look."""
    texts = {
        "dibao-how-to-apply": [
            "低保怎么申请",
            "低保怎么申请啊",
            "低保要去哪里办",
            "低保要去哪里办理",
            "我家困难想吃低保",
            "申请低保要带什么材料",
            "申请低保需要带什么材料",
            "低保网上能申请吗",
        ],
        "marriage-fee": [
            "领证要交工本费吗",
            "领结婚证要交功本费吗",
            "结婚登记收费吗",
            "结婚登记收不收费",
            "拍照费是强制的吗",
            "婚姻登记要花多少钱",
            "登记结婚要钱不",
            "领证免费吗",
        ],
        "elderly-high-age-allowance": [
            "高龄津贴多少钱",
            "高龄津贴一个月多少钱",
            "八十岁老人有补贴吗",
            "八十岁的老人有没有补贴",
            "百岁老人每月发多少",
            "高龄补贴怎么发放",
            "高龄补贴按月发放吗",
            "九十岁补贴标准",
        ],
        NONE_CLASS: [
            "火星签证怎么办",
            "火星签证怎么办理",
            "护照过期了去哪换",
            "驾照换证在哪",
            "驾照换证去哪里",
            "社保卡丢了怎么补",
        ],
    }
    return [Item(t, key, "variant", key) for key, ts in texts.items() for t in ts]


def test_paraphrases_of_one_label_share_a_cluster_other_labels_never() -> None:
    items = _items()
    groups = paraphrase_groups(items, 0.35)
    index = {i.text: n for n, i in enumerate(items)}
    assert groups[index["低保怎么申请"]] == groups[index["低保怎么申请啊"]]
    assert groups[index["申请低保要带什么材料"]] == groups[index["申请低保需要带什么材料"]]
    assert groups[index["低保怎么申请"]] != groups[index["低保网上能申请吗"]]
    for g in set(groups):
        assert len({items[n].key for n in range(len(items)) if groups[n] == g}) == 1
    sizes = group_sizes(groups)
    assert sum(k * v for k, v in sizes.items()) == len(items)
    assert sizes[1] > 0 and max(sizes) < 8  # no label chained into one cluster


def test_clusters_never_straddle_folds_and_every_item_is_held_out_once() -> None:
    items = _items()
    groups = paraphrase_groups(items, 0.35)
    tests = fold_tests(items, folds=3, seed=0, group_similarity=0.35)
    held = Counter(int(n) for test in tests for n in test)
    assert sorted(held) == list(range(len(items))) and set(held.values()) == {1}
    fold_of = {int(n): f for f, test in enumerate(tests) for n in test}
    for g in set(groups):
        assert len({fold_of[n] for n in range(len(items)) if groups[n] == g}) == 1


def test_folds_are_determined_by_the_seed() -> None:
    items = _items()
    first = [sorted(t.tolist()) for t in fold_tests(items, 3, 7, 0.35)]
    again = [sorted(t.tolist()) for t in fold_tests(items, 3, 7, 0.35)]
    assert first == again
    others = [[sorted(t.tolist()) for t in fold_tests(items, 3, seed, 0.35)] for seed in range(6)]
    assert any(o != others[0] for o in others[1:])


def test_without_grouping_the_folds_are_the_random_stratified_ones() -> None:
    from sklearn.model_selection import StratifiedKFold

    items = _items()
    expected = StratifiedKFold(n_splits=3, shuffle=True, random_state=0).split(items, [i.key for i in items])
    assert [t.tolist() for t in fold_tests(items, 3, 0)] == [t.tolist() for _, t in expected]
