"""Clustering: connected components with a complete-linkage guard against chaining."""

import itertools
import random

from matching.clustering import cluster


def table(probabilities, default=0.0):
    """probability_of from a {(a, b): p} dict (either order), recording what it was asked."""
    asked = []

    def probability_of(a, b):
        asked.append((a, b))
        return probabilities.get((a, b), probabilities.get((b, a), default))

    probability_of.asked = asked
    return probability_of


def test_chain_is_not_merged_through_a_weak_middle():
    # A~B and B~C are auto-match links, but A and C are nothing alike.
    links = [(0, 1, 0.99), (1, 2, 0.98)]
    probability_of = table({(0, 2): 0.05})
    result = cluster(3, links, guard=0.5, probability_of=probability_of)
    assert result.cluster_of[0] == result.cluster_of[1] == 0
    assert result.cluster_of[2] == 2
    assert result.held_apart == [(1, 2, 0.98)]
    assert probability_of.asked == [(0, 2)]  # unscored pairs are scored on demand


def test_strongest_link_wins_the_middle_record():
    links = [(0, 1, 0.96), (1, 2, 0.99)]
    result = cluster(3, links, guard=0.5, probability_of=table({(0, 2): 0.05}))
    assert result.cluster_of == {0: 0, 1: 1, 2: 1}
    assert result.held_apart == [(0, 1, 0.96)]


def test_clique_merges_into_one_cluster():
    links = [(a, b, 0.97) for a, b in itertools.combinations(range(4), 2)]
    result = cluster(4, links, guard=0.5, probability_of=table({}))
    assert set(result.cluster_of.values()) == {0}
    assert result.held_apart == []


def test_chain_with_good_unlinked_pairs_merges():
    # Only a chain is linked, but the ends are fine together when scored.
    links = [(0, 1, 0.99), (1, 2, 0.98)]
    result = cluster(3, links, guard=0.5, probability_of=table({(0, 2): 0.7}))
    assert set(result.cluster_of.values()) == {0}
    assert result.held_apart == []


def test_cluster_id_is_the_smallest_member_and_singletons_are_their_own():
    links = [(7, 3, 0.99), (3, 5, 0.99), (5, 7, 0.99), (2, 8, 0.95)]
    result = cluster(10, links, guard=0.5, probability_of=table({}, default=0.9))
    assert result.cluster_of == {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 3, 6: 6, 7: 3, 8: 2, 9: 9}


def test_no_records_and_no_links():
    assert cluster(0, [], 0.5, table({})).cluster_of == {}
    assert cluster(3, [], 0.5, table({})).cluster_of == {0: 0, 1: 1, 2: 2}


def random_links(count, seed, decimals=None):
    rng = random.Random(seed)
    probabilities = {}
    for a, b in itertools.combinations(range(count), 2):
        value = rng.random()
        probabilities[(a, b)] = round(value, decimals) if decimals else value
    links = [(a, b, p) for (a, b), p in probabilities.items() if p >= 0.9]
    return probabilities, links


def test_deterministic():
    probabilities, links = random_links(30, seed=4)
    first = cluster(30, links, 0.5, table(probabilities))
    assert first.held_apart  # the case is not trivial
    again = cluster(30, list(links), 0.5, table(probabilities))
    assert again.cluster_of == first.cluster_of
    assert again.held_apart == first.held_apart


def test_link_order_does_not_matter_without_ties():
    probabilities, links = random_links(30, seed=4)
    first = cluster(30, links, 0.5, table(probabilities))
    for seed in range(5):
        shuffled = links[:]
        random.Random(seed).shuffle(shuffled)
        assert cluster(30, shuffled, 0.5, table(probabilities)).cluster_of == first.cluster_of


def test_every_two_members_of_a_cluster_clear_the_guard():
    probabilities, links = random_links(30, seed=4)
    result = cluster(30, links, 0.5, table(probabilities))
    members = {}
    for record, representative in result.cluster_of.items():
        members.setdefault(representative, []).append(record)
    assert any(len(group) > 1 for group in members.values())
    for representative, group in members.items():
        assert representative == min(group)
        for a, b in itertools.combinations(sorted(group), 2):
            assert probabilities[(a, b)] >= 0.5


