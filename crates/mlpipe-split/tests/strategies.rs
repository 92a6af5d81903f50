//! Every built-in strategy: disjoint and covering subsets, pinned seeded indices,
//! stratification within one row per class, time order with gaps, groups never shared,
//! k-fold partitions, typed errors, and a 10-million-row split.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mlpipe_split::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn input<'a>(rows: usize, labels: Option<&'a [f64]>) -> SplitInput<'a> {
    SplitInput {
        rows,
        labels,
        ..Default::default()
    }
}

fn assert_partition(s: &SplitIndices, rows: usize) {
    let mut all: Vec<u32> = s.train.iter().chain(&s.test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..rows as u32).collect::<Vec<_>>(), "not a partition");
}

fn counts(labels: &[f64], idx: &[u32]) -> BTreeMap<i64, usize> {
    let mut m = BTreeMap::new();
    for &i in idx {
        *m.entry(labels[i as usize] as i64).or_insert(0) += 1;
    }
    m
}

proptest! {
    #[test]
    fn stratified_keeps_every_class_share_within_one_row(
        labels in prop::collection::vec(0u8..4, 2..600),
        ratio in 0.1f64..0.9,
        seed in any::<u64>(),
    ) {
        let labels: Vec<f64> = labels.into_iter().map(f64::from).collect();
        let n = labels.len();
        let s = StratifiedSplit::new(ratio, seed).split(&input(n, Some(&labels))).unwrap();
        assert_partition(&s, n);
        // Same evaluation size as a plain random split.
        let plain = RandomSplit::new(ratio, seed).split(&input(n, None)).unwrap();
        prop_assert_eq!(s.test.len(), plain.test.len());
        let all = counts(&labels, &(0..n as u32).collect::<Vec<_>>());
        let test = counts(&labels, &s.test);
        for (c, &nc) in &all {
            let expected = nc as f64 * s.test.len() as f64 / n as f64;
            let got = test.get(c).copied().unwrap_or(0) as f64;
            prop_assert!((got - expected).abs() < 1.0, "class {} expected {} got {}", c, expected, got);
        }
        prop_assert_eq!(StratifiedSplit::new(ratio, seed).split(&input(n, Some(&labels))).unwrap(), s);
    }

    #[test]
    fn kfold_test_subsets_partition_the_rows(rows in 2usize..400, k in 2usize..10, shuffle in any::<bool>(), seed in any::<u64>()) {
        prop_assume!(k <= rows);
        let folds = KFold { k, shuffle, seed }.folds(&input(rows, None)).unwrap();
        prop_assert_eq!(folds.len(), k);
        let mut seen = vec![0u32; rows];
        for f in &folds {
            assert_partition(f, rows);
            for &i in &f.test { seen[i as usize] += 1; }
            let size = f.test.len();
            prop_assert!(size == rows / k || size == rows / k + 1);
        }
        prop_assert!(seen.iter().all(|&c| c == 1));
    }

    #[test]
    fn stratified_kfold_balances_classes_and_sizes(
        labels in prop::collection::vec(0u8..3, 10..400),
        k in 2usize..6,
        shuffle in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let labels: Vec<f64> = labels.into_iter().map(f64::from).collect();
        let n = labels.len();
        let folds = StratifiedKFold { k, shuffle, seed }.folds(&input(n, Some(&labels))).unwrap();
        let mut seen = vec![0u32; n];
        let all = counts(&labels, &(0..n as u32).collect::<Vec<_>>());
        for f in &folds {
            assert_partition(f, n);
            for &i in &f.test { seen[i as usize] += 1; }
            prop_assert!(f.test.len() == n / k || f.test.len() == n / k + 1);
            let c = counts(&labels, &f.test);
            for (class, &nc) in &all {
                let got = c.get(class).copied().unwrap_or(0);
                prop_assert!(got == nc / k || got == nc / k + 1, "class {} got {} of {}", class, got, nc);
            }
        }
        prop_assert!(seen.iter().all(|&c| c == 1));
    }

    #[test]
    fn group_split_never_shares_a_group(groups in prop::collection::vec(0u8..12, 2..300), ratio in 0.2f64..0.8, seed in any::<u64>()) {
        let groups: Vec<String> = groups.into_iter().map(|g| format!("g{g}")).collect();
        let distinct: BTreeSet<&String> = groups.iter().collect();
        prop_assume!(distinct.len() >= 2);
        let s = GroupSplit::new(ratio, seed)
            .split(&SplitInput { rows: groups.len(), groups: Some(&groups), ..Default::default() })
            .unwrap();
        assert_partition(&s, groups.len());
        let train: BTreeSet<&String> = s.train.iter().map(|&i| &groups[i as usize]).collect();
        let test: BTreeSet<&String> = s.test.iter().map(|&i| &groups[i as usize]).collect();
        prop_assert!(train.is_disjoint(&test));
        let expected_test_groups = ((distinct.len() as f64) * (1.0 - ratio) - 1e-9).ceil() as usize;
        prop_assert_eq!(test.len(), expected_test_groups);
    }

    #[test]
    fn time_split_trains_strictly_before_it_evaluates(
        times in prop::collection::vec(0i64..1000, 2..300),
        ratio in 0.1f64..0.9,
        gap in 0i64..200,
    ) {
        let n = times.len();
        let s = TimeSplit { train_ratio: ratio, gap_micros: gap }
            .split(&SplitInput { rows: n, times: Some(&times), ..Default::default() })
            .unwrap();
        let train_max = s.train.iter().map(|&i| times[i as usize]).max();
        let test_min = s.test.iter().map(|&i| times[i as usize]).min();
        if let (Some(a), Some(b)) = (train_max, test_min) {
            prop_assert!(b > a && b - a >= gap);
        }
        // Disjoint, and without a gap also covering.
        let all: BTreeSet<u32> = s.train.iter().chain(&s.test).copied().collect();
        prop_assert_eq!(all.len(), s.train.len() + s.test.len());
        if gap == 0 { assert_partition(&s, n); }
        // Both subsets in time order.
        prop_assert!(s.train.windows(2).all(|w| times[w[0] as usize] <= times[w[1] as usize]));
        prop_assert!(s.test.windows(2).all(|w| times[w[0] as usize] <= times[w[1] as usize]));
    }
}

