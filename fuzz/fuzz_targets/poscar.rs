//! Fuzz target: arbitrary bytes into the POSCAR reader (with a type map on inputs of even length, for VASP 4
//! files). A structure that parses must write back and read again to exactly the same structure.
#![no_main]

use gbion_atoms::Element;
use gbion_atoms::io::{Format, ReadOptions, WriteOptions, read_frames, write_frame};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let format = Format::Poscar;
    let type_map = (data.len() % 2 == 0).then(|| (1..=8).map(Element).collect::<Vec<_>>());
    let options = ReadOptions {
        type_map,
        ..Default::default()
    };
    let frames = read_frames(Cursor::new(data.to_vec()), "fuzz", format, &options);
    for frame in frames.take(2) {
        let Ok(frame) = frame else { break };
        let mut out = Vec::new();
        write_frame(&mut out, &frame, format, &WriteOptions::default()).expect("a parsed frame writes");
        let mut again = read_frames(Cursor::new(out), "fuzz-round-trip", format, &ReadOptions::default());
        let back = again
            .next()
            .expect("a written frame reads back")
            .expect("a written frame parses");
        assert_eq!(back, frame);
    }
});
