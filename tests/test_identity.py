from monoculture.store import SampleKey


def key(**changes):
    base = dict(model="embedded:gemma-3-270m", condition="none@default", task="colour", individual=0,
                item="banana", replicate=1, mode="free")
    return SampleKey(**{**base, **changes})


def test_seed_differs_across_items_individuals_replicates_and_conditions():
    # The trap from docs/methods.md, section 2: one seed reused across items made a model give the same colour
    # for "cleanliness", "banana" and "wisdom".
    seeds = {
        key().seed(),
        key(item="wisdom").seed(),
        key(item="cleanliness").seed(),
        key(individual=1).seed(),
        key(replicate=2).seed(),
        key(condition="persona@default").seed(),
        key(model="embedded:smollm2-135m-instruct").seed(),
        key(mode="constrained").seed(),
        key().seed(study_seed=1),
    }
    assert len(seeds) == 9


def test_seed_is_stable_and_in_range():
    assert key().seed() == key().seed()
    many = {key(item=f"w{i}", individual=i % 7).seed() for i in range(2000)}
    assert len(many) == 2000
    assert all(0 <= seed < 2**32 - 1 for seed in many)  # 0xFFFFFFFF means "random" to llama.cpp
    assert sum(seed >= 2**31 for seed in many) > 800  # the whole 32-bit range is used, not 31 bits
