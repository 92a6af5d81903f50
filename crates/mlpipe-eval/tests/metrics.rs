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

/// Forecast errors by name over `Score::Forecast` rows: each row's prediction is its
/// forecast at the horizon it asks for (its last step); MASE scales by the naive forecast
/// of the training series given in the input.
#[test]
#[allow(clippy::unwrap_used)]
fn forecast_errors_are_evaluators_over_forecast_scores() {
    use mlpipe_core::score::Forecast;
    use mlpipe_eval::metrics::ForecastErrors;
    use mlpipe_eval::{EvalInput, Evaluators};
    let train = [10.0, 12.0, 11.0, 13.0, 12.0];
    let truth = [13.0, 14.0, 12.5];
    // Row h asks for h steps ahead; only the last step is its prediction.
    let paths = [vec![12.5], vec![12.5, 13.0], vec![12.5, 13.0, 13.5]];
    let scores: Vec<Score> = paths
        .iter()
        .map(|m| {
            Score::Forecast(Forecast {
                mean: m.clone(),
                lower: m.clone(),
                upper: m.clone(),
                level: 0.95,
            })
        })
        .collect();
    let points = [12.5, 13.0, 13.5];
    let reference = ForecastErrors::new(&truth, &points, &train, 1).unwrap();
    let metrics = Evaluators::builtin();
    let input = EvalInput::new(&truth, &scores).with_training_truth(&train);
    let get = |n: &str| metrics.get(n).unwrap().evaluate_input(&input).unwrap();
    assert!((get("forecast_mae") - reference.mae).abs() < 1e-15);
    assert!((get("forecast_rmse") - reference.rmse).abs() < 1e-15);
    assert!((get("mase") - reference.mase).abs() < 1e-15);
    assert!(!metrics.get("mase").unwrap().higher_is_better());
    // Without the training series MASE says what it needs; a class score is refused.
    let bare = EvalInput::new(&truth, &scores);
    assert!(matches!(
        metrics.get("mase").unwrap().evaluate_input(&bare),
        Err(EvalError::Undefined { .. })
    ));
    let classes = vec![Score::Class { label: 1 }; 3];
    assert!(matches!(
        metrics
            .get("forecast_mae")
            .unwrap()
            .evaluate(&truth, &classes),
        Err(EvalError::BadScore { .. })
    ));
    // Clustering quality without the features says so too.
    assert!(matches!(
        metrics
            .get("silhouette")
            .unwrap()
            .evaluate(&truth, &classes),
        Err(EvalError::Undefined { .. })
    ));
}
