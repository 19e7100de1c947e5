//! Migration progress, from the engine's events: indicatif bars on a terminal (one per running
//! transfer and one overall, with keys/s, slots done and ETA), one plain stderr line per slot
//! when stderr is not a terminal, NDJSON events on stdout with `--json`, nothing with `-q`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::migrate::{Event, EventSink};

use super::Mode;

enum Style {
    Bars(Bars),
    Lines,
    Json,
    Silent,
}

struct Bars {
    multi: MultiProgress,
    overall: Option<ProgressBar>,
    started: Instant,
    keys: u64,
    pairs: HashMap<(String, String), (ProgressBar, u64, Instant)>,
}

/// An `EventSink` that shows progress the way the output mode asks.
pub struct Progress {
    style: Mutex<Style>,
}

impl Progress {
    /// `interactive`: stderr is a terminal (bars); otherwise plain lines.
    pub fn new(mode: Mode, interactive: bool) -> Progress {
        let style = match mode {
            Mode::Json => Style::Json,
            Mode::Quiet => Style::Silent,
            Mode::Human if interactive => Style::Bars(Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                overall: None,
                started: Instant::now(),
                keys: 0,
                pairs: HashMap::new(),
            }),
            Mode::Human => Style::Lines,
        };
        Progress {
            style: Mutex::new(style),
        }
    }

    /// A sink that prints nothing (dry runs, tests).
    pub fn silent() -> Progress {
        Progress {
            style: Mutex::new(Style::Silent),
        }
    }
}

fn rate(keys: u64, since: Instant) -> u64 {
    let secs = since.elapsed().as_secs_f64();
    if secs > 0.0 {
        (keys as f64 / secs) as u64
    } else {
        0
    }
}

impl Bars {
    fn on(&mut self, event: &Event) {
        match event {
            Event::Started { slots, .. } => {
                let bar = self.multi.add(ProgressBar::new(*slots as u64));
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>12} [{bar:30}] {pos}/{len} slots  {msg}  ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix("total");
                self.overall = Some(bar);
            }
            Event::TransferStarted {
                source,
                target,
                slots,
            } => {
                let bar = self.multi.add(ProgressBar::new(*slots as u64));
                bar.set_style(
                    ProgressStyle::with_template("  {prefix} [{bar:20}] {pos}/{len} slots  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                bar.set_prefix(format!("{source} -> {target}"));
                self.pairs
                    .insert((source.clone(), target.clone()), (bar, 0, Instant::now()));
            }
            Event::KeysMoved {
                source,
                target,
                keys,
            } => {
                self.keys += keys;
                if let Some((bar, n, since)) = self.pairs.get_mut(&(source.clone(), target.clone()))
                {
                    *n += keys;
                    bar.set_message(format!("{n} keys, {} keys/s", rate(*n, *since)));
                }
                if let Some(o) = &self.overall {
                    o.set_message(format!(
                        "{} keys, {} keys/s",
                        self.keys,
                        rate(self.keys, self.started)
                    ));
                }
            }
            Event::SlotMoved { source, target, .. } => {
                if let Some((bar, _, _)) = self.pairs.get(&(source.clone(), target.clone())) {
                    bar.inc(1);
                }
                if let Some(o) = &self.overall {
                    o.inc(1);
                }
            }
            Event::SlotFailed { slot, reason, .. } => {
                let _ = self.multi.println(format!("[ERR] slot {slot}: {reason}"));
                if let Some(o) = &self.overall {
                    o.inc(1);
                }
            }
            Event::Warning { message } => {
                let _ = self.multi.println(format!("[WARNING] {message}"));
            }
            Event::TransferDone { source, target, .. } => {
                if let Some((bar, _, _)) = self.pairs.remove(&(source.clone(), target.clone())) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                if self.pairs.is_empty() {
                    if let Some(o) = &self.overall {
                        if o.position() >= o.length().unwrap_or(0) {
                            o.finish_and_clear();
                        }
                    }
                }
            }
        }
    }
}

fn plain_line(event: &Event) -> Option<String> {
    match event {
        Event::TransferStarted {
            source,
            target,
            slots,
        } => Some(format!("Moving {slots} slots from {source} to {target}")),
        Event::SlotMoved {
            source,
            target,
            slot,
            keys,
        } => Some(format!(
            "Moved slot {slot} from {source} to {target} ({keys} keys)"
        )),
        Event::SlotFailed {
            source,
            target,
            slot,
            reason,
        } => Some(format!(
            "[ERR] slot {slot} from {source} to {target} given up: {reason}"
        )),
        Event::Warning { message } => Some(format!("[WARNING] {message}")),
        Event::TransferDone {
            source,
            target,
            slots_moved,
            slots_failed,
            keys,
        } => Some(format!(
            "Done {source} -> {target}: {slots_moved} slots, {keys} keys moved, {slots_failed} failed"
        )),
        Event::Started { .. } | Event::KeysMoved { .. } => None,
    }
}

impl EventSink for Progress {
    fn emit(&self, event: &Event) {
        let mut style = match self.style.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match &mut *style {
            Style::Silent => {}
            Style::Bars(bars) => bars.on(event),
            Style::Lines => {
                if let Some(line) = plain_line(event) {
                    let _ = writeln!(super::streams::chatter(), "{line}");
                }
            }
            Style::Json => {
                // One line per step; per-batch key counts would flood the stream.
                if !matches!(event, Event::KeysMoved { .. }) {
                    if let Ok(text) = serde_json::to_string(event) {
                        let _ = writeln!(std::io::stdout().lock(), "{text}");
                    }
                }
            }
        }
    }
}
