//! The one round-trip check every parser fuzz target runs: arbitrary bytes into a reader; every frame that
//! parses must write back, and the written text must read again to a structure the target's `same`
//! accepts. A panic anywhere (reader, writer, comparison) is a finding.

use gbion_atoms::io::{Format, ReadOptions, WriteOptions, read_frames, write_frame};
use gbion_atoms::{Element, Structure};
use std::io::Cursor;

/// Feed `data` to the `format` reader and round-trip up to `max_frames` parsed frames. With
/// `type_map_on_even_length`, inputs of even length are read with a type map (elements 1..=8 for types
/// in order), odd ones without, so both paths are fuzzed.
pub fn check_round_trip(
    data: &[u8],
    format: Format,
    type_map_on_even_length: bool,
    max_frames: usize,
    same: impl Fn(&Structure, &Structure) -> bool,
) {
    let type_map = (type_map_on_even_length && data.len() % 2 == 0).then(|| (1..=8).map(Element).collect());
    let options = ReadOptions {
        type_map,
        ..Default::default()
    };
    for frame in read_frames(Cursor::new(data.to_vec()), "fuzz", format, &options).take(max_frames) {
        let Ok(frame) = frame else { break };
        let mut out = Vec::new();
        write_frame(&mut out, &frame, format, &WriteOptions::default()).expect("a parsed frame writes");
        let mut again = read_frames(Cursor::new(out), "fuzz-round-trip", format, &ReadOptions::default());
        let back = again
            .next()
            .expect("a written frame reads back")
            .expect("a written frame parses");
        assert!(
            same(&back, &frame),
            "round trip changed the structure:\n{back:?}\nvs\n{frame:?}"
        );
    }
}

/// Elements and positions identical.
pub fn same_geometry(a: &Structure, b: &Structure) -> bool {
    a.elements == b.elements && a.positions == b.positions
}
