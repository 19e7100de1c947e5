//! The slot migration engine: SETSLOT IMPORTING/MIGRATING, GETKEYSINSLOT + MIGRATE batches,
//! BUSYKEY handling, SETSLOT NODE fan-out, progress events. Driven by plans from `plan`.
