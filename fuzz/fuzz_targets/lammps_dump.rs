//! Fuzz target: arbitrary bytes into the lammps_dump reader (with a type map on inputs of even length, without on
//! odd ones). Every frame that parses must write back and read again to the same elements and positions.
#![no_main]

use gbion_atoms::io::Format;
use gbion_fuzz::{check_round_trip, same_geometry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_round_trip(data, Format::LammpsDump, true, 8, same_geometry));
