//! trib-node's configuration: redis-server's argument forms (`[configfile] [--name value ...]`),
//! config-file parsing, validation with Redis's exact error texts, the live value store behind
//! CONFIG GET/SET, and CONFIG REWRITE. What each setting does is up to its user; this file only
//! stores and validates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::config_table::{kind_of, Kind, ALIASES, DIRECTIVES, FILE_ONLY, IMMUTABLE, PROTECTED};
use super::glob::glob_match;
use super::resp::split_args;

pub const REDIS_VERSION: &str = "7.0.15";

/// All settings by canonical name, plus the config file they came from.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
    /// Directives that only a config file may carry (`rename-command`, `user`, ...), in order.
    pub file_only: Vec<(String, String)>,
    pub file: Option<PathBuf>,
}

/// A startup configuration error, rendered exactly like redis-server's fatal message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupError {
    pub line: usize,
    pub text: String,
    pub reason: String,
}

impl std::fmt::Display for StartupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
            self.line, self.text, self.reason
        )
    }
}

/// What the command line asked for besides serving.
#[derive(Debug)]
pub enum Startup {
    Serve(Box<Config>),
    Version,
    Help,
}

fn canonical(name: &str) -> Option<&'static str> {
    let name = ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map(|(_, c)| *c)
        .unwrap_or(name);
    DIRECTIVES.iter().find(|(n, _)| *n == name).map(|(n, _)| *n)
}

/// C `sdscatrepr`: how redis-server quotes command-line values in its config text.
fn repr(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(char::from(b)),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Parses a memory value ("1gb", "100mb", "512k", "42").
pub fn parse_memory(s: &str) -> Option<i64> {
    let lower = s.to_ascii_lowercase();
    let (digits, mul): (&str, i64) = [
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1_000),
        ("b", 1),
    ]
    .iter()
    .find(|(suffix, _)| lower.ends_with(suffix))
    .map(|(suffix, m)| (&lower[..lower.len() - suffix.len()], *m))
    .unwrap_or((lower.as_str(), 1));
    let n: i64 = digits.parse().ok()?;
    n.checked_mul(mul)
}

impl Default for Config {
    fn default() -> Config {
        Config {
            values: DIRECTIVES
                .iter()
                .map(|(n, d)| (*n, d.to_string()))
                .collect(),
            file_only: Vec::new(),
            file: None,
        }
    }
}

impl Config {
    /// redis-server's command line: an optional config file first, then `--name value...`.
    pub fn from_args(args: &[String]) -> Result<Startup, StartupError> {
        let mut iter = args.iter().peekable();
        let mut file = None;
        if let Some(first) = iter.peek() {
            match first.as_str() {
                "-v" | "--version" => return Ok(Startup::Version),
                "-h" | "--help" => return Ok(Startup::Help),
                f if !f.starts_with("--") => {
                    file = Some(PathBuf::from(f));
                    iter.next();
                }
                _ => {}
            }
        }
        // The option lines, built the way redis-server builds its config text.
        let mut options: Vec<String> = Vec::new();
        for a in iter {
            if let Some(name) = a.strip_prefix("--") {
                options.push(format!("{name} "));
            } else if let Some(last) = options.last_mut() {
                last.push_str(&repr(a));
                last.push(' ');
            } else {
                return Err(StartupError {
                    line: 1,
                    text: a.clone(),
                    reason: "Bad directive or wrong number of arguments".into(),
                });
            }
        }
        let mut text = match &file {
            Some(path) => std::fs::read_to_string(path).map_err(|e| StartupError {
                line: 0,
                text: path.display().to_string(),
                reason: format!(
                    "Fatal error, can't open config file '{}': {e}",
                    path.display()
                ),
            })?,
            None => String::new(),
        };
        text.push('\n');
        text.push_str(&options.join("\n"));
        let mut config = Config {
            file: file.map(|f| std::fs::canonicalize(&f).unwrap_or(f)),
            ..Config::default()
        };
        config.load_text(&text)?;
        Ok(Startup::Serve(Box::new(config)))
    }

