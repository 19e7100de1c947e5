//! The cluster view against live clusters: membership, roles, slots, agreement, and what
//! happens to members that cannot be reached.

use crate::harness::{backends_with_cluster, Cluster};
use trib::addr::NodeAddr;
use trib::cluster::conn::ConnectOptions;
use trib::cluster::view::ClusterView;

fn load(addr: &str) -> anyhow::Result<ClusterView> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(ClusterView::load(
        &NodeAddr::parse(addr).unwrap(),
        &ConnectOptions::default(),
    ))
}

#[test]
fn view_of_a_healthy_cluster() {
    for backend in backends_with_cluster() {
        let mut cluster = Cluster::start(backend, 6);
        if !cluster.create_with_redis_cli(1) {
            return;
        }
        let view = load(&cluster.nodes[0].addr()).unwrap();
        assert_eq!(view.nodes.len(), 6);
        assert_eq!(view.masters().count(), 3);
        assert_eq!(view.replicas().count(), 3);
        assert!(view.agrees());
        assert_eq!(view.covered().len(), 16384);
        assert!(view.skipped.is_empty());
        let m = view.masters().next().unwrap();
        assert_eq!(view.replicas_of(&m.id).count(), 1);
        assert_eq!(view.find_prefix(&m.id[..10]).unwrap().id, m.id);
        assert!(view.find_prefix("zzzz").is_err());

        // A master that dies: the view keeps going, the master is listed as skipped.
        cluster.nodes[2].kill();
        let view = load(&cluster.nodes[0].addr()).unwrap();
        assert_eq!(view.nodes.len(), 5);
        assert_eq!(view.unreachable_masters(), 1);
        assert!(view.covered().len() < 16384);
        assert!(
            view.skipped[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("Connection refused"),
            "{:?}",
            view.skipped
        );
    }
}

#[test]
fn entry_node_errors_are_clear() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 1);
        let port = crate::harness::free_port();
        let err = load(&format!("127.0.0.1:{port}")).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!("Could not connect to Redis at 127.0.0.1:{port}: Connection refused")
        );
        // A node alone is still a cluster node; its view is just itself.
        let view = load(&cluster.nodes[0].addr()).unwrap();
        assert_eq!(view.nodes.len(), 1);
    }
}
