//! What a person watches during a run: a live indicatif bar on a terminal (machines finished
//! out of the fleet, throughput, active, failed), or one plain line every few seconds where
//! stderr is not a terminal (CI logs).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle as BarStyle};

use crate::options::ProgressStyle;

/// How often a plain progress line is printed.
const LINE_EVERY: u64 = 5;

pub(crate) enum Progress {
    Bar(ProgressBar),
    Lines { label: String },
    Silent,
}

/// One tick's figures.
pub(crate) struct Tick {
    pub t: u64,
    pub finished: u64,
    pub active: u64,
    pub failed: u64,
    pub mib_s: f64,
    pub amplification: Option<f64>,
}

impl Progress {
    pub(crate) fn start(style: ProgressStyle, label: &str, clients: u64) -> Self {
        let terminal = std::io::stderr().is_terminal();
        match style {
            ProgressStyle::Silent => Self::Silent,
            ProgressStyle::Auto if terminal => {
                let bar = ProgressBar::with_draw_target(
                    Some(clients),
                    ProgressDrawTarget::stderr_with_hz(4),
                );
                bar.set_style(
                    BarStyle::with_template(
                        "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} machines {msg}",
                    )
                    .unwrap_or_else(|_| BarStyle::default_bar()),
                );
                bar.set_prefix(label.to_owned());
                bar.enable_steady_tick(Duration::from_millis(250));
                Self::Bar(bar)
            }
            ProgressStyle::Auto | ProgressStyle::Lines => Self::Lines {
                label: label.to_owned(),
            },
        }
    }

    pub(crate) fn tick(&self, tick: &Tick) {
        let amplification = tick
            .amplification
            .map_or_else(|| "-".to_owned(), |a| format!("{a:.2}"));
        let figures = format!(
            "{:.0} MiB/s, {} active, {} failed, amplification {amplification}",
            tick.mib_s, tick.active, tick.failed
        );
        match self {
            Self::Bar(bar) => {
                bar.set_position(tick.finished);
                bar.set_message(figures);
            }
            Self::Lines { label } if tick.t.is_multiple_of(LINE_EVERY) => {
                eprintln!(
                    "{label} {:>4}s: {} finished, {figures}",
                    tick.t, tick.finished
                );
            }
            Self::Lines { .. } | Self::Silent => {}
        }
    }

    pub(crate) fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish();
        }
    }
}
