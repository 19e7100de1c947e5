//! The CLI's view of a live cluster: per-node connections, CLUSTER NODES parsing and the
//! assembled view. The CLUSTER NODES line format lives in `nodes` and is shared with the node.

pub mod conn;
pub mod frame;
pub mod health;
pub mod nodes;
pub mod reply;
pub mod strays;
pub mod view;
pub mod wire;
