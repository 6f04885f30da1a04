//! Fuzz target: arbitrary bytes into the extended XYZ reader. Every frame that parses must write back,
//! and the written text must read back to the same structure (velocities pass through ASE momenta, so
//! they are compared to a few ulps; everything else must be identical).
#![no_main]

use gbion_atoms::Structure;
use gbion_atoms::io::{Format, ReadOptions, WriteOptions, read_frames, write_frame};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

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
    let format = Format::ExtXyz;
    let frames = read_frames(Cursor::new(data.to_vec()), "fuzz", format, &ReadOptions::default());
    for frame in frames.take(8) {
        let Ok(frame) = frame else { break };
        let mut out = Vec::new();
        write_frame(&mut out, &frame, format, &WriteOptions::default()).expect("a parsed frame writes");
        let mut again = read_frames(Cursor::new(out), "fuzz-round-trip", format, &ReadOptions::default());
        let back: Structure = again
            .next()
            .expect("a written frame reads back")
            .expect("a written frame parses");
        assert!(same_velocities(&back.velocities, &frame.velocities), "velocities");
        let strip = |s: &Structure| Structure {
            velocities: None,
            ..s.clone()
        };
        assert_eq!(strip(&back), strip(&frame));
    }
});
