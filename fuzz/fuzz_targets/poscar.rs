//! Fuzz target: arbitrary bytes into the POSCAR reader (with a type map on inputs of even length, for VASP 4
//! files). A structure that parses must write back and read again to exactly the same structure.
#![no_main]

use gbion_atoms::io::Format;
use gbion_fuzz::check_round_trip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_round_trip(data, Format::Poscar, true, 2, |a, b| a == b));
