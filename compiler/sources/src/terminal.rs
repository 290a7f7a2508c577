//! Progress of a resolution for people: a live bar on a terminal (sources ready out of all,
//! with the ones in flight), and one summary line when it is done, so CI logs get a single
//! line per build rather than a stream of redraws.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::settings::{Progress, Stage};

#[derive(Default)]
struct State {
    in_flight: BTreeSet<String>,
    fetched: BTreeSet<String>,
    ready: usize,
}

/// Reports the sources of one resolution; hand [`FetchProgress::hook`] to
/// [`crate::Settings::progress`], then call [`FetchProgress::finish`].
pub struct FetchProgress {
    bar: Option<ProgressBar>,
    state: Arc<Mutex<State>>,
    started: Instant,
    total: usize,
}

impl FetchProgress {
    /// A bar over `total` sources, drawn on stderr only when `interactive` (stderr is a terminal
    /// and the user did not ask for quiet).
    pub fn new(total: usize, interactive: bool) -> Self {
        let bar = interactive.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(10),
            );
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12.cyan.bold} [{bar:25}] {pos}/{len} {wide_msg}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.set_prefix("Sources");
            bar
        });
        FetchProgress {
            bar,
            state: Arc::default(),
            started: Instant::now(),
            total,
        }
    }

    /// The callback that feeds the bar.
    pub fn hook(&self) -> Progress {
        let state = self.state.clone();
        let bar = self.bar.clone();
        Progress(Arc::new(move |name: &str, stage: Stage| {
            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
            match stage {
                Stage::Resolving => {
                    s.in_flight.insert(name.to_string());
                }
                Stage::Fetching => {
                    s.in_flight.insert(name.to_string());
                    s.fetched.insert(name.to_string());
                }
                Stage::Ready => {
                    s.in_flight.remove(name);
                    s.ready += 1;
                }
            }
            if let Some(bar) = &bar {
                bar.set_position(s.ready as u64);
                bar.set_message(in_flight_message(&s.in_flight));
            }
        }))
    }

    /// Clears the bar and returns the summary line, e.g.
    /// `sources: 12 ready (3 fetched, 9 cached) in 1.24s`.
    pub fn finish(self) -> String {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        summary(
            self.total,
            s.ready,
            s.fetched.len(),
            self.started.elapsed().as_secs_f64(),
        )
    }
}

fn in_flight_message(names: &BTreeSet<String>) -> String {
    const SHOWN: usize = 3;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" +{}", names.len() - SHOWN));
    }
    text
}

fn summary(total: usize, ready: usize, fetched: usize, seconds: f64) -> String {
    let fetched = fetched.min(ready);
    let status = if ready == total {
        format!("{ready} ready")
    } else {
        format!("{ready} of {total} ready")
    };
    format!(
        "sources: {status} ({fetched} fetched, {} cached) in {seconds:.2}s",
        ready - fetched
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_fetched_and_cached_sources() {
        let p = FetchProgress::new(3, false);
        let hook = p.hook();
        for (name, stages) in [
            ("a", &[Stage::Resolving, Stage::Fetching, Stage::Ready][..]),
            ("b", &[Stage::Ready][..]),
            ("c", &[Stage::Resolving][..]),
        ] {
            for stage in stages {
                (hook.0)(name, *stage);
            }
        }
        let line = p.finish();
        assert!(
            line.starts_with("sources: 2 of 3 ready (1 fetched, 1 cached) in "),
            "{line}"
        );
        assert_eq!(
            in_flight_message(&["a", "b", "c", "d", "e"].map(String::from).into()),
            "a, b, c +2"
        );
    }
}
