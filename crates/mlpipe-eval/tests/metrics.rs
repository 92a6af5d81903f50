//! Metrics against values worked out by hand (the scikit-learn pins live in
//! `sklearn_reference.rs`).

use mlpipe_core::Score;
use mlpipe_eval::*;

fn probs(p: &[f64]) -> Vec<Score> {
    p.iter()
        .map(|&v| Score::Probabilities {
            classes: vec![0, 1],
            probabilities: vec![1.0 - v, v],
        })
        .collect()
}

#[test]
fn roc_auc_with_ties() {
    // By hand (Mann–Whitney): positives 0.35, 0.8, 0.4 against negatives 0.1, 0.4, 0.4
    // win 1 + 3 + (1 + ½ + ½) = 6 of 9 pairs; ties count one half.
    let y = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0];
    let s = probs(&[0.1, 0.4, 0.35, 0.8, 0.4, 0.4]);
    let auc = RocAuc.evaluate(&y, &s).unwrap_or(f64::NAN);
    assert!((auc - 6.0 / 9.0).abs() < 1e-15, "{auc}");
    // Perfect and inverted rankings.
    assert_eq!(
        RocAuc
            .evaluate(&[0.0, 1.0], &probs(&[0.2, 0.9]))
            .unwrap_or(f64::NAN),
        1.0
    );
    assert_eq!(
        RocAuc
            .evaluate(&[0.0, 1.0], &probs(&[0.9, 0.2]))
            .unwrap_or(f64::NAN),
        0.0
    );
}

#[test]
fn accuracy_counts_argmax_hits() {
    let y = [0.0, 1.0, 1.0, 0.0];
    let s = probs(&[0.2, 0.7, 0.4, 0.5]);
    // 0.5 ties go to the first class (0), as numpy's argmax does.
    assert_eq!(Accuracy.evaluate(&y, &s).unwrap_or(f64::NAN), 0.75);
}

#[test]
fn degenerate_inputs_are_typed_errors() {
    assert!(matches!(
        RocAuc.evaluate(&[1.0, 1.0], &probs(&[0.2, 0.3])),
        Err(EvalError::Undefined { .. })
    ));
    assert!(matches!(
        Accuracy.evaluate(&[], &[]),
        Err(EvalError::Empty { .. })
    ));
    assert!(matches!(
        Accuracy.evaluate(&[1.0], &[]),
        Err(EvalError::Length { .. })
    ));
    assert!(matches!(
        RocAuc.evaluate(&[0.0, 1.0], &probs(&[f64::NAN, 0.3])),
        Err(EvalError::BadScore { .. })
    ));
    assert!(matches!(
        RocAuc.evaluate(
            &[0.0, 1.0],
            &[
                Score::Cluster {
                    cluster: 1,
                    distance: None
                },
                Score::Class { label: 0 }
            ]
        ),
        Err(EvalError::BadScore { .. })
    ));
    assert!(matches!(evaluator("f7"), Err(EvalError::UnknownMetric(_))));
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<EvalError>();
    check::<EvaluationService>();
    check::<EvaluationConfig>();
    check::<EvaluationReport>();
    check::<SelectionPolicy>();
    check::<Search>();
    check::<SearchReport>();
    check::<CvResult>();
    check::<Box<dyn Evaluator>>();
    check::<mlpipe_eval::report::RunReport>();
}
