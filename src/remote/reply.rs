//! One place that classifies what a node answered: redirections (MOVED/ASK), transient states
//! (TRYAGAIN, CLUSTERDOWN, LOADING), BUSYKEY, IOERR, auth failures, plain ERR, and transport
//! failures. Callers branch on `ReplyError`; nothing here retries or prints.

use crate::addr::NodeAddr;
use crate::slot::Slot;

/// What went wrong with one request, by cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// `MOVED <slot> <host:port>`: the slot lives elsewhere.
    #[error("MOVED {slot} {addr}")]
    Moved { slot: Slot, addr: NodeAddr },
    /// `ASK <slot> <host:port>`: the key is being migrated.
    #[error("ASK {slot} {addr}")]
    Ask { slot: Slot, addr: NodeAddr },
    /// `TRYAGAIN ...`: multi-key request during a migration.
    #[error("{0}")]
    TryAgain(String),
    /// `CLUSTERDOWN ...`: the cluster state is fail (e.g. right after re-covering slots).
    #[error("{0}")]
    ClusterDown(String),
    /// `LOADING ...`: the node is loading its dataset.
    #[error("{0}")]
    Loading(String),
    /// `BUSYKEY ...` (or MIGRATE's `ERR Target instance replied with error: BUSYKEY ...`).
    #[error("{0}")]
    BusyKey(String),
    /// `IOERR ...`: MIGRATE could not talk to the target.
    #[error("{0}")]
    IoErr(String),
    /// `NOAUTH ...`: the node needs a password.
    #[error("{0}")]
    NoAuth(String),
    /// `WRONGPASS ...` or an AUTH sent to a node without a password.
    #[error("{0}")]
    WrongPass(String),
    /// Any other error reply (`ERR ...`, `READONLY ...`, ...), verbatim.
    #[error("{0}")]
    Server(String),
    /// The connection failed or timed out: no reply at all.
    #[error("{0}")]
    Transport(String),
}

impl ReplyError {
    /// Classifies an error reply given as its text (`"MOVED 3999 127.0.0.1:7001"`).
    pub fn from_text(text: &str) -> ReplyError {
        let code = text.split(' ').next().unwrap_or("");
        let owned = text.to_string();
        match code {
            "MOVED" | "ASK" => match parse_redirect(text) {
                Some((slot, addr)) if code == "MOVED" => ReplyError::Moved { slot, addr },
                Some((slot, addr)) => ReplyError::Ask { slot, addr },
                None => ReplyError::Server(owned),
            },
            "TRYAGAIN" => ReplyError::TryAgain(owned),
            "CLUSTERDOWN" => ReplyError::ClusterDown(owned),
            "LOADING" => ReplyError::Loading(owned),
            "BUSYKEY" => ReplyError::BusyKey(owned),
            "IOERR" => ReplyError::IoErr(owned),
            "NOAUTH" => ReplyError::NoAuth(owned),
            "WRONGPASS" => ReplyError::WrongPass(owned),
            _ if text.contains("BUSYKEY") => ReplyError::BusyKey(owned),
            _ if text.starts_with("ERR AUTH") && text.contains("without any password") => {
                ReplyError::WrongPass(owned)
            }
            _ => ReplyError::Server(owned),
        }
    }

    /// Classifies an error of the redis crate.
    pub fn from_redis(e: &redis::RedisError) -> ReplyError {
        if e.is_io_error() || e.is_timeout() || e.is_connection_dropped() {
            return ReplyError::Transport(e.to_string());
        }
        match e.code() {
            Some(_) => ReplyError::from_text(&super::conn::describe(e)),
            None => ReplyError::Transport(e.to_string()),
        }
    }

    /// Worth retrying after a short pause: the condition clears by itself.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ReplyError::TryAgain(_) | ReplyError::ClusterDown(_) | ReplyError::Loading(_)
        )
    }

    /// An authentication problem: retrying with the same credentials will not help.
    pub fn is_auth(&self) -> bool {
        matches!(self, ReplyError::NoAuth(_) | ReplyError::WrongPass(_))
    }
}

fn parse_redirect(text: &str) -> Option<(Slot, NodeAddr)> {
    let mut words = text.split(' ').skip(1);
    let slot = Slot::parse(words.next()?.as_bytes())?;
    let addr = NodeAddr::parse(words.next()?).ok()?;
    Some((slot, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_family() {
        assert_eq!(
            ReplyError::from_text("MOVED 3999 127.0.0.1:6381"),
            ReplyError::Moved {
                slot: Slot::new(3999).unwrap(),
                addr: NodeAddr::new("127.0.0.1", 6381)
            }
        );
        assert!(matches!(
            ReplyError::from_text("ASK 1 ::1:7000"),
            ReplyError::Ask { .. }
        ));
        assert!(
            ReplyError::from_text("TRYAGAIN Multiple keys request during rehashing of slot")
                .is_transient()
        );
        assert!(ReplyError::from_text("CLUSTERDOWN The cluster is down").is_transient());
        assert!(matches!(
            ReplyError::from_text(
                "ERR Target instance replied with error: BUSYKEY Target key name already exists."
            ),
            ReplyError::BusyKey(_)
        ));
        assert!(matches!(
            ReplyError::from_text("BUSYKEY Target key name already exists."),
            ReplyError::BusyKey(_)
        ));
        assert!(matches!(
            ReplyError::from_text("IOERR error or timeout reading to target instance"),
            ReplyError::IoErr(_)
        ));
        assert!(ReplyError::from_text("NOAUTH Authentication required.").is_auth());
        assert!(ReplyError::from_text(
            "WRONGPASS invalid username-password pair or user is disabled."
        )
        .is_auth());
        assert!(ReplyError::from_text("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?").is_auth());
        let plain = ReplyError::from_text("ERR Slot 12182 is already busy");
        assert_eq!(
            plain,
            ReplyError::Server("ERR Slot 12182 is already busy".into())
        );
        assert_eq!(plain.to_string(), "ERR Slot 12182 is already busy");
        assert!(matches!(
            ReplyError::from_text("MOVED garbage"),
            ReplyError::Server(_)
        ));
    }
}
