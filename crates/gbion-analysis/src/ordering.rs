//! The A-site ordering parameter S of a perovskite (in progress).
