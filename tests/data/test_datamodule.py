import torch

from lit_kgns.data.batches import TrainingBatchPlan
from lit_kgns.data.datamodule import KGDataModule


def test_single_graph_epoch_is_a_permutation():
    plan = TrainingBatchPlan([10], batch_size=4, seed=3)
    batches = list(plan)
    assert [graph for graph, _ in batches] == [0, 0, 0]
    assert sorted(torch.cat([indices for _, indices in batches]).tolist()) == list(range(10))


def test_plan_depends_only_on_seed_and_epoch():
    first, again = TrainingBatchPlan([50, 7], 5, seed=1), TrainingBatchPlan([50, 7], 5, seed=1)
    again.set_epoch(0)
    assert all(a[0] == b[0] and torch.equal(a[1], b[1]) for a, b in zip(first, again, strict=True))
    again.set_epoch(1)
    assert any(not torch.equal(a[1], b[1]) for a, b in zip(first, again, strict=True))


def test_mixture_draws_one_graph_per_batch_in_proportion_to_its_size():
    plan = TrainingBatchPlan([9000, 1000], batch_size=8, batches_per_epoch=2000, seed=0)
    batches = list(plan)
    assert len(batches) == 2000
    share = sum(graph == 0 for graph, _ in batches) / len(batches)
    assert abs(share - 0.9) < 0.03
    for graph, indices in batches:
        assert len(set(indices.tolist())) == 8  # distinct triples of that one graph
        assert int(indices.max()) < (9000, 1000)[graph]


def test_batches_per_epoch_caps_a_single_graph():
    assert len(TrainingBatchPlan([100], batch_size=10, batches_per_epoch=3)) == 3
    assert len(list(TrainingBatchPlan([100], batch_size=10, batches_per_epoch=3))) == 3


def test_datamodule_serves_positive_batches_and_per_graph_evaluation(tmp_path):
    datamodule = KGDataModule(
        train_datasets=["nations", "umls"],
        test_datasets=["nations"],
        root=str(tmp_path),
        batch_size=8,
        batches_per_epoch=5,
        eval_batch_size=16,
    )
    datamodule.setup("fit")
    datamodule.setup("test")
    batch = next(iter(datamodule.train_dataloader()))
    split = datamodule.train_splits[batch.graph_index]
    assert batch.triples.shape == (8, 3)
    # every training triple is a triple of the graph it is said to come from
    keys = split.targets @ torch.tensor([10**6, 10**3, 1])
    assert torch.isin(batch.triples @ torch.tensor([10**6, 10**3, 1]), keys).all()
    assert len(datamodule.val_dataloader()) == 2 and len(datamodule.test_dataloader()) == 1
    first = next(iter(datamodule.test_dataloader()[0]))
    assert len(first.anchors) == 2 * 16  # distinct queries: 16 triples' worth
    queries = torch.stack([first.head_queries.long(), first.relations, first.anchors], dim=1)
    assert len(torch.unique(queries, dim=0)) == 2 * 16
    # each answer row is its triple's answer to its own query
    asked = first.triples[torch.arange(len(first)), torch.where(first.head_queries[first.answer_query], 2, 0)]
    assert torch.equal(asked, first.anchors[first.answer_query])
    assert torch.equal(first.triples[torch.arange(len(first)), 1], first.relations[first.answer_query])


def first_batches(datamodule: KGDataModule, count: int = 3) -> list[torch.Tensor]:
    loader = datamodule.train_dataloader()
    return [batch.triples for _, batch in zip(range(count), loader, strict=False)]


def test_batch_order_follows_the_global_seed_unless_a_seed_is_given(monkeypatch):
    from pytorch_lightning import seed_everything

    monkeypatch.delenv("PL_GLOBAL_SEED", raising=False)
    datamodule = KGDataModule(dataset="nations", batch_size=8)
    orders = {}
    for seed in (1, 2, 1):
        seed_everything(seed, verbose=False)
        orders.setdefault(seed, []).append(first_batches(datamodule))
    same = zip(orders[1][0], orders[1][1], strict=True)
    assert all(torch.equal(a, b) for a, b in same), "one global seed, one batch order"
    assert any(not torch.equal(a, b) for a, b in zip(orders[1][0], orders[2][0], strict=True))

    pinned = KGDataModule(dataset="nations", batch_size=8, seed=5)
    seed_everything(1, verbose=False)
    under_one = first_batches(pinned)
    seed_everything(2, verbose=False)
    assert all(torch.equal(a, b) for a, b in zip(under_one, first_batches(pinned), strict=True))


def test_validation_subset_is_fixed_across_epochs_and_ranks(monkeypatch):
    from pytorch_lightning import seed_everything

    seed_everything(3, verbose=False)
    first = KGDataModule(dataset="umls", val_subset=50)
    subset = first.validation_targets("umls")
    assert len(subset) == 50 and len(torch.unique(subset, dim=0)) == 50
    full = first.dataset("umls").valid.targets
    assert all((full == row).all(dim=1).any() for row in subset)  # drawn from the validation triples
    again = torch.cat([batch.triples for batch in first.val_dataloader()[0]])
    assert torch.equal(torch.unique(again, dim=0), torch.unique(subset, dim=0))  # the same queries every epoch
    assert len(again) == 2 * 50  # each triple's head and tail query
    other_rank = KGDataModule(dataset="umls", val_subset=50)  # another process, same seed
    assert torch.equal(other_rank.validation_targets("umls"), subset)
    seed_everything(4, verbose=False)
    assert not torch.equal(KGDataModule(dataset="umls", val_subset=50).validation_targets("umls"), subset)
    assert torch.equal(KGDataModule(dataset="umls").validation_targets("umls"), full)
