//! Cluster routing of key-bearing commands (§1.3): decides, before a command runs, whether this
//! node serves it or answers MOVED / ASK / TRYAGAIN / CROSSSLOT / CLUSTERDOWN. Reads the cluster
//! state and asks the caller whether keys exist; it never touches the keyspace itself.

use bytes::Bytes;

use super::bus_msg::NodeName;
use super::reply::Reply;
use super::state::ClusterState;
use crate::slot::key_slot;

/// What the router needs to know about one command (or one EXEC, with all queued keys).
pub struct RouteRequest<'a> {
    pub keys: &'a [Bytes],
    /// A write command (for EXEC: any queued write).
    pub is_write: bool,
    /// MIGRATE runs locally in migrating/importing slots.
    pub is_migrate: bool,
    /// The client sent ASKING, or the command carries the ASKING flag (RESTORE-ASKING).
    pub asking: bool,
    /// The client is in READONLY mode.
    pub readonly: bool,
}

fn redirect(st: &ClusterState, kind: &str, slot: u16, to: &NodeName) -> Reply {
    match st.node(to) {
        Some(n) => Reply::error(format!("{kind} {slot} {}:{}", st.endpoint(n), n.port)),
        None => Reply::error("CLUSTERDOWN Hash slot not served"),
    }
}

/// `None` = execute here; `Some(error)` = reply with that redirection/error instead.
pub fn route(
    st: &ClusterState,
    req: &RouteRequest,
    exists: &mut dyn FnMut(&[u8]) -> bool,
) -> Option<Reply> {
    let first = req.keys.first()?;
    let slot = key_slot(first);
    let Some(owner) = st.owner(slot) else {
        return Some(Reply::error("CLUSTERDOWN Hash slot not served"));
    };
    let me = st.myself;
    let migrating_to = if owner == me {
        st.migrating.get(&slot.get()).copied()
    } else {
        None
    };
    let importing = migrating_to.is_none() && st.importing.contains_key(&slot.get());
    let mut multiple_keys = false;
    for k in &req.keys[1..] {
        if key_slot(k) != slot {
            return Some(Reply::error(
                "CROSSSLOT Keys in request don't hash to the same slot",
            ));
        }
        if k != first {
            multiple_keys = true;
        }
    }
    let (mut missing, mut existing) = (0, 0);
    if migrating_to.is_some() || importing {
        for k in req.keys {
            if exists(k) {
                existing += 1;
            } else {
                missing += 1;
            }
        }
    }
    if !st.state_ok {
        if !st.config.allow_reads_when_down {
            return Some(Reply::error("CLUSTERDOWN The cluster is down"));
        }
        if req.is_write {
            return Some(Reply::error(
                "CLUSTERDOWN The cluster is down and only accepts read commands",
            ));
        }
    }
    if req.is_migrate && (migrating_to.is_some() || importing) {
        return None;
    }
    if let Some(target) = migrating_to {
        if missing > 0 {
            if existing > 0 {
                return Some(Reply::error(
                    "TRYAGAIN Multiple keys request during rehashing of slot",
                ));
            }
            return Some(redirect(st, "ASK", slot.get(), &target));
        }
    }
    if importing && req.asking {
        if multiple_keys && missing > 0 {
            return Some(Reply::error(
                "TRYAGAIN Multiple keys request during rehashing of slot",
            ));
        }
        return None;
    }
    if req.readonly && !req.is_write && st.me().is_replica() && st.my_master() == Some(owner) {
        return None;
    }
    if owner != me {
        return Some(redirect(st, "MOVED", slot.get(), &owner));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::bus_msg::flags;
    use crate::node::cluster::state::{ClusterConfig, ClusterNode};
    use crate::slot::Slot;

    fn setup() -> (ClusterState, NodeName) {
        let mut st = ClusterState::new(ClusterConfig::default());
        let other = NodeName([b'b'; 40]);
        let mut n = ClusterNode::new(other, flags::MASTER);
        n.ip = "127.0.0.1".into();
        n.port = 31102;
        st.add_node(n);
        let me = st.myself;
        for s in Slot::all() {
            st.add_slot(s, if s.get() < 8192 { me } else { other });
        }
        st.state_ok = true;
        (st, other)
    }

    fn req<'a>(keys: &'a [Bytes], asking: bool) -> RouteRequest<'a> {
        RouteRequest {
            keys,
            is_write: false,
            is_migrate: false,
            asking,
            readonly: false,
        }
    }

    fn keys(ks: &[&'static str]) -> Vec<Bytes> {
        ks.iter()
            .map(|k| Bytes::from_static(k.as_bytes()))
            .collect()
    }

    #[test]
    fn moved_crossslot_and_local() {
        let (st, _) = setup();
        let mut none = |_: &[u8]| false;
        // foo = 12182 (other's), key:4 = 2724 (mine)
        assert_eq!(
            route(&st, &req(&keys(&["foo"]), false), &mut none),
            Some(Reply::error("MOVED 12182 127.0.0.1:31102"))
        );
        assert_eq!(route(&st, &req(&keys(&["key:4"]), false), &mut none), None);
        assert_eq!(
            route(&st, &req(&keys(&["key:1", "key:2"]), false), &mut none),
            Some(Reply::error(
                "CROSSSLOT Keys in request don't hash to the same slot"
            ))
        );
        assert_eq!(route(&st, &req(&[], false), &mut none), None);
    }

    #[test]
    fn migrating_and_importing() {
        let (mut st, other) = setup();
        st.migrating.insert(2724, other);
        let mut ex = |k: &[u8]| k == b"key:4";
        assert_eq!(route(&st, &req(&keys(&["key:4"]), false), &mut ex), None);
        assert_eq!(
            route(&st, &req(&keys(&["{key:4}.missing"]), false), &mut ex),
            Some(Reply::error("ASK 2724 127.0.0.1:31102"))
        );
        assert_eq!(
            route(
                &st,
                &req(&keys(&["key:4", "{key:4}.missing"]), false),
                &mut ex
            ),
            Some(Reply::error(
                "TRYAGAIN Multiple keys request during rehashing of slot"
            ))
        );
        st.migrating.clear();
        st.importing.insert(12182, other);
        let mut none = |_: &[u8]| false;
        assert_eq!(
            route(&st, &req(&keys(&["foo"]), false), &mut none),
            Some(Reply::error("MOVED 12182 127.0.0.1:31102"))
        );
        assert_eq!(route(&st, &req(&keys(&["foo"]), true), &mut none), None);
        assert_eq!(
            route(&st, &req(&keys(&["{foo}a", "{foo}b"]), true), &mut none),
            Some(Reply::error(
                "TRYAGAIN Multiple keys request during rehashing of slot"
            ))
        );
    }

    #[test]
    fn down_and_unassigned() {
        let (mut st, _) = setup();
        let mut none = |_: &[u8]| false;
        st.del_slot(Slot::new(2724).unwrap());
        assert_eq!(
            route(&st, &req(&keys(&["key:4"]), false), &mut none),
            Some(Reply::error("CLUSTERDOWN Hash slot not served"))
        );
        st.state_ok = false;
        assert_eq!(
            route(&st, &req(&keys(&["foo"]), false), &mut none),
            Some(Reply::error("CLUSTERDOWN The cluster is down"))
        );
    }
}
