//! Progress while a job runs: an indicatif bar on a terminal, a concise log line every few
//! seconds otherwise (CI logs, cron mail), through tracing so `--log-format json` makes each
//! one a JSON object.
//!
//! It only reads the shared [`Counters`] the workers bump; it never slows them down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ratelimit::RateLimiter;
use super::report::Counters;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// An indicatif bar on stderr.
    Bar,
    /// A log line every `every`.
    Log { every: Duration },
}

impl Display {
    /// A bar when stderr is a terminal, log lines every 5 seconds otherwise.
    pub fn detect() -> Display {
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            Display::Bar
        } else {
            Display::Log {
                every: Duration::from_secs(5),
            }
        }
    }
}

/// A running progress display; [`Progress::finish`] stops it.
pub struct Progress {
    task: tokio::task::JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn start(
        display: Display,
        job: &str,
        total: u64,
        counters: Arc<Counters>,
        limiter: Arc<RateLimiter>,
    ) -> Progress {
        let job = job.to_string();
        match display {
            Display::Bar => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {pos}/{len} ids, ETA {eta} {msg}",
                    )
                    .expect("static template")
                    .progress_chars("=> "),
                );
                bar.set_prefix(job);
                let shown = bar.clone();
                let task = tokio::spawn(async move {
                    let start = Instant::now();
                    loop {
                        let settled = counters.settled();
                        let rate = settled as f64 / start.elapsed().as_secs_f64().max(0.001);
                        shown.set_position(settled);
                        shown.set_message(format!(
                            "{rate:.0} ids/s, retries {}, throttled {} (limit {:.0} requests/s)",
                            Counters::get(&counters.retries),
                            Counters::get(&counters.throttles),
                            limiter.rate()
                        ));
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                });
                Progress {
                    task,
                    bar: Some(bar),
                }
            }
            Display::Log { every } => {
                let task = tokio::spawn(async move {
                    let start = Instant::now();
                    loop {
                        tokio::time::sleep(every).await;
                        let settled = counters.settled();
                        let elapsed = start.elapsed().as_secs_f64();
                        tracing::info!(
                            job = %job,
                            settled,
                            total,
                            deleted = Counters::get(&counters.deleted),
                            requests = Counters::get(&counters.requests),
                            retries = Counters::get(&counters.retries),
                            throttled = Counters::get(&counters.throttles),
                            rate_limit = format!("{:.0}", limiter.rate()),
                            "progress: {settled}/{total} ids settled, {:.0} ids/s",
                            settled as f64 / elapsed.max(0.001)
                        );
                    }
                });
                Progress { task, bar: None }
            }
        }
    }

    /// Stop updating and clear the bar (the summary follows).
    pub fn finish(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
