//! Injecting your own split strategy: a user type implementing `SplitStrategy`, and a
//! closure through `FnSplit`, next to the built-ins, on the iris data.
//!
//! Run with `cargo run --example custom_split`.

use mlpipe::split::{
    assess, FnSplit, SplitError, SplitIndices, SplitInput, SplitStrategy, StratifiedSplit,
    WarningPolicy,
};

/// Holds out every `every`-th row (say, a fixed audit sample) and trains on the rest.
struct EveryNth {
    every: u32,
}

impl SplitStrategy for EveryNth {
    fn name(&self) -> &str {
        "every_nth"
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({ "every": self.every })
    }
    fn split(&self, input: &SplitInput<'_>) -> Result<SplitIndices, SplitError> {
        if self.every < 2 {
            return Err(SplitError::InvalidParameter(
                "`every` must be at least 2".into(),
            ));
        }
        let n = input.rows as u32;
        Ok(SplitIndices {
            train: (0..n).filter(|i| i % self.every != 0).collect(),
            test: (0..n).filter(|i| i % self.every == 0).collect(),
        })
    }
}

fn iris_labels() -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let text = std::fs::read_to_string(path)?;
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let last = line.rsplit(',').next().unwrap_or_default();
        labels.push(
            last.trim()
                .parse::<f64>()
                .map_err(|e| format!("line {}: bad label `{last}`: {e}", i + 1))?,
        );
    }
    Ok(labels)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let labels = iris_labels()?;
    let input = SplitInput {
        rows: labels.len(),
        labels: Some(&labels),
        ..Default::default()
    };
    // Iris is sorted by class: the first 50 rows are setosa. A closure that takes the
    // first rows for training leaves a whole class out of evaluation — and the warnings
    // returned with the split say so.
    let first_rows = FnSplit::new(
        "first_rows",
        serde_json::json!({"rows": 100}),
        |i: &SplitInput<'_>| {
            let n = i.rows as u32;
            Ok(SplitIndices {
                train: (0..100.min(n)).collect(),
                test: (100.min(n)..n).collect(),
            })
        },
    );
    let strategies: Vec<Box<dyn SplitStrategy>> = vec![
        Box::new(EveryNth { every: 5 }),
        Box::new(first_rows),
        Box::new(StratifiedSplit::new(0.8, 42)),
    ];
    for s in &strategies {
        let split = s.split(&input)?;
        let warnings = assess(&input, &split, s.train_ratio(), &WarningPolicy::default());
        println!(
            "{:<12} params={} train={} test={} warnings={}",
            s.name(),
            s.params(),
            split.train.len(),
            split.test.len(),
            warnings.len()
        );
        for w in warnings {
            println!("    warning: {}", serde_json::to_string(&w)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_runs() {
        if let Err(e) = super::main() {
            panic!("custom_split failed: {e}");
        }
    }
}
