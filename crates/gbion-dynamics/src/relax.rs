//! relax
