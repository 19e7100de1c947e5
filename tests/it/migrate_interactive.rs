//! reshard's questions answered one line each through piped stdin (redis-cli's order and
//! wording), and end of input aborting with exit 1 (redis-cli asks forever).

use crate::harness::{backends_with_cluster, trib, Cluster};
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