/// Pinned once from this implementation (ChaCha8 + Lemire sampling): if these change,
/// every recorded split of every user changes.
#[test]
fn seeded_strategies_are_pinned() {
    let labels: Vec<f64> = (0..12).map(|i| (i % 3) as f64).collect();
    let s = StratifiedSplit::new(0.5, 42)
        .split(&input(12, Some(&labels)))
        .unwrap();
    assert_eq!(s.test, PINNED_STRATIFIED_TEST);
    let f = KFold {
        k: 3,
        shuffle: true,
        seed: 42,
    }
    .folds(&input(9, None))
    .unwrap();
    assert_eq!(f[0].test, PINNED_KFOLD_FIRST_TEST);
    let groups: Vec<String> = (0..10).map(|i| format!("g{}", i / 2)).collect();
    let g = GroupSplit::new(0.6, 42)
        .split(&SplitInput {
            rows: 10,
            groups: Some(&groups),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(g.test, PINNED_GROUP_TEST);
}

const PINNED_STRATIFIED_TEST: [u32; 6] = [0, 2, 3, 4, 10, 11];
const PINNED_KFOLD_FIRST_TEST: [u32; 3] = [4, 5, 8];
const PINNED_GROUP_TEST: [u32; 4] = [0, 1, 4, 5];

#[test]
fn unshuffled_kfold_matches_scikit_learn() {
    // sklearn.model_selection.KFold(n_splits=3).split(range(10)): test folds
    // [0 1 2 3], [4 5 6], [7 8 9].
    let f = KFold {
        k: 3,
        shuffle: false,
        seed: 0,
    }
    .folds(&input(10, None))
    .unwrap();
    let tests: Vec<Vec<u32>> = f.into_iter().map(|s| s.test).collect();
    assert_eq!(tests, vec![vec![0, 1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]);
}

#[test]
fn time_split_keeps_ties_together_and_skips_the_gap() {
    let times = [5, 1, 3, 3, 2, 9, 7];
    let s = TimeSplit {
        train_ratio: 0.5,
        gap_micros: 0,
    }
    .split(&SplitInput {
        rows: 7,
        times: Some(&times),
        ..Default::default()
    })
    .unwrap();
    // Ratio 0.5 → 3 training rows (times 1, 2, 3) but the other row at time 3 joins them.
    assert_eq!(s.train, vec![1, 4, 2, 3]);
    assert_eq!(s.test, vec![0, 6, 5]);
    let gapped = TimeSplit {
        train_ratio: 0.5,
        gap_micros: 3,
    }
    .split(&SplitInput {
        rows: 7,
        times: Some(&times),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(gapped.test, vec![6, 5], "time 5 is inside the gap");
}

#[test]
fn invalid_parameters_are_typed_errors() {
    let labels = [0.0, 1.0, 0.0, 1.0];
    let four = input(4, Some(&labels));
    for k in [0, 1] {
        assert!(matches!(
            KFold {
                k,
                shuffle: false,
                seed: 0
            }
            .folds(&four),
            Err(SplitError::InvalidParameter(_))
        ));
    }
    assert!(matches!(
        KFold {
            k: 5,
            shuffle: false,
            seed: 0
        }
        .folds(&four),
        Err(SplitError::InvalidParameter(_))
    ));
    assert!(matches!(
        StratifiedKFold {
            k: 2,
            shuffle: false,
            seed: 0
        }
        .folds(&input(4, None)),
        Err(SplitError::NeedsLabels(_))
    ));
    assert!(matches!(
        StratifiedSplit::new(1.2, 0).split(&four),
        Err(SplitError::InvalidParameter(_))
    ));
    assert!(matches!(
        StratifiedSplit::new(0.5, 0).split(&input(2, Some(&[0.0, f64::NAN]))),
        Err(SplitError::Label(_))
    ));
    assert!(matches!(
        TimeSplit {
            train_ratio: 0.5,
            gap_micros: 0
        }
        .split(&four),
        Err(SplitError::NeedsColumn { what: "time", .. })
    ));
    assert!(matches!(
        GroupSplit::new(0.5, 0).split(&four),
        Err(SplitError::NeedsColumn { what: "group", .. })
    ));
    let one_group = vec!["a".to_string(); 4];
    assert!(matches!(
        GroupSplit::new(0.5, 0).split(&SplitInput {
            rows: 4,
            groups: Some(&one_group),
            ..Default::default()
        }),
        Err(SplitError::InvalidParameter(_))
    ));
    assert!(matches!(
        strategy("nope", &serde_json::json!({})),
        Err(SplitError::UnknownStrategy { ref name, ref known, .. }) if name == "nope" && known.contains("stratified")
    ));
    assert!(matches!(
        strategy(
            "random",
            &serde_json::json!({"train_ratio": 0.5, "seed": 1, "typo": 2})
        ),
        Err(SplitError::InvalidParameter(_))
    ));
}

#[test]
fn strategies_by_name_from_configuration() {
    let cfg: SplitConfig =
        toml::from_str("strategy = \"stratified\"\ntrain_ratio = 0.8\nseed = 3\n").unwrap();
    let s = cfg.build().unwrap();
    assert_eq!(s.name(), "stratified");
    assert_eq!(s.params()["train_ratio"], 0.8);
    let folds = fold_strategy("stratified_kfold", &serde_json::json!({"k": 4})).unwrap();
    assert_eq!(folds.name(), "stratified_kfold");
    let holdout = fold_strategy(
        "random",
        &serde_json::json!({"train_ratio": 0.5, "seed": 1}),
    )
    .unwrap();
    assert_eq!(holdout.folds(&input(10, None)).unwrap().len(), 1);
    assert_eq!(SplitConfig::default().build().unwrap().name(), "random");
}

/// Ten million rows: strategies work on `u32` index arrays only (40 MB per full index
/// array), never on the feature data.
#[test]
fn ten_million_rows_split_on_index_arrays() {
    let n = 10_000_000;
    let s = RandomSplit::new(0.8, 1).split(&input(n, None)).unwrap();
    assert_eq!((s.train.len(), s.test.len()), (8_000_000, 2_000_000));
    let labels: Vec<f64> = (0..n).map(|i| (i % 10 == 0) as u8 as f64).collect();
    let st = StratifiedSplit::new(0.8, 1)
        .split(&input(n, Some(&labels)))
        .unwrap();
    let positives = st
        .test
        .iter()
        .filter(|&&i| labels[i as usize] == 1.0)
        .count();
    assert_eq!(positives, 200_000);
    let folds = KFold {
        k: 5,
        shuffle: true,
        seed: 1,
    }
    .folds(&input(n, None))
    .unwrap();
    assert!(folds.iter().all(|f| f.test.len() == 2_000_000));
}
