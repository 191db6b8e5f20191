//! Latency histograms (HDR, microsecond resolution) and their summary.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// A histogram of delivery latencies in microseconds, up to one minute.
pub fn latency_histogram() -> Histogram<u64> {
    // Three significant digits over 1 µs … 60 s always fit these bounds.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Records one latency (clamped into the histogram's range).
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = (latency.as_micros() as u64).clamp(1, 60_000_000);
    histogram.saturating_record(micros);
}

/// Percentiles of a latency histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub samples: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(histogram: &Histogram<u64>) -> Latency {
        let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
        Latency {
            samples: histogram.len(),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            p999_ms: ms(0.999),
            max_ms: histogram.max() as f64 / 1000.0,
        }
    }
}
