//! Built-in models: quality on real data, identical batch and row paths, artefacts that
//! round-trip and refuse corruption, typed errors on bad training input.

mod common;

use common::*;
use mlpipe_core::FeatureSetId;
use mlpipe_models::*;
use mlpipe_split::{RandomSplit, SplitInput, SplitStrategy};
use ndarray::{array, Array1};

fn td<'a>(
    x: &'a ndarray::Array2<f64>,
    y: &'a Array1<f64>,
    names: &'a [String],
    fs: &'a FeatureSetId,
) -> TrainingData<'a> {
    TrainingData {
        x: x.view(),
        y: y.view(),
        feature_names: names,
        feature_set_id: fs,
    }
}

async fn breast_cancer_split() -> (
    ndarray::Array2<f64>,
    Array1<f64>,
    ndarray::Array2<f64>,
    Array1<f64>,
    Vec<String>,
) {
    let (x, y, names) = dataset("breast_cancer").await;
    let s = RandomSplit::new(0.7, 42)
        .split(&SplitInput {
            rows: x.nrows(),
            ..Default::default()
        })
        .unwrap_or_default();
    let tr: Vec<usize> = s.train.iter().map(|&i| i as usize).collect();
    let te: Vec<usize> = s.test.iter().map(|&i| i as usize).collect();
    let (xtr, ytr) = take(&x, &y, &tr);
    let (xte, yte) = take(&x, &y, &te);
    let (xtr, xte) = standardise(&xtr, &xte);
    (xtr, ytr, xte, yte, names)
}

#[tokio::test]
async fn logistic_and_tree_learn_breast_cancer_and_paths_agree() {
    let (xtr, ytr, xte, yte, names) = breast_cancer_split().await;
    let fs = FeatureSetId::new("fs-test");
    let algos = Algorithms::builtin();
    for (kind, params, min_acc) in [
        ("logistic_regression", serde_json::json!({}), 0.95),
        ("decision_tree", serde_json::json!({"max_depth": 5}), 0.90),
    ] {
        let model = algos
            .trainer(kind, &params)
            .unwrap_or_else(|e| panic!("{e}"))
            .train(&td(&xtr, &ytr, &names, &fs))
            .unwrap_or_else(|e| panic!("{e}"));
        let batch = model
            .predict_batch(xte.view())
            .unwrap_or_else(|e| panic!("{e}"));
        let acc = accuracy(&batch, &yte);
        assert!(acc > min_acc, "{kind}: accuracy {acc}");
        for (i, s) in batch.iter().enumerate() {
            let row = model
                .predict_row(&xte.row(i).to_vec())
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                &row, s,
                "{kind}: row {i} differs between batch and row path"
            );
        }
        let bytes = model
            .artefact()
            .and_then(|a| a.to_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let (art, back) = algos.load_bytes(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(art.kind, kind);
        assert_eq!(art.input_schema, names);
        assert_eq!(
            back.predict_batch(xte.view()).unwrap_or_default(),
            batch,
            "{kind}: artefact round trip changes predictions"
        );
    }
}

#[tokio::test]
async fn multinomial_logistic_fits_iris() {
    let (x, y, names) = dataset("iris").await;
    let fs = FeatureSetId::new("fs");
    let m = LogisticRegression(Default::default())
        .train(&td(&x, &y, &names, &fs))
        .unwrap_or_else(|e| panic!("{e}"));
    let scores = m.predict_batch(x.view()).unwrap_or_default();
    let acc = accuracy(&scores, &y);
    assert!(acc > 0.95, "iris training accuracy {acc}");
    let mlpipe_core::Score::Probabilities {
        classes,
        probabilities,
    } = &scores[0]
    else {
        panic!("probabilities expected")
    };
    assert_eq!(classes, &vec![0, 1, 2]);
    assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn bad_training_input_is_a_typed_error() {
    let fs = FeatureSetId::new("fs");
    let names = vec!["a".to_string(), "b".to_string()];
    let x = array![[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]];
    let logistic = LogisticRegression(Default::default());
    let tree = DecisionTreeAlias::default();
    for t in [&logistic as &dyn Trainer, &tree as &dyn Trainer] {
        let empty = ndarray::Array2::<f64>::zeros((0, 2));
        let e0 = Array1::<f64>::zeros(0);
        assert!(matches!(
            t.train(&td(&empty, &e0, &names, &fs)),
            Err(ModelError::NoRows { .. })
        ));
        let one = array![1.0, 1.0, 1.0];
        assert!(matches!(
            t.train(&td(&x, &one, &names, &fs)),
            Err(ModelError::OneClass { class: 1, .. })
        ));
        let frac = array![0.0, 0.5, 1.0];
        assert!(matches!(
            t.train(&td(&x, &frac, &names, &fs)),
            Err(ModelError::Labels { .. })
        ));
        let nan = array![[1.0, f64::NAN], [2.0, 1.0], [3.0, 0.0]];
        let y = array![0.0, 1.0, 1.0];
        assert!(
            matches!(t.train(&td(&nan, &y, &names, &fs)), Err(ModelError::NonFinite { feature, .. }) if feature == "b")
        );
        let m = t
            .train(&td(&x, &y, &names, &fs))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            m.predict_row(&[1.0]),
            Err(ModelError::Width {
                expected: 2,
                got: 1
            })
        ));
    }
}

type DecisionTreeAlias = mlpipe_models::tree::DecisionTree;
use mlpipe_models::logistic::LogisticRegression;

#[test]
fn corrupt_or_incompatible_artefacts_are_refused() {
    let algos = Algorithms::builtin();
    assert!(matches!(
        algos.load_bytes(b"not json"),
        Err(ModelError::Artefact(_))
    ));
    let mut a = ModelArtefact::new(
        "decision_tree",
        FeatureSetId::new("f"),
        vec!["a".into()],
        serde_json::json!({}),
        serde_json::json!({"classes": [0, 1], "nodes": [{"feature": 3, "threshold": 0.5, "left": 1, "right": 2}]}),
    );
    let bytes = a.to_bytes().unwrap_or_default();
    assert!(
        matches!(algos.load_bytes(&bytes), Err(ModelError::Artefact(m)) if m.contains("malformed"))
    );
    a.format_version = 99;
    let bytes = a.to_bytes().unwrap_or_default();
    assert!(
        matches!(algos.load_bytes(&bytes), Err(ModelError::Artefact(m)) if m.contains("version 99"))
    );
    let b = ModelArtefact::new(
        "mystery",
        FeatureSetId::new("f"),
        vec![],
        serde_json::json!({}),
        serde_json::json!({}),
    );
    assert!(matches!(
        algos.load_bytes(&b.to_bytes().unwrap_or_default()),
        Err(ModelError::UnknownKind { .. })
    ));
    assert!(matches!(
        algos
            .trainer("logistic_regression", &serde_json::json!({"C": -1.0}))
            .and_then(|t| {
                let x = array![[0.0], [1.0]];
                let y = array![0.0, 1.0];
                let n = vec!["a".to_string()];
                let f = FeatureSetId::new("f");
                t.train(&TrainingData {
                    x: x.view(),
                    y: y.view(),
                    feature_names: &n,
                    feature_set_id: &f,
                })
            }),
        Err(ModelError::Params { .. })
    ));
    assert!(matches!(
        algos.trainer("decision_tree", &serde_json::json!({"depth": 3})),
        Err(ModelError::Params { .. })
    ));
}
