//! trib-node's log: redis-server-like lines (`pid:M dd Mon yyyy hh:mm:ss.mmm * message`) to
//! the `logfile` (stdout when empty), filtered by `loglevel`. The only place the node prints.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Verbose,
    Notice,
    Warning,
}

impl Level {
    pub fn parse(s: &str) -> Level {
        match s {
            "debug" => Level::Debug,
            "verbose" => Level::Verbose,
            "warning" => Level::Warning,
            _ => Level::Notice,
        }
    }
    fn mark(self) -> char {
        match self {
            Level::Debug => '.',
            Level::Verbose => '-',
            Level::Notice => '*',
            Level::Warning => '#',
        }
    }
}

struct Logger {
    file: Option<std::fs::File>,
    level: Level,
}

fn logger() -> &'static Mutex<Logger> {
    static L: OnceLock<Mutex<Logger>> = OnceLock::new();
    L.get_or_init(|| {
        Mutex::new(Logger {
            file: None,
            level: Level::Notice,
        })
    })
}

/// Sets the destination (empty path: stdout) and level. Err: the file cannot be opened.
pub fn init(path: &str, level: Level) -> std::io::Result<()> {
    let file = if path.is_empty() {
        None
    } else {
        Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        )
    };
    let mut l = logger().lock().unwrap_or_else(|e| e.into_inner());
    l.file = file;
    l.level = level;
    Ok(())
}

pub fn set_level(level: Level) {
    logger().lock().unwrap_or_else(|e| e.into_inner()).level = level;
}

fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let ms = now.subsec_millis();
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    // civil-from-days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms
    )
}

#[allow(clippy::print_stdout)]
pub fn log(level: Level, msg: &str) {
    let mut l = logger().lock().unwrap_or_else(|e| e.into_inner());
    if level < l.level {
        return;
    }
    let line = format!(
        "{}:M {} {} {}\n",
        std::process::id(),
        timestamp(),
        level.mark(),
        msg
    );
    match l.file.as_mut() {
        Some(f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => print!("{line}"),
    }
}

pub fn notice(msg: &str) {
    log(Level::Notice, msg);
}
pub fn warning(msg: &str) {
    log(Level::Warning, msg);
}
pub fn verbose(msg: &str) {
    log(Level::Verbose, msg);
}
