//! Integration tests of gbion-learn (one test binary, as DESIGN.md asks).

mod cells;
mod explore;
mod oracle;
