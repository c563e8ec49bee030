//! A progress bar on stderr for the long walks over the log (verify, export, import,
//! rebuild), drawn only when stderr is a terminal: pipes, files and tests stay quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Positions between two updates of the bar.
const STRIDE: i64 = 1024;

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `label` over positions `1..=total` (a counter when `total` is 0); hidden
    /// unless stderr is a terminal.
    pub fn new(label: &'static str, total: i64) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            // Without a total (an import reading a file), a counter and a rate.
            let (bar, template) = if total > 0 {
                (
                    ProgressBar::new(u64::try_from(total).unwrap_or(0)),
                    "{prefix} [{bar:40}] {pos}/{len} events, {per_sec}, {eta} left",
                )
            } else {
                (
                    ProgressBar::new_spinner(),
                    "{prefix} {spinner} {pos} events, {per_sec}",
                )
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label);
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// The walk has reached `position`.
    pub fn set(&self, position: i64) {
        if position % STRIDE == 0 {
            self.bar.set_position(u64::try_from(position).unwrap_or(0));
        }
    }

    /// Runs `print` with the bar out of the way, so a reported line is not torn.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.bar.suspend(print)
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