def test_link_order_does_not_matter_with_tied_probabilities():
    probabilities, links = random_links(30, seed=4, decimals=2)
    first = cluster(30, links, 0.5, table(probabilities))
    for seed in range(5):
        shuffled = links[:]
        random.Random(seed).shuffle(shuffled)
        again = cluster(30, shuffled, 0.5, table(probabilities))
        assert again.cluster_of == first.cluster_of
        assert again.held_apart == first.held_apart


def test_batch_scorer_is_used_for_unscored_pairs_and_agrees():
    probabilities, links = random_links(30, seed=4)
    asked = []

    def many(pairs):
        asked.append(list(pairs))
        return [probabilities[pair] for pair in pairs]

    scalar = cluster(30, links, 0.5, table(probabilities))
    batched = cluster(30, links, 0.5, table({}, default=-1.0), many)
    assert batched.cluster_of == scalar.cluster_of
    assert batched.held_apart == scalar.held_apart
    assert asked and all(a < b for batch in asked for a, b in batch)


def test_a_known_weak_pair_refuses_without_scoring_the_rest():
    # 0~1 and 2~3 merge; the link 1~2 would join them but 0~3 is a known weak link.
    links = [(0, 1, 0.99), (2, 3, 0.99), (1, 2, 0.97)]
    probability_of = table({(0, 3): 0.1, (0, 2): 0.9, (1, 3): 0.9})
    result = cluster(4, [*links, (0, 3, 0.1)], 0.5, probability_of)
    assert result.cluster_of == {0: 0, 1: 0, 2: 2, 3: 2}
    assert result.held_apart[0] == (1, 2, 0.97)


def test_floor_guard_merges_past_one_weak_pair():
    # A garbled record (2) links strongly to 1 but scores weakly (not impossibly) against 0:
    # complete linkage keeps it apart, the floor guard lets the strong majority decide.
    links = [(0, 1, 0.99), (1, 2, 0.999)]
    weak = {(0, 2): 0.2}
    complete = cluster(3, links, guard=0.5, probability_of=table(weak))
    assert complete.cluster_of[2] == 1 and complete.cluster_of[0] == 0
    soft = cluster(3, links, guard=0.5, probability_of=table(weak), floor=0.05)
    assert set(soft.cluster_of.values()) == {0}
    assert soft.held_apart == []


def test_floor_guard_keeps_a_chain_with_different_ends_apart():
    # A~B~C with A and C clearly different (below the floor): never one cluster.
    links = [(0, 1, 0.99), (1, 2, 0.98)]
    result = cluster(3, links, guard=0.5, probability_of=table({(0, 2): 0.01}), floor=0.05)
    assert result.cluster_of == {0: 0, 1: 0, 2: 2}
    assert result.held_apart == [(1, 2, 0.98)]


def test_floor_guard_needs_the_average_to_clear_the_guard():
    # Two of three pairs across weak (above the floor): the average stays below the guard.
    links = [(0, 1, 0.99), (1, 2, 0.97), (2, 3, 0.96)]
    probabilities = {(0, 2): 0.9, (0, 3): 0.1, (1, 3): 0.1}
    result = cluster(4, links, guard=0.5, probability_of=table(probabilities), floor=0.05)
    assert result.cluster_of == {0: 0, 1: 0, 2: 0, 3: 3}
    assert result.held_apart == [(2, 3, 0.96)]


def test_guard_clears():
    from matching.clustering import guard_clears

    assert guard_clears([0.9, 0.6], 0.5, None)
    assert not guard_clears([0.9, 0.4], 0.5, None)
    assert guard_clears([0.9, 0.4], 0.5, 0.05)
    assert not guard_clears([0.99, 0.02], 0.5, 0.05)
    assert not guard_clears([0.6, 0.3], 0.5, 0.05)
    assert guard_clears([], 0.5, 0.05)
