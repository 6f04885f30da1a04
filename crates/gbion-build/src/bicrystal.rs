//! Bicrystals (in progress).