    /// Applies config-file text (file contents and command-line options alike).
    pub fn load_text(&mut self, text: &str) -> Result<(), StartupError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |reason: &str| StartupError {
                line: i + 1,
                text: line.to_string(),
                reason: reason.to_string(),
            };
            let words = split_args(line.as_bytes())
                .ok_or_else(|| fail("Unbalanced quotes in configuration line"))?;
            let words: Vec<String> = words
                .iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect();
            let Some(first) = words.first() else { continue };
            let name = first.to_ascii_lowercase();
            let args = &words[1..];
            if FILE_ONLY.contains(&name.as_str()) {
                if args.is_empty() {
                    return Err(fail("wrong number of arguments"));
                }
                self.file_only.push((name, args.join(" ")));
                continue;
            }
            let Some(canon) = canonical(&name) else {
                return Err(fail("Bad directive or wrong number of arguments"));
            };
            let default = DIRECTIVES
                .iter()
                .find(|(n, _)| *n == canon)
                .map(|(_, d)| *d)
                .unwrap_or("");
            let kind = kind_of(canon, default);
            if args.is_empty() && canon != "save" {
                return Err(fail("wrong number of arguments"));
            }
            if args.len() > 1 && kind != Kind::Multi {
                return Err(fail("wrong number of arguments"));
            }
            let value = args.join(" ");
            self.validate(canon, &value).map_err(|e| fail(&e))?;
            self.values.insert(canon, value);
        }
        Ok(())
    }

    fn validate(&self, canon: &str, value: &str) -> Result<(), String> {
        let default = DIRECTIVES
            .iter()
            .find(|(n, _)| *n == canon)
            .map(|(_, d)| *d)
            .unwrap_or("");
        match kind_of(canon, default) {
            Kind::Bool => {
                if !value.eq_ignore_ascii_case("yes") && !value.eq_ignore_ascii_case("no") {
                    return Err("argument must be 'yes' or 'no'".into());
                }
            }
            Kind::Int => {
                if value.parse::<i64>().is_err() {
                    return Err("argument couldn't be parsed into an integer".into());
                }
            }
            Kind::Memory => {
                if parse_memory(value).is_none()
                    && !(canon == "maxmemory-clients" && value.ends_with('%'))
                {
                    return Err("argument must be a memory value".into());
                }
            }
            Kind::Enum(values) => {
                if !values.iter().any(|v| v.eq_ignore_ascii_case(value)) {
                    return Err(format!(
                        "argument(s) must be one of the following: {}",
                        values.join(", ")
                    ));
                }
            }
            Kind::Multi if canon == "save" => {
                let words: Vec<&str> = value.split_whitespace().collect();
                if words.len() % 2 == 1 || words.iter().any(|w| w.parse::<u64>().is_err()) {
                    return Err("Invalid save parameters".into());
                }
            }
            Kind::Str | Kind::Multi => {}
        }
        Ok(())
    }

    /// The value of a setting (canonical or alias name). Unknown names give "".
    pub fn get(&self, name: &str) -> &str {
        canonical(name)
            .and_then(|c| self.values.get(c))
            .map(|s| s.as_str())
            .unwrap_or("")
    }
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name).eq_ignore_ascii_case("yes")
    }
    pub fn get_i64(&self, name: &str) -> i64 {
        let v = self.get(name);
        v.parse().ok().or_else(|| parse_memory(v)).unwrap_or(0)
    }
    pub fn port(&self) -> u16 {
        self.get_i64("port").clamp(0, 65535) as u16
    }
    pub fn requirepass(&self) -> Option<&str> {
        Some(self.get("requirepass")).filter(|p| !p.is_empty())
    }
    pub fn cluster_enabled(&self) -> bool {
        self.get_bool("cluster-enabled")
    }

    /// Sets a value at run time (used by tests and by cluster code); validation included.
    pub fn set_unchecked(&mut self, name: &str, value: &str) {
        if let Some(c) = canonical(name) {
            self.values.insert(c, value.to_string());
        }
    }

    /// CONFIG GET: (name, value) pairs for every directive (aliases included) matching any
    /// pattern, each once.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, _) in DIRECTIVES {
            if patterns
                .iter()
                .any(|p| glob_match(p, name.as_bytes(), true))
            {
                out.push((name.to_string(), self.get(name).to_string()));
            }
        }
        out
    }

    /// CONFIG SET name value [name value ...], all or nothing. Err is the full error text.
    pub fn set_many(&mut self, pairs: &[(String, String)]) -> Result<Vec<&'static str>, String> {
        let mut staged = Vec::new();
        for (i, (name, value)) in pairs.iter().enumerate() {
            let lname = name.to_ascii_lowercase();
            let Some(canon) = canonical(&lname) else {
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                ));
            };
            if pairs[..i]
                .iter()
                .any(|(n, _)| canonical(&n.to_ascii_lowercase()) == Some(canon))
            {
                return Err(format!("ERR CONFIG SET failed (possibly related to argument '{lname}') - duplicate parameter"));
            }
            let fail = |why: &str| {
                format!("ERR CONFIG SET failed (possibly related to argument '{lname}') - {why}")
            };
            if IMMUTABLE.contains(&canon) {
                return Err(fail("can't set immutable config"));
            }
            if PROTECTED.contains(&canon)
                && !self
                    .get("enable-protected-configs")
                    .eq_ignore_ascii_case("yes")
            {
                return Err(fail("can't set protected config"));
            }
            self.validate(canon, value).map_err(|e| fail(&e))?;
            staged.push((canon, value.clone()));
        }
        let names = staged.iter().map(|(c, _)| *c).collect();
        for (c, v) in staged {
            let v = match kind_of(c, "") {
                Kind::Bool => v.to_ascii_lowercase(),
                _ => v,
            };
            self.values.insert(c, v);
        }
        Ok(names)
    }

    /// CONFIG REWRITE: rewrites the config file, keeping its comments and order, replacing the
    /// lines of settings that differ from the defaults and appending the rest.
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = &self.file else {
            return Err("ERR The server is running without a config file".into());
        };
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let mut written: Vec<&str> = Vec::new();
        let mut out = String::new();
        for line in old.lines() {
            let t = line.trim();
            let name = t
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match canonical(&name) {
                Some(c) if !t.starts_with('#') => {
                    if !written.contains(&c) {
                        written.push(c);
                        out.push_str(&self.render_line(c));
                        out.push('\n');
                    }
                }
                _ => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        let mut header = false;
        for (name, default) in DIRECTIVES {
            let is_alias = ALIASES.iter().any(|(a, _)| a == name);
            if is_alias || written.contains(name) || self.get(name) == *default {
                continue;
            }
            if !header {
                out.push_str("# Generated by CONFIG REWRITE\n");
                header = true;
            }
            out.push_str(&self.render_line(name));
            out.push('\n');
        }
        std::fs::write(path, out).map_err(|e| format!("ERR Rewriting config file: {e}"))
    }

    fn render_line(&self, name: &str) -> String {
        let v = self.get(name);
        let multi = kind_of(name, "") == Kind::Multi;
        if multi && !v.is_empty() {
            format!("{name} {v}")
        } else if v.is_empty() || v.contains(' ') || v.contains('"') {
            format!("{name} {}", repr(v))
        } else {
            format!("{name} {v}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_line_forms() {
        let Startup::Serve(c) = Config::from_args(&args(&[
            "--port",
            "7001",
            "--save",
            "",
            "--cluster-enabled",
            "yes",
        ]))
        .unwrap() else {
            panic!()
        };
        assert_eq!(c.port(), 7001);
        assert!(c.cluster_enabled());
        assert_eq!(c.get("save"), "");
        assert_eq!(c.get("slave-priority"), "100");
    }

    #[test]
    fn unknown_directive_is_redis_fatal_error() {
        let e = Config::from_args(&args(&["--foo", "bar"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'foo \"bar\"'\nBad directive or wrong number of arguments"
        );
        let e = Config::from_args(&args(&["--port"])).unwrap_err();
        assert_eq!(e.reason, "wrong number of arguments");
    }

    #[test]
    fn config_set_errors() {
        let mut c = Config::default();
        let p = |n: &str, v: &str| vec![(n.to_string(), v.to_string())];
        assert_eq!(
            c.set_many(&p("port", "abc")).unwrap_err(),
            "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"
        );
        assert!(c
            .set_many(&p("cluster-enabled", "yes"))
            .unwrap_err()
            .ends_with("can't set immutable config"));
        assert_eq!(
            c.set_many(&p("foo", "1")).unwrap_err(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        c.set_many(&p("cluster-node-timeout", "5000")).unwrap();
        assert_eq!(c.get("cluster-node-timeout"), "5000");
        assert_eq!(
            c.get_matching(&[b"cluster-node-t*"]),
            vec![("cluster-node-timeout".to_string(), "5000".to_string())]
        );
    }
}
