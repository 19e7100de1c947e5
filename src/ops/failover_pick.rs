//! Choosing which replica `trib failover --master` promotes, from facts already gathered
//! (INFO replication, the entry node's flags). Pure: no I/O, no printing.

use serde::Serialize;

/// How the promotion is asked for (`CLUSTER FAILOVER [FORCE|TAKEOVER]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The master agrees, stops writes and waits for the replica to catch up: loses nothing.
    Default,
    /// An election without the master (it may be down): unreplicated writes are lost.
    Force,
    /// No election, no majority: the replica takes the slots; unreplicated writes are lost.
    Takeover,
}

impl Mode {
    /// The CLUSTER FAILOVER option word, if any.
    pub fn word(self) -> Option<&'static str> {
        match self {
            Mode::Default => None,
            Mode::Force => Some("FORCE"),
            Mode::Takeover => Some("TAKEOVER"),
        }
    }

    /// The name in `--json` and messages.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::Force => "force",
            Mode::Takeover => "takeover",
        }
    }
}

/// What is known about one replica when choosing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub id: String,
    pub addr: String,
    /// `master_link_status:up` in its INFO replication.
    pub link_up: bool,
    /// `slave_repl_offset` (0 when unknown).
    pub offset: i64,
    /// Flagged `fail?` or `fail` by the entry node.
    pub failed: bool,
    /// Flagged `nofailover` (cluster-replica-no-failover).
    pub nofailover: bool,
    /// INFO replication could not be read (the text of the error).
    pub info_error: Option<String>,
    /// Its master's own table lists it as its replica (true when the master is down). A master
    /// that does not yet ignores its manual failover request, which then times out.
    pub master_knows: bool,
}

impl Facts {
    /// Why this replica cannot be promoted in `mode`, or `None` when it can.
    pub fn excluded(&self, mode: Mode) -> Option<String> {
        if let Some(e) = &self.info_error {
            return Some(format!("INFO replication failed: {e}"));
        }
        if self.failed {
            return Some("flagged as failing".into());
        }
        if self.nofailover {
            return Some("flagged nofailover".into());
        }
        if mode == Mode::Default && !self.link_up {
            return Some("replication link down (a plain failover would time out)".into());
        }
        if mode == Mode::Default && !self.master_knows {
            return Some(
                "its master does not list it as a replica yet (gossip has not settled; retry in a moment)"
                    .into(),
            );
        }
        None
    }
}

/// The best replica in `mode`: not excluded, link up before link down, then the highest
/// replication offset (the least data lost), then the first listed. `None` when none can be
/// promoted.
pub fn best(candidates: &[Facts], mode: Mode) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .filter(|(_, f)| f.excluded(mode).is_none())
        // max_by_key keeps the last maximum; comparing reversed indexes keeps the first.
        .max_by_key(|(i, f)| (f.link_up, f.offset, std::cmp::Reverse(*i)))
        .map(|(i, _)| i)
}

/// Why `chosen` was picked, in one phrase for the operator.
pub fn reason(candidates: &[Facts], chosen: usize, mode: Mode) -> String {
    let c = &candidates[chosen];
    let eligible = candidates
        .iter()
        .filter(|f| f.excluded(mode).is_none())
        .count();
    let link = if c.link_up { "link up" } else { "link down" };
    if eligible == 1 {
        format!(
            "{link}, offset {}; the only one of {} replica(s) that can be promoted",
            c.offset,
            candidates.len()
        )
    } else {
        format!(
            "{link}, offset {}; the most up to date of {eligible} eligible replicas",
            c.offset
        )
    }
}

/// `master_link_status:up` and `slave_repl_offset` from an INFO replication reply.
pub fn parse_replication(info: &str) -> (bool, i64) {
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(str::trim)
    };
    let link_up = field("master_link_status") == Some("up");
    let offset = field("slave_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (link_up, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: &str, link_up: bool, offset: i64) -> Facts {
        Facts {
            id: id.into(),
            addr: format!("h:{id}"),
            link_up,
            offset,
            failed: false,
            nofailover: false,
            info_error: None,
            master_knows: true,
        }
    }

    #[test]
    fn best_prefers_link_up_then_offset_then_order() {
        let c = vec![
            facts("a", false, 900),
            facts("b", true, 100),
            facts("c", true, 300),
            facts("d", true, 300),
        ];
        assert_eq!(best(&c, Mode::Default), Some(2));
        assert_eq!(best(&c, Mode::Force), Some(2));
        assert!(reason(&c, 2, Mode::Default).contains("most up to date of 3"));
    }

    #[test]
    fn plain_mode_needs_a_live_link_force_does_not() {
        let c = vec![facts("a", false, 10), facts("b", false, 20)];
        assert_eq!(best(&c, Mode::Default), None);
        assert_eq!(best(&c, Mode::Takeover), Some(1));
        assert!(c[0].excluded(Mode::Default).unwrap().contains("link down"));
        let mut unknown = facts("c", true, 30);
        unknown.master_knows = false;
        assert!(unknown
            .excluded(Mode::Default)
            .unwrap()
            .contains("does not list it"));
        assert_eq!(unknown.excluded(Mode::Force), None);
    }

    #[test]
    fn failed_and_nofailover_replicas_are_never_chosen() {
        let mut c = vec![facts("a", true, 500), facts("b", true, 10)];
        c[0].failed = true;
        assert_eq!(best(&c, Mode::Force), Some(1));
        c[1].nofailover = true;
        assert_eq!(best(&c, Mode::Force), None);
        assert!(reason(&[facts("x", true, 7)], 0, Mode::Default).contains("the only one of 1"));
    }

    #[test]
    fn parses_info_replication() {
        let info =
            "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:1234\r\n";
        assert_eq!(parse_replication(info), (true, 1234));
        assert_eq!(parse_replication("master_link_status:down\r\n"), (false, 0));
    }
}
