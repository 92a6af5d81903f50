//! Latency statistics: exact count, min, mean and max, and percentiles from a log-scale
//! histogram (buckets 2.5% wide, so a percentile is within 2.5% of the true value).

use serde::{Deserialize, Serialize};

const GROWTH: f64 = 1.025;
const BUCKETS: usize = 1000;

/// Accumulates latencies in microseconds.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    count: u64,
    sum: f64,
    min: u64,
    max: u64,
    buckets: Vec<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: u64::MAX,
            max: 0,
            buckets: vec![0; BUCKETS],
        }
    }
}

fn bucket(v: u64) -> usize {
    if v <= 1 {
        return 0;
    }
    (((v as f64).ln() / GROWTH.ln()).ceil() as usize).min(BUCKETS - 1)
}

/// A summary of latencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Observations.
    pub count: u64,
    /// Smallest, µs.
    pub min_us: u64,
    /// Mean, µs.
    pub mean_us: f64,
    /// Largest, µs.
    pub max_us: u64,
    /// Median, µs (histogram estimate).
    pub p50_us: f64,
    /// 99th percentile, µs (histogram estimate).
    pub p99_us: f64,
}

impl LatencyHistogram {
    /// Adds one observation.
    pub fn record(&mut self, us: u64) {
        self.count += 1;
        self.sum += us as f64;
        self.min = self.min.min(us);
        self.max = self.max.max(us);
        self.buckets[bucket(us)] += 1;
    }

    /// The value below which `q` (0..=1) of the observations fall (upper bucket edge,
    /// clamped to the observed range).
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let target = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if seen >= target {
                let edge = if i == 0 { 1.0 } else { GROWTH.powi(i as i32) };
                return edge.clamp(self.min as f64, self.max as f64);
            }
        }
        self.max as f64
    }

    /// The summary.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count,
            min_us: if self.count == 0 { 0 } else { self.min },
            mean_us: if self.count == 0 {
                0.0
            } else {
                self.sum / self.count as f64
            },
            max_us: self.max,
            p50_us: self.quantile(0.5),
            p99_us: self.quantile(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_moments_and_close_percentiles() {
        let mut h = LatencyHistogram::default();
        for v in 1..=1000u64 {
            h.record(v);
        }
        let s = h.summary();
        assert_eq!((s.count, s.min_us, s.max_us), (1000, 1, 1000));
        assert!((s.mean_us - 500.5).abs() < 1e-9);
        assert!((s.p50_us - 500.0).abs() / 500.0 < 0.03, "{}", s.p50_us);
        assert!((s.p99_us - 990.0).abs() / 990.0 < 0.03, "{}", s.p99_us);
        assert_eq!(LatencyHistogram::default().summary().count, 0);
    }
}
