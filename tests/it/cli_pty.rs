//! Prompts as an operator meets them: trib on a real pseudo-terminal, answers typed at the prompt.

use std::time::Duration;

use crate::harness::{backends_with_cluster, trib, trib_pty, Cluster};

#[test]
fn create_asks_on_a_terminal_and_obeys_the_answer() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        let addrs = cluster.addrs();
        let mut args = vec!["create"];
        args.extend(addrs.iter().map(String::as_str));

        let declined = trib_pty(&args, &["n"], 60);
        assert_eq!(declined.code, 1, "{}: {declined:?}", backend.name());
        assert!(
            declined
                .stdout
                .contains("Can I set the above configuration?"),
            "{declined:?}"
        );
        let untouched = trib(&["check", &addrs[0]], None);
        assert_ne!(
            untouched.code, 0,
            "declined create must change nothing: {untouched:?}"
        );
        assert!(
            cluster.nodes[0]
                .cmd_string(&["CLUSTER", "INFO"])
                .contains("cluster_slots_assigned:0"),
            "declined create assigned slots"
        );

        let accepted = trib_pty(&args, &["y"], 90);
        assert_eq!(accepted.code, 0, "{}: {accepted:?}", backend.name());
        cluster.wait_agree(Duration::from_secs(30));
        let check = trib(&["check", &addrs[0]], None);
        assert_eq!(check.code, 0, "{check:?}");
        assert!(
            check.stdout.contains("[OK] All 16384 slots covered."),
            "{check:?}"
        );
    }
}
