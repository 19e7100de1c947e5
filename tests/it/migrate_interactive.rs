//! reshard's questions answered one line each through piped stdin (redis-cli's order and
//! wording), end of input aborting with exit 1 (redis-cli asks forever), and the same
//! questions as menus on a pseudo-terminal.

use crate::harness::{backends_with_cluster, trib, trib_pty, Cluster};
use crate::migrate_support::{ids, slots_of};

#[test]
fn reshard_questions_from_piped_stdin() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let entry = cluster.nodes[0].addr();
        // invalid counts are asked again; the target as a source is refused and skipped
        let answers = format!("0\n20000\n10\n{}\n{}\n{}\ndone\nyes\n", id[1], id[1], id[0]);
        let run = trib(&["reshard", &entry], Some(&answers));
        assert_eq!(run.code, 0, "{run:?}");
        let asked = run
            .stderr
            .matches("How many slots do you want to move (from 1 to 16384)? ")
            .count();
        assert_eq!(asked, 3, "{run:?}");
        for q in [
            "What is the receiving node ID? ",
            "Please enter all the source node IDs.",
            "  Type 'all' to use all the nodes as source nodes for the hash slots.",
            "  Type 'done' once you entered all the source nodes IDs.",
            "Source node #1: ",
            "Source node #2: ",
            "Do you want to proceed with the proposed reshard plan (yes/no)? ",
        ] {
            assert!(run.stderr.contains(q), "missing {q:?}: {run:?}");
        }
        assert!(
            run.stdout
                .contains("*** It is not possible to use the target node as source node."),
            "{run:?}"
        );
        assert!(run.stdout.contains("Ready to move 10 slots."), "{run:?}");
        cluster.wait_agree(std::time::Duration::from_secs(20));
        assert_eq!(slots_of(&cluster, cluster.nodes[1].port), 5462 + 10);

        // answers run out: abort with exit 1, nothing moved
        let run = trib(&["reshard", &entry], Some("10\n"));
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("end of input"), "{run:?}");
        let run = trib(&["reshard", &entry], Some(""));
        assert_eq!(run.code, 1, "{run:?}");
        // declining the plan: exit 1, nothing moved
        let answers = format!("5\n{}\nall\nno\n", id[2]);
        let run = trib(&["reshard", &entry], Some(&answers));
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(slots_of(&cluster, cluster.nodes[2].port), 5461);
    }
}

/// On a terminal the same questions are menus: the count typed, the receiving master picked with
/// the arrow keys, one source ticked with space, the plan confirmed with `y`.
#[test]
fn reshard_questions_on_a_terminal() {
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let entry = cluster.nodes[0].addr();
        let before: Vec<usize> = cluster
            .nodes
            .iter()
            .map(|n| slots_of(&cluster, n.port))
            .collect();
        // down to the second master; down past "all" to the first candidate, tick it, confirm
        let run = trib_pty(
            &["reshard", &entry],
            &["10\r", "\x1b[B\r", "\x1b[B \r", "y"],
            120,
        );
        assert_eq!(run.code, 0, "{}: {run:?}", backend.name());
        for shown in [
            "How many slots do you want to move (from 1 to 16384)?",
            "What is the receiving node ID?",
            "Please choose the source nodes",
            "Do you want to proceed with the proposed reshard plan?",
            "Ready to move 10 slots.",
        ] {
            assert!(run.stdout.contains(shown), "missing {shown:?}: {run:?}");
        }
        cluster.wait_agree(std::time::Duration::from_secs(20));
        let after: Vec<usize> = cluster
            .nodes
            .iter()
            .map(|n| slots_of(&cluster, n.port))
            .collect();
        let gained: Vec<usize> = (0..3).filter(|&i| after[i] == before[i] + 10).collect();
        let lost: Vec<usize> = (0..3).filter(|&i| after[i] + 10 == before[i]).collect();
        assert_eq!(gained.len(), 1, "before {before:?} after {after:?}");
        assert_eq!(lost.len(), 1, "before {before:?} after {after:?}");
        assert_ne!(gained[0], 0, "the arrow key moved off the entry node");
        assert_eq!(after.iter().sum::<usize>(), 16384);
        let check = trib(&["check", &entry], None);
        assert_eq!(check.code, 0, "{check:?}");
    }
}
