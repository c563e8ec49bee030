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
        registry.render_requests(&mut out);
        registry.render_commands(&mut out);
        render_log_and_views(&mut out, log_head, views_reached, views);
        out
    }
}

/// A metric's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

impl Registry {
    fn render_requests(&self, out: &mut String) {
        family(
            out,
            "sablier_http_requests_total",
            "counter",
            "HTTP requests answered.",
        );
        for ((method, route, status), count) in &self.requests {
            let _ = writeln!(
                out,
                "sablier_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        family(
            out,
            "sablier_http_request_duration_seconds",
            "histogram",
            "Time to answer.",
        );
        for ((method, route), histogram) in &self.latencies {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "sablier_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {bucket}"
                );
            }
            let count = histogram.count;
            let sum = histogram.sum_seconds;
            let _ = writeln!(
                out,
                "sablier_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "sablier_http_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "sablier_http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
    }

    fn render_commands(&self, out: &mut String) {
        family(
            out,
            "sablier_commands_total",
            "counter",
            "Commands executed, by aggregate and outcome.",
        );
        for ((aggregate, outcome), count) in &self.commands {
            let _ = writeln!(
                out,
                "sablier_commands_total{{aggregate=\"{aggregate}\",outcome=\"{outcome}\"}} {count}"
            );
        }
    }
}

/// The log's head, the projector's lag, and each view's position and stall flag.
fn render_log_and_views(
    out: &mut String,
    log_head: i64,
    views_reached: i64,
    views: &[(String, i64, bool)],
) {
    family(
        out,
        "sablier_event_log_head_position",
        "gauge",
        "Position of the last event in the log.",
    );
    let _ = writeln!(out, "sablier_event_log_head_position {log_head}");
    family(
        out,
        "sablier_projector_lag_events",
        "gauge",
        "Events written but not yet in every view.",
    );
    let _ = writeln!(
        out,
        "sablier_projector_lag_events {}",
        (log_head - views_reached).max(0)
    );
    family(
        out,
        "sablier_view_position",
        "gauge",
        "Last log position each view applied.",
    );
    for (view, position, _) in views {
        let _ = writeln!(out, "sablier_view_position{{view=\"{view}\"}} {position}");
    }
    family(
        out,
        "sablier_view_stalled",
        "gauge",
        "1 when the view cannot apply the next event and has stopped there (see /readyz).",
    );
    for (view, _, stalled) in views {
        let _ = writeln!(
            out,
            "sablier_view_stalled{{view=\"{view}\"}} {}",
            u8::from(*stalled)
        );
    }
}
