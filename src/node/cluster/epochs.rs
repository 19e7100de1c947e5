//! Epoch rules (§4.9): bumping my configEpoch without consensus, resolving configEpoch
//! collisions between masters, adopting a larger currentEpoch. Pure state changes.

use super::bus_msg::NodeName;
use super::state::ClusterState;

/// The greatest configEpoch known, or currentEpoch if larger (Redis's clusterGetMaxEpoch).
pub fn max_epoch(st: &ClusterState) -> u64 {
    st.max_config_epoch().max(st.current_epoch)
}

/// Bumps my configEpoch unless it already is the unique maximum. Returns whether it bumped.
pub fn bump_without_consensus(st: &mut ClusterState) -> bool {
    let max = max_epoch(st);
    let mine = st.me().config_epoch;
    if mine == 0 || mine != max {
        st.current_epoch += 1;
        let e = st.current_epoch;
        st.me_mut().config_epoch = e;
        st.save_needed = true;
        true
    } else {
        false
    }
}

/// Two masters with the same configEpoch: the one with the smaller name moves to a new epoch,
/// so that eventually every master has a distinct one. Returns whether I moved.
pub fn handle_collision(st: &mut ClusterState, sender: &NodeName) -> bool {
    let Some(s) = st.node(sender) else {
        return false;
    };
    if s.config_epoch != st.me().config_epoch || !s.is_master() || !st.i_am_master() {
        return false;
    }
    if sender.0 <= st.myself.0 {
        return false;
    }
    st.current_epoch += 1;
    let e = st.current_epoch;
    st.me_mut().config_epoch = e;
    st.save_needed = true;
    cnotice!("WARNING: configEpoch collision with node {sender}. configEpoch set to {e}");
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::cluster::bus_msg::flags;
    use crate::node::cluster::state::{ClusterConfig, ClusterNode};

    #[test]
    fn bump_only_when_not_the_unique_max() {
        let mut st = ClusterState::new(ClusterConfig::default());
        assert!(bump_without_consensus(&mut st));
        assert_eq!((st.current_epoch, st.me().config_epoch), (1, 1));
        assert!(!bump_without_consensus(&mut st));
        let other = NodeName::random();
        let mut n = ClusterNode::new(other, flags::MASTER);
        n.config_epoch = 5;
        st.add_node(n);
        assert!(bump_without_consensus(&mut st));
        assert_eq!(st.me().config_epoch, 2);
        st.current_epoch = 5;
        assert!(bump_without_consensus(&mut st));
        assert_eq!(st.me().config_epoch, 6);
    }

    #[test]
    fn the_smaller_name_moves_on_collision() {
        let mut st = ClusterState::new(ClusterConfig::default());
        let big = NodeName([b'z'; 40]);
        let small = NodeName([b'0'; 40]);
        for n in [big, small] {
            let mut node = ClusterNode::new(n, flags::MASTER);
            node.config_epoch = 3;
            st.add_node(node);
        }
        st.me_mut().config_epoch = 3;
        st.current_epoch = 3;
        assert!(!handle_collision(&mut st, &small));
        assert!(handle_collision(&mut st, &big));
        assert_eq!(st.me().config_epoch, 4);
    }
}
