//! Neighbour-list builds for profiling with callgrind or `perf stat` (instruction counts per atom are
//! deterministic, unlike wall time on a shared machine): the cubic perovskite supercells of the
//! `neighbor_list` bench, 5 Å cutoff, no skin.
//!
//! Run: `cargo run --release -p gbion-atoms --example nl_profile -- REPEAT MODE BUILDS [half|full]`
//! with MODE `fresh` (a new list per build) or `rebuild` (one list rebuilt in place; the first build is
//! not counted separately). Prints atoms, entries and wall time per atom per build.

#[path = "../benches/cells/mod.rs"]
mod cells;

use cells::perovskite_supercell;
use gbion_atoms::{ListKind, NeighborList};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(27);
    let mode = args.get(2).map_or("fresh", String::as_str);
    let builds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let kind = match args.get(4).map(String::as_str) {
        Some("full") => ListKind::Full,
        _ => ListKind::Half,
    };
    let (cell, positions) = perovskite_supercell(repeat);
    let start = Instant::now();
    let mut entries = 0;
    if mode == "rebuild" {
        let mut list = NeighborList::build_from(&cell, &positions, 5.0, 0.0, kind).expect("a valid build");
        for _ in 0..builds {
            list.rebuild_from(&cell, black_box(&positions)).expect("a valid build");
            entries = black_box(list.n_entries());
        }
    } else {
        for _ in 0..builds {
            let list = NeighborList::build_from(&cell, black_box(&positions), 5.0, 0.0, kind).expect("a valid build");
            entries = black_box(list.n_entries());
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} atoms, {} entries, {:.3} µs/atom/build ({} {mode} builds)",
        positions.len(),
        entries,
        seconds * 1e6 / (positions.len() * builds) as f64,
        builds
    );
}
