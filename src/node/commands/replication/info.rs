//! INFO's `# Replication` body, as Redis 7.0 prints it for a master (its replicas as
//! `slaveN:` lines) and for a replica (its link to the master first).

use std::fmt::Write;

use crate::node::replication::LinkState;
use crate::node::state::Shared;

pub fn info_section(shared: &Shared) -> String {
    let (priority, read_only) = {
        let c = shared.config();
        (
            c.get_i64("replica-priority"),
            c.get("replica-read-only") == "yes",
        )
    };
    let inner = shared.replication.lock();
    let mut out = String::new();
    let mut line = |k: &str, v: &dyn std::fmt::Display| {
        let _ = write!(out, "{k}:{v}\r\n");
    };
    match inner.link.as_ref() {
        Some(link) => {
            let up = link.state == LinkState::Connected;
            line("role", &"slave");
            line("master_host", &link.host);
            line("master_port", &link.port);
            line("master_link_status", &if up { "up" } else { "down" });
            let io = if up {
                link.last_io.elapsed().as_secs() as i64
            } else {
                -1
            };
            line("master_last_io_seconds_ago", &io);
            line(
                "master_sync_in_progress",
                &u8::from(link.state == LinkState::Sync),
            );
            line("slave_read_repl_offset", &inner.offset);
            line("slave_repl_offset", &inner.offset);
            if !up {
                line(
                    "master_link_down_since_seconds",
                    &link.last_io.elapsed().as_secs(),
                );
            }
            line("slave_priority", &priority);
            line("slave_read_only", &u8::from(read_only));
            line("replica_announced", &1);
        }
        None => line("role", &"master"),
    }
    line("connected_slaves", &inner.replicas.len());
    for (i, r) in inner.replicas.iter().enumerate() {
        let v = format!(
            "ip={},port={},state=online,offset={},lag={}",
            r.ip,
            r.port,
            r.ack_offset,
            r.ack_at.elapsed().as_secs()
        );
        line(&format!("slave{i}"), &v);
    }
    line("master_failover_state", &"no-failover");
    line("master_replid", &inner.replid);
    line("master_replid2", &inner.replid2);
    line("master_repl_offset", &inner.offset);
    line("second_repl_offset", &inner.second_offset);
    let (active, first, histlen) = match inner.backlog.as_ref() {
        Some(b) => (1, b.first_byte(), b.histlen()),
        None => (0, 0, 0),
    };
    line("repl_backlog_active", &active);
    line("repl_backlog_size", &inner.backlog_size);
    line("repl_backlog_first_byte_offset", &first);
    line("repl_backlog_histlen", &histlen);
    out
}
