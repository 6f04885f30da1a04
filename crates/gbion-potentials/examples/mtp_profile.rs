//! Level-16 MTP energy + forces + stress on the `mtp` bench's LSTZ0.75 cell, for profiling with
//! `perf stat` / `perf record` (user-mode cycles per atom depend far less on the load of a shared machine
//! than criterion's wall time).
//!
//! Run: `cargo run --release -p gbion-potentials --example mtp_profile -- CALLS THREADS`; prints atoms,
//! wall time and CPU time (all threads, from /proc/self/stat on Linux) per atom per call.

#[path = "../benches/cells/mod.rs"]
mod cells;

use cells::{lstz, lstz_mtp};
use gbion_atoms::{ListKind, NeighborList};
use gbion_potentials::{Potential, Request};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mtp = lstz_mtp();
    let structure = lstz([12, 12, 14]);
    let list = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Full).expect("a list");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    black_box(pool.install(|| mtp.compute(&structure, Some(&list), Request::EFS).expect("evaluates")));
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    for _ in 0..calls {
        black_box(pool.install(|| mtp.compute(&structure, Some(&list), Request::EFS).expect("evaluates")));
    }
    let scale = 1e6 / (calls * structure.len()) as f64;
    let wall = start.elapsed().as_secs_f64() * scale;
    let cpu = cpu_seconds().map(|c| format!("{:.2}", (c - cpu_start.unwrap_or(c)) * scale));
    println!(
        "{} atoms, {calls} calls, {threads} threads: wall {wall:.2} µs, CPU {} µs per atom per call",
        structure.len(),
        cpu.unwrap_or_else(|| "?".into())
    );
}

/// User + system CPU time of this process (s), from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
