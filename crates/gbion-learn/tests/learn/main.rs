//! Integration tests of gbion-learn (one test binary, as DESIGN.md asks).

mod active_loop;
mod cells;
mod explore;
mod oracle;
mod state;
