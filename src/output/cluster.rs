//! How cluster nodes look in human output, in redis-cli's exact layout (`M:`/`S:` blocks, the
//! info summary line). Returns lines; the Reporter prints them. No I/O, no decisions.

use crate::cluster::view::{ClusterNode, ClusterView};
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
        &node.id[..node.id.len().min(8)],
        keys,
        node.slots.len(),
        view.replica_count(&node.id)
    )
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
