//! How cluster nodes look in human output, in redis-cli's exact layout (`M:`/`S:` blocks, the
//! info summary line). Returns lines; the Reporter prints them. No I/O, no decisions.

use crate::remote::health::{short_id, skip_reason_text};
use crate::remote::view::{ClusterNode, ClusterView, SkippedNode};
use crate::slot::SlotSet;

/// `[0-5460],[5462]`: maximal runs in brackets, comma-joined (empty for no slots).
pub fn bracket_ranges(slots: &SlotSet) -> String {
    slots
        .ranges()
        .iter()
        .map(|r| format!("[{r}]"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The `M:`/`S:` block of one node (§1.12), each line prefixed by `indent`.
pub fn node_block(view: &ClusterView, node: &ClusterNode, indent: &str) -> Vec<String> {
    let role = if node.replica { 'S' } else { 'M' };
    let mut lines = vec![
        format!("{indent}{role}: {} {}", node.id, node.addr),
        format!(
            "{indent}   slots:{} ({} slots) {}",
            bracket_ranges(&node.slots),
            node.slots.len(),
            node.flags_text()
        ),
    ];
    if node.replica {
        if let Some(m) = &node.master_id {
            lines.push(format!("{indent}   replicates {m}"));
        }
    } else {
        let k = view.replica_count(&node.id);
        if k > 0 {
            lines.push(format!("{indent}   {k} additional replica(s)"));
        }
    }
    lines
}

/// `127.0.0.1:31001 (935c181e...) -> 100 keys | 5461 slots | 1 slaves.`
pub fn info_line(view: &ClusterView, node: &ClusterNode, keys: u64) -> String {
    format!(
        "{} ({}...) -> {} keys | {} slots | {} slaves.",
        node.addr,
        short_id(&node.id),
        keys,
        node.slots.len(),
        view.replica_count(&node.id)
    )
}

/// The line (after `[ERR] `) for a member the view could not load: who it is, why, its flags
/// as the entry node sees them, and what it owned; a master's slots that nobody serves now
/// come with the command that promotes one of its replicas.
pub fn down_line(view: &ClusterView, s: &SkippedNode) -> String {
    let what = skip_reason_text(s);
    let role = if s.was_master { "Master" } else { "Replica" };
    let mut text = format!("{role} {} ({}) {what}", s.addr, short_id(&s.id));
    let line = view
        .nodes
        .first()
        .and_then(|e| e.table.iter().find(|l| l.id == s.id));
    let Some(line) = line else {
        return text + ".";
    };
    let flags: Vec<&str> = line
        .flags
        .iter()
        .map(String::as_str)
        .filter(|f| *f != "myself")
        .collect();
    text.push_str(&format!(" (flags {})", flags.join(",")));
    if !s.was_master {
        match &line.master_id {
            Some(m) => text.push_str(&format!("; it replicates {}.", short_id(m))),
            None => text.push('.'),
        }
        return text;
    }
    if line.slots.is_empty() {
        text.push_str("; it owns no slots.");
        return text;
    }
    if s.answers {
        text.push_str(&format!(
            "; it still serves its {} slots {}, the cluster has not cleared the flag yet.",
            line.slots.len(),
            bracket_ranges(&line.slots)
        ));
        return text;
    }
    text.push_str(&format!(
        "; its {} slots {} are not served (no reachable owner)",
        line.slots.len(),
        bracket_ranges(&line.slots)
    ));
    let replicas: Vec<String> = view.replicas_of(&s.id).map(|r| r.name()).collect();
    if replicas.is_empty() {
        text.push_str(" and it has no reachable replica.");
    } else {
        text.push_str(&format!(
            "; replica(s) {} can take over: trib failover {} --master {} --force",
            replicas.join(", "),
            view.entry,
            short_id(&s.id)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slot::Slot;

    #[test]
    fn brackets_like_redis_cli() {
        let s: SlotSet = [0u16, 1, 2, 3, 5, 8]
            .iter()
            .map(|&n| Slot::new(n).unwrap())
            .collect();
        assert_eq!(bracket_ranges(&s), "[0-3],[5],[8]");
        assert_eq!(bracket_ranges(&SlotSet::new()), "");
    }
}
