//! Prometheus metrics in the text exposition format: requests by route and status with a
//! latency histogram, commands by aggregate and outcome, and the projector's lag (computed
//! when scraped).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[derive(Default)]
struct Registry {
    requests: BTreeMap<(String, String, u16), u64>,
    latencies: BTreeMap<(String, String), Histogram>,
    commands: BTreeMap<(&'static str, &'static str), u64>,
}

#[derive(Default)]
pub struct Metrics {
    registry: Mutex<Registry>,
}

impl Metrics {
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut registry = self.registry.lock().expect("metrics poisoned");
        *registry
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let histogram = registry
            .latencies
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        histogram.count += 1;
        histogram.sum_seconds += seconds;
    }

    /// `outcome`: `committed`, `rejected` or `failed`.
    pub fn record_command(&self, aggregate: &'static str, outcome: &'static str) {
        let mut registry = self.registry.lock().expect("metrics poisoned");
        *registry.commands.entry((aggregate, outcome)).or_default() += 1;
    }

    /// The exposition text; `log_head` and `views_reached` give the projector's lag, and
    /// `views` each view's position and whether it is stalled.
    pub fn render(
        &self,
        log_head: i64,
        views_reached: i64,
        views: &[(String, i64, bool)],
    ) -> String {
        let registry = self.registry.lock().expect("metrics poisoned");
        let mut out = String::new();
        out.push_str("# HELP sablier_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE sablier_http_requests_total counter\n");
        for ((method, route, status), count) in &registry.requests {
            let _ = writeln!(
                out,
                "sablier_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP sablier_http_request_duration_seconds Time to answer.\n");
        out.push_str("# TYPE sablier_http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in &registry.latencies {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "sablier_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {bucket}"
                );
            }
            let _ = writeln!(
                out,
                "sablier_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "sablier_http_request_duration_seconds_sum{{{labels}}} {}",
                histogram.sum_seconds
            );
            let _ = writeln!(
                out,
                "sablier_http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
        out.push_str(
            "# HELP sablier_commands_total Commands executed, by aggregate and outcome.\n",
        );
        out.push_str("# TYPE sablier_commands_total counter\n");
        for ((aggregate, outcome), count) in &registry.commands {
            let _ = writeln!(
                out,
                "sablier_commands_total{{aggregate=\"{aggregate}\",outcome=\"{outcome}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP sablier_event_log_head_position Position of the last event in the log.\n",
        );
        out.push_str("# TYPE sablier_event_log_head_position gauge\n");
        let _ = writeln!(out, "sablier_event_log_head_position {log_head}");
        out.push_str(
            "# HELP sablier_projector_lag_events Events written but not yet in every view.\n",
        );
        out.push_str("# TYPE sablier_projector_lag_events gauge\n");
        let _ = writeln!(
            out,
            "sablier_projector_lag_events {}",
            (log_head - views_reached).max(0)
        );
        out.push_str("# HELP sablier_view_position Last log position each view applied.\n");
        out.push_str("# TYPE sablier_view_position gauge\n");
        for (view, position, _) in views {
            let _ = writeln!(out, "sablier_view_position{{view=\"{view}\"}} {position}");
        }
        out.push_str(
            "# HELP sablier_view_stalled 1 when the view cannot apply the next event and has stopped there (see /readyz).\n",
        );
        out.push_str("# TYPE sablier_view_stalled gauge\n");
        for (view, _, stalled) in views {
            let _ = writeln!(
                out,
                "sablier_view_stalled{{view=\"{view}\"}} {}",
                u8::from(*stalled)
            );
        }
        out
    }
}
