//! Exit codes as a type: the documented contract between trib and the scripts that call it.
//! Does not decide *when* to exit; `main` maps results onto these.

/// Every way trib can end. The numbers are part of the CLI contract (README "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The operation succeeded and the cluster is healthy.
    Success = 0,
    /// The cluster has a problem or the operation failed.
    Failure = 1,
    /// Usage error: bad arguments (exit 1 instead in the redis-cli spelling, see `main`).
    Usage = 2,
    /// Interrupted by the user (Ctrl-C) or a prompt was aborted by a signal.
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that carries the exit code it must end the process with.
/// Ops return `anyhow::Error`; when one wraps a `Fail`, `main` uses its code, else 1.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Fail {
    pub code: ExitCode,
    pub message: String,
}

impl Fail {
    pub fn usage(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Fail {
            code: ExitCode::Usage,
            message: message.into(),
        })
    }

    pub fn failure(message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Fail {
            code: ExitCode::Failure,
            message: message.into(),
        })
    }

    /// A failure whose message has already been reported (e.g. as `[ERR]` lines): exit 1, print nothing more.
    pub fn reported() -> anyhow::Error {
        anyhow::Error::new(Fail {
            code: ExitCode::Failure,
            message: String::new(),
        })
    }
}

/// The exit code an error chain asks for.
pub fn code_of(err: &anyhow::Error) -> ExitCode {
    err.chain()
        .find_map(|e| e.downcast_ref::<Fail>().map(|f| f.code))
        .unwrap_or(ExitCode::Failure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_code_survives_context() {
        let e = Fail::usage("bad").context("while parsing");
        assert_eq!(code_of(&e), ExitCode::Usage);
        assert_eq!(code_of(&anyhow::anyhow!("plain")), ExitCode::Failure);
        assert_eq!(ExitCode::Interrupted.code(), 130);
    }
}
