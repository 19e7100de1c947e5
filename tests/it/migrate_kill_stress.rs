//! Recovery from interruption at any moment: `trib reshard` (and every fourth round `trib
//! rebalance`) is SIGKILLed at many moments drawn
//! from a fixed seed (as soon as a slot opens, after a random number of keys arrived, after a
//! random delay), in both directions, and after each kill one `trib fix --yes` must bring the
//! cluster back: check passes, every key is there with its value, none is left on a non-owner.
//! KILL_ROUNDS per backend (TRIB_KILL_ROUNDS overrides, for a longer run).

use std::time::Duration;

use rand::{Rng, SeedableRng};

use crate::harness::{backends_with_cluster, trib, Cluster};
use crate::migrate_kill::{
    reshard_between_and_kill, run_and_kill, tags_for_lowest_slots, KillPoint,
};
use crate::migrate_support::{assert_keys_intact, ids};

const KILL_ROUNDS: usize = 20;
const KEYS_PER_SLOT: usize = 8;
const SLOTS_PER_MOVE: usize = 200;
const SEED: u64 = 0x7269_6221;

#[test]
fn reshard_killed_at_random_moments_is_repaired_by_one_fix_each_time() {
    let rounds = std::env::var("TRIB_KILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(KILL_ROUNDS);
    for backend in backends_with_cluster() {
        let cluster = Cluster::start(backend, 3);
        if !cluster.create_with_redis_cli(0) {
            return;
        }
        let id = ids(&cluster);
        let n0 = &cluster.nodes[0];
        let mut keys = Vec::new();
        let mut c = n0.client();
        for t in tags_for_lowest_slots(&cluster)
            .into_iter()
            .take(SLOTS_PER_MOVE)
        {
            let mut pipe = redis::pipe();
            for j in 0..KEYS_PER_SLOT {
                let k = format!("{{{t}}}:{j}");
                pipe.cmd("SET").arg(&k).arg(format!("v-{k}")).ignore();
                keys.push(k);
            }
            pipe.query::<()>(&mut c).unwrap();
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
        let mut killed = 0;
        for round in 0..rounds {
            // Back and forth: node 0's lowest slots (the filled ones) to node 1 and back.
            let direction = if round % 2 == 0 { (0, 1) } else { (1, 0) };
            let point = match rng.gen_range(0..3) {
                0 => KillPoint::FirstOpenSlot,
                1 => KillPoint::KeysArrived(rng.gen_range(1..keys.len() / 2)),
                _ => KillPoint::After(Duration::from_millis(rng.gen_range(0..150))),
            };
            // Every fourth round a rebalance (node 0 weighted up, then back), the others reshards.
            let was_killed = if round % 4 == 3 {
                let weight = format!("{}={}", id[0], if round % 8 == 3 { 3 } else { 1 });
                let entry = n0.addr();
                let args = ["rebalance", &entry, "--weight", &weight, "--pipeline", "3"];
                run_and_kill(&cluster, &args, (1, 0), point)
            } else {
                reshard_between_and_kill(&cluster, &id, direction, SLOTS_PER_MOVE, point)
            };
            killed += usize::from(was_killed);
            let fixed = trib(&["fix", &n0.addr(), "--yes"], None);
            assert_eq!(
                fixed.code,
                0,
                "{} round {round} ({point:?}): fix: {fixed:?}",
                backend.name()
            );
            cluster.wait_agree(Duration::from_secs(20));
            // check also fails on a key left on a master that does not own its slot
            let check = trib(&["check", &n0.addr()], None);
            assert_eq!(
                check.code,
                0,
                "{} round {round} ({point:?}): check after fix: {check:?}",
                backend.name()
            );
            assert_keys_intact(
                &cluster,
                &keys,
                &format!("{} round {round} ({point:?})", backend.name()),
            );
        }
        eprintln!(
            "{}: {killed} of {rounds} reshards/rebalances killed mid-move, each repaired by one fix",
            backend.name()
        );
        // Most moments fall inside the move; a kill that came after it finished still tests
        // that fix leaves a healthy cluster alone.
        assert!(
            killed * 3 >= rounds,
            "{}: only {killed} of {rounds} reshards were killed mid-move",
            backend.name()
        );
    }
}
