//! JSON shapes shared by several subcommands (`--json`): a node, a slot set. The documents
//! themselves are assembled by each op; docs/json-schema.md describes them.

use serde_json::{json, Value};

use crate::remote::view::{ClusterNode, ClusterView};
use crate::slot::SlotSet;

/// `[[0,5460],[5462,5462]]`
pub fn slot_ranges(slots: &SlotSet) -> Value {
    Value::Array(
        slots
            .ranges()
            .iter()
            .map(|r| json!([r.start.get(), r.end.get()]))
            .collect(),
    )
}

/// One node of the view; `keys` when counted.
pub fn node(view: &ClusterView, n: &ClusterNode, keys: Option<u64>) -> Value {
    let open = |list: &Vec<(crate::slot::Slot, String)>| {
        list.iter()
            .map(|(s, id)| (s.get().to_string(), Value::String(id.clone())))
            .collect::<serde_json::Map<String, Value>>()
    };
    json!({
        "id": n.id,
        "addr": n.addr.to_string(),
        "role": if n.replica { "replica" } else { "master" },
        "flags": n.flags,
        "master_id": n.master_id,
        "config_epoch": n.config_epoch,
        "slots": slot_ranges(&n.slots),
        "slot_count": n.slots.len(),
        "replicas": if n.replica { 0 } else { view.replica_count(&n.id) },
        "keys": keys,
        "migrating": open(&n.migrating),
        "importing": open(&n.importing),
    })
}
