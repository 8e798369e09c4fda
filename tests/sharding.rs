//! `run --shard K/N` and `merge`: the shards partition the catalogue for every N, and the
//! merged shard reports equal the unsharded run with the same seed (after normalisation).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use obo_conformance::catalog::{self, Catalog};
use obo_conformance::profile::reference::{reference, ReferenceOptions};
use obo_conformance::run::{self, RunOptions, Shard};

fn catalogue() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    catalog::load(&dir).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn shards_partition_the_catalogue_for_n_1_to_8() {
    let cat = catalogue();
    let exclusive = cat.cases.iter().filter(|c| c.is_exclusive()).count();
    for n in 1..=8 {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut costs = Vec::new();
        for k in 1..=n {
            let slice = run::shard_of(&cat.cases, Shard { index: k, count: n });
            let ids = |s: &[obo_conformance::case::Case]| -> Vec<String> {
                s.iter().map(|c| c.id.clone()).collect()
            };
            assert_eq!(
                ids(&slice),
                ids(&run::shard_of(&cat.cases, Shard { index: k, count: n })),
                "shard {k}/{n} is not deterministic"
            );
            let ex = slice.iter().filter(|c| c.is_exclusive()).count();
            // Exclusive cases run one at a time: dealt first, they spread over the shards.
            assert!(
                ex >= exclusive / n,
                "shard {k}/{n} has {ex} of {exclusive} exclusive cases"
            );
            costs.push(slice.iter().map(run::estimated_cost).sum::<u64>());
            for c in slice {
                *seen.entry(c.id).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), cat.cases.len(), "N = {n}: a case was lost");
        assert!(seen.values().all(|&v| v == 1), "N = {n}: a case ran twice");
        let (min, max) = (costs.iter().min().unwrap(), costs.iter().max().unwrap());
        let dearest = cat.cases.iter().map(run::estimated_cost).max().unwrap();
        assert!(
            max - min <= 2 * dearest,
            "N = {n}: unbalanced shards {costs:?}"
        );
    }
}

#[test]
fn shard_syntax_is_k_of_n_from_1() {
    assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
    for bad in ["0/4", "5/4", "4", "a/b", "1/0", ""] {
        assert!(bad.parse::<Shard>().is_err(), "{bad:?} accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_shards_equal_the_unsharded_run() {
    let cat = catalogue();
    let target = Arc::new(
        reference(ReferenceOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let opts = RunOptions {
        seed: 11,
        jobs: 4,
        ..Default::default()
    };
    let mut whole = run::run_catalog(target.clone(), &cat, &cat.cases, &opts).await;
    let n = 3;
    let mut shards = Vec::new();
    for k in 1..=n {
        let slice = run::shard_of(&cat.cases, Shard { index: k, count: n });
        shards.push(run::run_catalog(target.clone(), &cat, &slice, &opts).await);
    }
    target.shutdown().await;
    let mut merged = obo_report::merge(shards.clone()).unwrap_or_else(|e| panic!("{e}"));
    obo_report::normalize(&mut whole);
    obo_report::normalize(&mut merged);
    assert_eq!(merged.cases.len(), whole.cases.len());
    for (a, b) in merged.cases.iter().zip(&whole.cases) {
        assert_eq!(a, b, "case {} differs after merge", a.id);
    }
    assert_eq!(merged, whole);

    // Overlapping shards are refused, naming the case.
    let mut twice = shards.clone();
    twice.push(shards[0].clone());
    let err = obo_report::merge(twice).unwrap_err();
    assert!(err.contains("two reports"), "{err}");
    // A shard of another run (seed) is refused.
    let mut other = shards;
    other[1].seed = 12;
    assert!(obo_report::merge(other).unwrap_err().contains("seed"));
}
