//! High availability on the cluster bus: failure detection (PFAIL/FAIL), replica elections
//! and the votes masters give, manual failover, replica migration, and the seam to data
//! replication (`replication_port`). The bus, gossip and slot state stay in the parent module;
//! these files act on `ClusterState` when gossip hands them a message or the cron ticks.

pub mod election;
pub mod failure;
pub mod manual_failover;
pub mod replica_migration;
pub mod replication_port;
pub mod voting;
