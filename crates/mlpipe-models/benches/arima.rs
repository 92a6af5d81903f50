//! ARIMA fit time against statsmodels, measured in the same run.
//!
//! `cargo bench -p mlpipe-models --bench arima` — fits Nile ARIMA(1,1,1) and sunspots
//! ARIMA(2,0,1)+const (best of N), then runs
//! `bench/.venv/bin/python bench/peers/statsmodels_arima.py` and prints its JSON and the
//! ratio ours / statsmodels. Set `ARIMA_BENCH_REPEAT` to change N (default 50).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use mlpipe_models::Arima;
use std::path::PathBuf;
use std::time::Instant;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn series(name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(root().join(format!("data/{name}.csv"))).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.rsplit(',').next().unwrap().trim().parse().unwrap())
        .collect()
}

struct Timing {
    best: f64,
    median: f64,
    llf: f64,
    iterations: usize,
}

fn time_fit(spec: Arima, y: &[f64], repeat: usize) -> Timing {
    let warm = spec.fit(y).unwrap();
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t0 = Instant::now();
        let fit = std::hint::black_box(spec.fit(std::hint::black_box(y)).unwrap());
        times.push(t0.elapsed().as_secs_f64());
        assert_eq!(fit.log_likelihood(), warm.log_likelihood());
    }
    times.sort_by(f64::total_cmp);
    Timing {
        best: times[0],
        median: times[times.len() / 2],
        llf: warm.log_likelihood(),
        iterations: warm.iterations(),
    }
}

fn main() {
    let repeat: usize = std::env::var("ARIMA_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let cases = [
        (
            "nile_arima_1_1_1",
            "nile",
            Arima::new(1, 1, 1).with_constant(false),
        ),
        (
            "sunspots_arima_2_0_1",
            "sunspots",
            Arima::new(2, 0, 1).with_constant(true),
        ),
    ];
    let mut ours = Vec::new();
    for (name, file, spec) in cases {
        let y = series(file);
        let t = time_fit(spec, &y, repeat);
        println!(
            "mlpipe {name}: n={} fit best {:.3} ms, median {:.3} ms (of {repeat}), llf {:.6}, {} BFGS iterations",
            y.len(),
            t.best * 1e3,
            t.median * 1e3,
            t.llf,
            t.iterations
        );
        ours.push((name, t));
    }

    let python = root().join("bench/.venv/bin/python");
    let script = root().join("bench/peers/statsmodels_arima.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg("--repeat")
        .arg("10")
        .current_dir(root())
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            println!(
                "statsmodels peer failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
            );
            return;
        }
        Err(e) => {
            println!(
                "statsmodels peer not run ({e}); create the venv with `bash bench/setup_venv.sh`"
            );
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    println!("statsmodels peer JSON: {}", text.trim());
    let json: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    for (name, t) in &ours {
        let peer = &json["models"][name];
        let Some(theirs) = peer["fit_seconds"].as_f64() else {
            println!("{name}: no statsmodels timing");
            continue;
        };
        let their_llf = peer["llf"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{name}: mlpipe {:.3} ms vs statsmodels {:.3} ms (best of each): ratio ours/statsmodels {:.4} ({:.0}x faster); llf ours {:.6} statsmodels {:.6}",
            t.best * 1e3,
            theirs * 1e3,
            t.best / theirs,
            theirs / t.best,
            t.llf,
            their_llf
        );
    }
}
