//! What every `quant` binary shares, so that they behave alike at the
//! edges: logging, error reports, exit codes and standard output.
//!
//! - [`init_tracing`]: a `tracing` subscriber writing to stderr, filtered
//!   by `RUST_LOG` (default `warn`), as text or one JSON object per line
//!   (`--log-format json`, [`LogArgs`]);
//! - [`report`]: an error and its causes on one line, each cause once
//!   (many errors repeat their source's text in their own message; such a
//!   cause is not printed again);
//! - [`fail`]: prints that report (or logs it as a JSON event) and gives
//!   the error exit code;
//! - [`out!`] / [`outln!`]: `print!` / `println!` that do not panic when
//!   stdout is a closed pipe (`quant-data list | head`): output stops
//!   quietly and the command goes on to its end, so a writing command is
//!   never cut short by its reader.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// How log lines (and the final error of a failed command) are written
/// to stderr.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

/// The logging flags every binary takes (flatten into its `clap` parser).
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct LogArgs {
    /// Log format on stderr: text or json (one object per line). The level
    /// filter is RUST_LOG (default warn), e.g. RUST_LOG=info or
    /// RUST_LOG=quant_providers=debug.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Installs the process's tracing subscriber: stderr, `RUST_LOG` filter
/// (default `warn`; an unreadable filter falls back to `warn` with a
/// warning), `format`. A second call does nothing.
pub fn init_tracing(format: LogFormat) {
    let (filter, bad) = match tracing_subscriber::EnvFilter::try_from_default_env() {
        Ok(f) => (f, None),
        Err(e) => {
            let bad = std::env::var("RUST_LOG")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| format!("RUST_LOG={v:?} is not a filter ({e}); using warn"));
            (tracing_subscriber::EnvFilter::new("warn"), bad)
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    if let Some(msg) = bad {
        tracing::warn!("{msg}");
    }
}

/// The error and its causes, outermost first, joined by `: `, each cause
/// once: a cause whose text the report already holds (an error that
/// quotes its source) is left out.
pub fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// Reports a failed command on stderr — `error: <report>` as text, or
/// one JSON `ERROR` event with the report as its message — and returns
/// exit code 2 (the workspace's "error" code).
pub fn fail(format: LogFormat, err: &(dyn std::error::Error + 'static)) -> ExitCode {
    let text = report(err);
    match format {
        LogFormat::Text => {
            let _ = writeln!(std::io::stderr(), "error: {text}");
        }
        LogFormat::Json => tracing::error!(error = %text, "command failed"),
    }
    ExitCode::from(2)
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes to stdout; once stdout is a closed pipe (or fails otherwise,
/// which is reported once on stderr), further output is dropped. Used by
/// [`out!`] and [`outln!`].
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            let _ = writeln!(std::io::stderr(), "warning: cannot write to stdout: {e}");
        }
    }
}

/// Whether stdout was found closed (a reader such as `head` went away).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `print!` that survives a closed stdout (see [`write_stdout`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that survives a closed stdout (see [`write_stdout`]).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str, Option<Box<E>>);

    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for E {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn each_cause_is_printed_once() {
        // an io-style error that quotes its source, as thiserror's
        // `#[error("{path}: {source}")]` does
        let inner = E("No such file or directory (os error 2)", None);
        let outer = E(
            "/tmp/x: No such file or directory (os error 2)",
            Some(Box::new(inner)),
        );
        assert_eq!(
            report(&outer),
            "/tmp/x: No such file or directory (os error 2)"
        );
        let ctx = anyhow::Error::new(outer).context("reading the store");
        assert_eq!(
            report(ctx.as_ref()),
            "reading the store: /tmp/x: No such file or directory (os error 2)"
        );
        // a cause with new text is kept
        let e = E("cannot open catalog", Some(Box::new(E("disk full", None))));
        assert_eq!(report(&e), "cannot open catalog: disk full");
    }
}
