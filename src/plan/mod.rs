//! Pure planning, no I/O: create allocation, reshard, rebalance and fix plans. Plans are data:
//! printable, serialisable to JSON, and tested without sockets.
pub mod create;

pub mod fix;
pub mod moves;
pub mod rebalance;
pub mod reshard;
pub mod schedule;
