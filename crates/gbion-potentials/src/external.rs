//! The external-command potential: the oracle protocol of DESIGN.md (in progress).
