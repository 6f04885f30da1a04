//! Level-16 MTP energy + forces + stress on the `mtp` bench's LSTZ0.75 cell, for profiling with
//! `perf stat` / `perf record` (user-mode cycles per atom depend far less on the load of a shared machine
//! than criterion's wall time).
//!
//! Run: `cargo run --release -p gbion-potentials --example mtp_profile -- CALLS THREADS`; prints atoms,
//! wall time and CPU time (all threads, from /proc/self/stat on Linux) per atom per call.
//! With THREADS = `1v2` it alternates calls on a 1-thread and a 2-thread pool instead (CALLS of each) and
//! prints the median wall times and the median of the per-pair speed-ups: both pools see the same minutes
//! of a machine whose speed drifts. `mtp_profile write FILE` writes the cell with gbion's energy, forces
//! and stress as extended XYZ, for `benches/motep/compare.py` (motep on the same cell).

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
    let mtp = lstz_mtp();
    let structure = lstz([12, 12, 14]);
    let list = NeighborList::build(&structure, mtp.cutoff(), 0.0, ListKind::Full).expect("a list");
    let call = |pool: &rayon::ThreadPool| {
        let start = Instant::now();
        black_box(pool.install(|| mtp.compute(&structure, Some(&list), Request::EFS).expect("evaluates")));
        start.elapsed().as_secs_f64() * 1e6 / structure.len() as f64
    };
    if let (Some("write"), Some(path)) = (args.get(1).map(String::as_str), args.get(2)) {
        let output = mtp.compute(&structure, Some(&list), Request::EFS).expect("evaluates");
        let mut frame = structure.clone();
        frame.results.energy = Some(output.energy);
        frame.results.forces = output.forces;
        frame.results.stress = output.stress;
        let options = gbion_atoms::io::WriteOptions::default();
        gbion_atoms::io::write_file(std::path::Path::new(path), None, [Ok(frame)], &options).expect("written");
        println!(
            "{} atoms written to {path}, E = {:.10} eV",
            structure.len(),
            output.energy
        );
        return;
    }
    if args.get(2).map(String::as_str) == Some("1v2") {
        let (one, two) = (pool(1), pool(2));
        call(&one);
        call(&two);
        let pairs: Vec<(f64, f64)> = (0..calls).map(|_| (call(&one), call(&two))).collect();
        println!(
            "{} atoms, {calls} call pairs: wall 1 thread {:.2} µs, 2 threads {:.2} µs per atom per call (medians), \
             speed-up median {:.2} (min {:.2}, max {:.2})",
            structure.len(),
            median(pairs.iter().map(|p| p.0).collect()),
            median(pairs.iter().map(|p| p.1).collect()),
            median(pairs.iter().map(|p| p.0 / p.1).collect()),
            pairs.iter().map(|p| p.0 / p.1).fold(f64::INFINITY, f64::min),
            pairs.iter().map(|p| p.0 / p.1).fold(0.0, f64::max),
        );
        return;
    }
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let pool = pool(threads);
    call(&pool);
    let (start, cpu_start) = (Instant::now(), cpu_seconds());
    for _ in 0..calls {
        call(&pool);
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

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        0.5 * (values[n / 2 - 1] + values[n / 2])
    }
}

/// User + system CPU time of this process (s), from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
