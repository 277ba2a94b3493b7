//! Prometheus metrics (SERVER.md "Keys, start, stop"), fed by the turns of
//! live runs only: test-mode runs count in none.

use flow_runtime::{Event, EventBody};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

type Labels = Vec<(String, String)>;

/// The service's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    runs_started: Family<Labels, Counter>,
    runs_finished: Family<Labels, Counter>,
    steps: Counter,
    step_duration: Histogram,
    model_call_duration: Histogram,
    tokens: Family<Labels, Counter>,
    webhook_deliveries: Family<Labels, Counter>,
    trigger_failures: Counter,
}

fn seconds_buckets() -> impl Iterator<Item = f64> {
    [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ]
    .into_iter()
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let runs_started = Family::<Labels, Counter>::default();
        let runs_finished = Family::<Labels, Counter>::default();
        let steps = Counter::default();
        let step_duration = Histogram::new(seconds_buckets());
        let model_call_duration = Histogram::new(seconds_buckets());
        let tokens = Family::<Labels, Counter>::default();
        let webhook_deliveries = Family::<Labels, Counter>::default();
        let trigger_failures = Counter::default();
        registry.register("flow_runs_started", "Live runs started", runs_started.clone());
        registry.register(
            "flow_runs_finished",
            "Live runs finished, by status",
            runs_finished.clone(),
        );
        registry.register("flow_steps", "Node entries of live runs", steps.clone());
        registry.register(
            "flow_step_duration_seconds",
            "Time from one node entry of a live run to its next",
            step_duration.clone(),
        );
        registry.register(
            "flow_model_call_duration_seconds",
            "Model calls of live runs",
            model_call_duration.clone(),
        );
        registry.register("flow_tokens", "Model tokens of live runs, by direction", tokens.clone());
        registry.register(
            "flow_webhook_deliveries",
            "Webhook delivery attempts, by state",
            webhook_deliveries.clone(),
        );
        registry.register(
            "flow_trigger_failures",
            "Schedules and hooks that could not start their run",
            trigger_failures.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                runs_started,
                runs_finished,
                steps,
                step_duration,
                model_call_duration,
                tokens,
                webhook_deliveries,
                trigger_failures,
            }),
        }
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl Metrics {
    /// A live run started.
    pub fn run_started(&self, workflow: &str) {
        self.inner
            .runs_started
            .get_or_create(&labels(&[("workflow", workflow)]))
            .inc();
    }

    /// The time one step of a live run took.
    pub fn step(&self, took: Duration) {
        self.inner.steps.inc();
        self.inner.step_duration.observe(took.as_secs_f64());
    }

    /// One committed event of a live run.
    pub fn event(&self, workflow: &str, event: &Event) {
        let finished = match &event.body {
            EventBody::LlmCall {
                latency_ms,
                input_tokens,
                output_tokens,
                skipped,
                ..
            } => {
                if !skipped {
                    self.inner.model_call_duration.observe(*latency_ms as f64 / 1000.0);
                }
                for (direction, n) in [("input", input_tokens), ("output", output_tokens)] {
                    if let Some(n) = n {
                        self.inner
                            .tokens
                            .get_or_create(&labels(&[("workflow", workflow), ("direction", direction)]))
                            .inc_by(*n);
                    }
                }
                None
            }
            EventBody::RunCompleted { .. } => Some("completed"),
            EventBody::RunFailed { .. } => Some("failed"),
            EventBody::RunCancelled { .. } => Some("cancelled"),
            _ => None,
        };
        if let Some(status) = finished {
            self.inner
                .runs_finished
                .get_or_create(&labels(&[("workflow", workflow), ("status", status)]))
                .inc();
        }
    }

    /// A webhook delivery attempt ended in `status`.
    pub fn webhook_delivery(&self, status: &str) {
        self.inner
            .webhook_deliveries
            .get_or_create(&labels(&[("status", status)]))
            .inc();
    }

    /// A schedule or hook could not start its run.
    pub fn trigger_failure(&self) {
        self.inner.trigger_failures.inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.inner.registry).is_err() {
            out.clear();
        }
        out
    }
}
