//! Paper GBs (in progress).
