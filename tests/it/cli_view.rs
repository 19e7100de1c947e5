//! The cluster view against live clusters: membership, roles, slots, agreement, and what
//! happens to members that cannot be reached.

use crate::harness::{backends_with_cluster, Cluster};
use trib::addr::NodeAddr;
use trib::remote::conn::ConnectOptions;
use trib::remote::view::ClusterView;

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

/// Number of client connections the node has (counting the one asking), by its own INFO.
fn connected_clients(node: &crate::harness::Node, pass: Option<&str>) -> u64 {
    let auth = pass.map(|p| format!(":{p}@")).unwrap_or_default();
    let client = redis::Client::open(format!("redis://{auth}127.0.0.1:{}/", node.port)).unwrap();
    let mut c = client.get_connection().unwrap();
    let info: String = redis::cmd("INFO").arg("clients").query(&mut c).unwrap();
    info.lines()
        .find_map(|l| l.trim().strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connected_clients in {info:?}"))
}

#[test]
fn a_one_shot_connection_is_closed_by_the_node_and_reopens_on_demand() {
    use trib::remote::conn::{answer_value, AfterFirst, Credentials, FirstRequest, NodeConn};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for backend in crate::harness::Backend::all() {
        // Plain (the requests ride with the connect) and with a password (connect, AUTH, then
        // the requests): both paths end with the node closing the connection.
        for pass in [None, Some("s3cret-pw")] {
            let extra: Vec<(&str, &str)> = pass.iter().map(|p| ("requirepass", *p)).collect();
            let cluster = Cluster::start_with(backend, 1, &extra);
            let node = &cluster.nodes[0];
            let before = connected_clients(node, pass);
            let opts = ConnectOptions {
                credentials: Credentials {
                    user: None,
                    pass: pass.map(str::to_string),
                },
                ..ConnectOptions::default()
            };
            let first = [FirstRequest {
                cmd: redis::cmd("DBSIZE"),
                raw: false,
            }];
            let addr = NodeAddr::parse(&node.addr()).unwrap();
            let (conn, answers) = rt
                .block_on(NodeConn::connect_sending(
                    &addr,
                    &opts,
                    &first,
                    AfterFirst::Close,
                ))
                .unwrap();
            assert_eq!(
                answers.len(),
                1,
                "{}: only the asked answers",
                backend.name()
            );
            let size = rt
                .block_on(answer_value(answers.into_iter().next().unwrap()))
                .unwrap();
            assert_eq!(size, redis::Value::Int(0), "{}", backend.name());
            // The node closed it after answering (bounded wait: 5 s).
            let closed = (0..100).any(|_| {
                if connected_clients(node, pass) == before {
                    return true;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
                false
            });
            assert!(closed, "{}: the node kept the connection", backend.name());
            // A later request opens a fresh connection (authenticated the same way).
            let pong = rt.block_on(conn.request_string(["PING"])).unwrap();
            assert_eq!(pong, "PONG", "{} pass={:?}", backend.name(), pass.is_some());
            assert_eq!(
                connected_clients(node, pass),
                before + 1,
                "{}",
                backend.name()
            );
        }
    }
}
