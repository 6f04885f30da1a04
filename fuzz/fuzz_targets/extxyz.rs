//! Fuzz target: arbitrary bytes into the extended XYZ reader. Every frame that parses must write back,
//! and the written text must read back to the same structure (velocities pass through ASE momenta, so
//! they are compared to a few ulps; everything else must be identical).
#![no_main]

use gbion_atoms::Structure;
use gbion_atoms::io::Format;
use gbion_fuzz::check_round_trip;
use libfuzzer_sys::fuzz_target;

fn same_velocities(a: &Option<Vec<[f64; 3]>>, b: &Option<Vec<[f64; 3]>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a
            .iter()
            .flatten()
            .zip(b.iter().flatten())
            .all(|(x, y)| (x - y).abs() <= 1e-14 * x.abs().max(y.abs()) || (x - y).abs() < f64::MIN_POSITIVE * 16.0),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    check_round_trip(data, Format::ExtXyz, false, 8, |back, frame| {
        let strip = |s: &Structure| Structure {
            velocities: None,
            ..s.clone()
        };
        same_velocities(&back.velocities, &frame.velocities) && strip(back) == strip(frame)
    })
});
