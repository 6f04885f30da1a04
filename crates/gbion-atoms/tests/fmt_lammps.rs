//! LAMMPS data and dump formats: fixtures written by LAMMPS itself (tests/fixtures/lammps, made by
//! `make_fixtures.lmp`), round trips, the rotation into LAMMPS' triclinic form, and bad inputs.

use gbion_atoms::io::{Format, ReadOptions, WriteOptions, read_file, read_frames, write_frame};
use gbion_atoms::linalg::{Vec3, add, dot, norm, sub};
use gbion_atoms::{Cell, Element, InfoValue, Property, Structure};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// Agreement expected between numbers that LAMMPS printed with `%.16g` and the same numbers recomputed.
const PRINTED_EXACT: f64 = 1e-12;
/// Agreement expected with LAMMPS' default `%g` dump output (6 significant digits).
const PRINTED_DEFAULT: f64 = 5e-5;
/// LAMMPS metal time step (fs) of the trajectory fixture (`timestep` default 0.001 ps).
const METAL_TIMESTEP_FS: f64 = 1.0;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lammps")
        .join(name)
}

fn read_all(name: &str, options: &ReadOptions) -> Vec<Structure> {
    read_file(&fixture(name), None, options)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_one(name: &str) -> Structure {
    read_all(name, &ReadOptions::default()).remove(0)
}

fn elements(symbols: &[&str]) -> Vec<Element> {
    symbols.iter().map(|s| Element::from_symbol(s).unwrap()).collect()
}

fn assert_close(a: f64, b: f64, tolerance: f64, what: &str) {
    assert!((a - b).abs() <= tolerance * b.abs().max(1.0), "{what}: {a} vs {b}");
}

fn assert_vec_close(a: Vec3, b: Vec3, tolerance: f64, what: &str) {
    for k in 0..3 {
        assert_close(a[k], b[k], tolerance, what);
    }
}

/// (xlo ylo zlo lx ly lz xy xz yz vol) as LAMMPS printed them with `%.16g`.
fn printed_box() -> [f64; 10] {
    let text = std::fs::read_to_string(fixture("box_values.txt")).unwrap();
    let values: Vec<f64> = text
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    values.try_into().unwrap()
}

fn image(s: &Structure) -> Vec<i64> {
    match s.properties.get("image") {
        Some(Property::Int { data, columns: 3 }) => data.clone(),
        other => panic!("no image flags: {other:?}"),
    }
}

fn write_read(s: &Structure, format: Format, write: &WriteOptions, read: &ReadOptions) -> Structure {
    let mut text = Vec::new();
    write_frame(&mut text, s, format, write).unwrap();
    let mut frames = read_frames(Cursor::new(text), "round trip", format, read);
    frames.next().unwrap().unwrap()
}

#[test]
fn charge_data_reads_to_the_box_lammps_printed() {
    let s = read_one("charge.data");
    let [xlo, ylo, zlo, lx, ly, lz, xy, xz, yz, vol] = printed_box();
    assert_eq!(s.cell.matrix(), &[[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]);
    assert_eq!(s.cell.pbc(), [true; 3]);
    assert_close(s.cell.volume(), vol, PRINTED_EXACT, "volume");
    assert_eq!(
        s.info.get("lammps_origin"),
        Some(&InfoValue::RealArray(vec![xlo, ylo, zlo]))
    );
    // Elements inferred from the Masses values (LAMMPS 2021 writes no type labels).
    assert_eq!(s.elements, elements(&["Li", "La", "O", "O", "O", "Li", "La"]));
    assert_eq!(s.masses, vec![6.94, 138.905, 15.999, 15.999, 15.999, 6.94, 138.905]);
    assert_eq!(s.charges.as_deref(), Some(&[1.0, 3.0, -2.0, -2.0, -2.0, 1.0, 3.0][..]));
    assert_eq!(s.int_tag("id"), Some(&[1, 2, 3, 4, 5, 6, 7][..]));
    assert_eq!(s.int_tag("type"), Some(&[1, 2, 3, 3, 3, 1, 2][..]));
    assert_eq!(image(&s)[3..6], [1, 0, -1]);
    assert_eq!(image(&s)[12..15], [-2, 1, 0]);
    // Every atom lies in the box: fractional coordinates relative to the origin in [0, 1).
    for r in &s.positions {
        let f = s.cell.to_fractional(sub(*r, [xlo, ylo, zlo]));
        assert!(f.iter().all(|v| (-1e-12..1.0).contains(v)), "{f:?}");
    }
}

#[test]
fn data_and_precise_dump_of_the_same_state_agree() {
    let data = read_one("charge.data");
    let dump = read_one("precise.dump");
    assert_eq!(dump.elements, data.elements);
    assert_eq!(dump.int_tag("type"), data.int_tag("type"));
    assert_eq!(image(&dump), image(&data));
    assert_eq!(dump.charges, data.charges);
    assert_eq!(dump.info.get("timestep"), Some(&InfoValue::Int(0)));
    for axis in 0..3 {
        assert_vec_close(
            dump.cell.matrix()[axis],
            data.cell.matrix()[axis],
            PRINTED_EXACT,
            "cell",
        );
    }
    let dump_v = dump.velocities.as_ref().unwrap();
    let data_v = data.velocities.as_ref().unwrap();
    for i in 0..data.len() {
        assert_vec_close(dump.positions[i], data.positions[i], PRINTED_EXACT, "position");
        assert_vec_close(dump_v[i], data_v[i], PRINTED_EXACT, "velocity");
    }
}

#[test]
fn velocities_convert_from_metal_units() {
    let text = std::fs::read_to_string(fixture("charge.data")).unwrap();
    let first_velocity: Vec<f64> = text
        .lines()
        .skip_while(|l| !l.starts_with("Velocities"))
        .nth(2)
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let s = read_one("charge.data");
    let v = s.velocities.as_ref().unwrap()[0];
    for k in 0..3 {
        assert_close(v[k] * 1000.0, first_velocity[k], 1e-15, "Å/ps = 1000 Å/fs");
    }
}

#[test]
fn default_precision_dump_agrees_to_six_digits() {
    let plain = read_one("plain.dump");
    let precise = read_one("precise.dump");
    for (a, b) in plain.positions.iter().zip(&precise.positions) {
        assert_vec_close(*a, *b, PRINTED_DEFAULT, "position");
    }
}

#[test]
fn scaled_dump_needs_a_type_map_and_then_matches() {
    let error = read_file(&fixture("scaled.dump"), None, &ReadOptions::default())
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("scaled.dump line 10") && error.contains("type map"),
        "{error}"
    );
    let options = ReadOptions {
        type_map: Some(elements(&["Li", "La", "O"])),
        ..Default::default()
    };
    let scaled = read_all("scaled.dump", &options).remove(0);
    let precise = read_one("precise.dump");
    assert_eq!(scaled.elements, precise.elements);
    for (a, b) in scaled.positions.iter().zip(&precise.positions) {
        assert_vec_close(*a, *b, PRINTED_EXACT, "r = origin + s·M");
    }
}

#[test]
fn unwrapped_positions_are_wrapped_plus_image_translations() {
    let unwrapped = read_one("unwrapped.dump");
    let precise = read_one("precise.dump");
    let flags = image(&precise);
    assert_eq!(
        unwrapped.masses,
        read_one("charge.data").masses,
        "the dump's mass column"
    );
    for i in 0..precise.len() {
        let shift = [flags[3 * i] as i32, flags[3 * i + 1] as i32, flags[3 * i + 2] as i32];
        let expected = add(precise.positions[i], precise.cell.translation(shift));
        assert_vec_close(unwrapped.positions[i], expected, PRINTED_EXACT, "xu = x + n·M");
    }
}

#[test]
fn trajectory_is_free_flight_at_the_dumped_velocities() {
    let frames = read_all("trajectory.dump", &ReadOptions::default());
    let steps: Vec<_> = frames.iter().map(|f| f.info.get("timestep").cloned()).collect();
    assert_eq!(steps, [0, 5, 10].map(|t| Some(InfoValue::Int(t))));
    let unwrap = |f: &Structure, i: usize| {
        let n = image(f);
        add(
            f.positions[i],
            f.cell
                .translation([n[3 * i] as i32, n[3 * i + 1] as i32, n[3 * i + 2] as i32]),
        )
    };
    for pair in frames.windows(2) {
        let elapsed = METAL_TIMESTEP_FS * 5.0;
        for i in 0..pair[0].len() {
            let v = pair[0].velocities.as_ref().unwrap()[i];
            let moved = sub(unwrap(&pair[1], i), unwrap(&pair[0], i));
            assert_vec_close(moved, v.map(|c| c * elapsed), 1e-10, "Δr = v Δt with v in Å/fs");
        }
    }
}

#[test]
fn atomic_data_and_open_dump() {
    let data = read_one("atomic.data");
    assert_eq!(data.elements, elements(&["Li", "O", "Li"]));
    assert!(data.charges.is_none());
    assert_eq!(data.cell.matrix(), &[[5.0, 0.0, 0.0], [0.0, 6.0, 0.0], [0.0, 0.0, 5.0]]);
    let dump = read_one("open_z.dump");
    assert_eq!(dump.cell.pbc(), [true, true, false]);
    assert_eq!(dump.positions, data.positions);
    assert_eq!(
        dump.info.get("lammps_origin"),
        Some(&InfoValue::RealArray(vec![0.0, 0.0, -1.0]))
    );
}

#[test]
fn type_map_overrides_masses() {
    let options = ReadOptions {
        type_map: Some(elements(&["Na", "Sr", "F"])),
        ..Default::default()
    };
    let s = read_all("charge.data", &options).remove(0);
    assert_eq!(s.elements[..3], elements(&["Na", "Sr", "F"])[..]);
    assert_eq!(s.masses[0], 6.94, "the file's mass stays");
}

#[test]
fn data_round_trip_is_exact() {
    let s = read_one("charge.data");
    let back = write_read(
        &s,
        Format::LammpsData,
        &WriteOptions::default(),
        &ReadOptions::default(),
    );
    assert_eq!(back.cell, s.cell);
    assert_eq!(back.positions, s.positions);
    assert_eq!(back.elements, s.elements);
    assert_eq!(back.masses, s.masses);
    assert_eq!(back.charges, s.charges);
    assert_eq!(back.properties, s.properties);
    assert_eq!(back.info, s.info);
    for (a, b) in back.velocities.unwrap().iter().zip(s.velocities.as_ref().unwrap()) {
        assert_vec_close(*a, *b, 1e-15, "velocity");
    }
    let atomic = WriteOptions {
        atom_style: Some("atomic".into()),
        ..Default::default()
    };
    let back = write_read(&s, Format::LammpsData, &atomic, &ReadOptions::default());
    assert!(back.charges.is_none());
    assert_eq!(back.positions, s.positions);
}

#[test]
fn dump_round_trip_keeps_every_frame() {
    let frames = read_all("trajectory.dump", &ReadOptions::default());
    let mut text = Vec::new();
    for f in &frames {
        write_frame(&mut text, f, Format::LammpsDump, &WriteOptions::default()).unwrap();
    }
    let back: Vec<Structure> = read_frames(
        Cursor::new(text),
        "round trip",
        Format::LammpsDump,
        &ReadOptions::default(),
    )
    .collect::<Result<_, _>>()
    .unwrap();
    assert_eq!(back.len(), frames.len());
    for (b, f) in back.iter().zip(&frames) {
        assert_eq!(b.positions, f.positions);
        assert_eq!(b.elements, f.elements);
        assert_eq!(b.info, f.info);
        assert_eq!(b.properties, f.properties);
        for k in 0..3 {
            assert_vec_close(b.cell.matrix()[k], f.cell.matrix()[k], 1e-15, "cell");
        }
    }
}

#[test]
fn written_triclinic_bounds_match_lammps() {
    let precise = read_one("precise.dump");
    let mut text = Vec::new();
    write_frame(&mut text, &precise, Format::LammpsDump, &WriteOptions::default()).unwrap();
    let ours = String::from_utf8(text).unwrap();
    let theirs = std::fs::read_to_string(fixture("precise.dump")).unwrap();
    let bounds = |t: &str| -> Vec<f64> {
        t.lines()
            .skip_while(|l| !l.starts_with("ITEM: BOX BOUNDS"))
            .skip(1)
            .take(3)
            .flat_map(|l| {
                l.split_whitespace()
                    .map(|v| v.parse::<f64>().unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (a, b) = (bounds(&ours), bounds(&theirs));
    assert_eq!(a.len(), 9);
    for (x, y) in a.iter().zip(&b) {
        assert_close(*x, *y, PRINTED_EXACT, "bound");
    }
    assert!(ours.contains("ITEM: BOX BOUNDS xy xz yz pp pp pp"));
}

/// A general, right-handed triclinic cell that is not in LAMMPS form, with velocities and forces.
fn general_structure() -> Structure {
    let cell = Cell::periodic([[4.0, 1.0, -0.5], [0.7, 5.0, 1.2], [-0.3, 0.9, 6.0]]).unwrap();
    let fractional = [[0.1, 0.2, 0.3], [0.6, 0.5, 0.9], [0.95, 0.05, 0.5]];
    let positions = fractional.iter().map(|f| cell.to_cartesian(*f)).collect();
    let mut s = Structure::new(cell, elements(&["Li", "O", "Li"]), positions).unwrap();
    s.velocities = Some(vec![[0.01, -0.02, 0.005], [0.0, 0.01, 0.02], [-0.01, 0.0, 0.0]]);
    s.results.forces = Some(vec![[1.0, 0.5, -0.2], [-0.5, 0.1, 0.3], [-0.5, -0.6, -0.1]]);
    s
}

#[test]
fn a_general_cell_is_rotated_into_lammps_form() {
    let s = general_structure();
    for format in [Format::LammpsData, Format::LammpsDump] {
        let back = write_read(&s, format, &WriteOptions::default(), &ReadOptions::default());
        let m = back.cell.matrix();
        assert_eq!([m[0][1], m[0][2], m[1][2]], [0.0; 3], "lower triangular");
        assert_vec_close(back.cell.lengths(), s.cell.lengths(), 1e-12, "lengths");
        assert_vec_close(back.cell.angles(), s.cell.angles(), 1e-10, "angles");
        for i in 0..s.len() {
            // A rotation keeps fractional coordinates and the components of vectors along the cell vectors.
            assert_vec_close(
                back.cell.to_fractional(back.positions[i]),
                s.cell.to_fractional(s.positions[i]),
                1e-12,
                "s",
            );
            let (v, v0) = (back.velocities.as_ref().unwrap()[i], s.velocities.as_ref().unwrap()[i]);
            for (axis, axis0) in m.iter().zip(s.cell.matrix()) {
                assert_close(dot(v, *axis), dot(v0, *axis0), 1e-12, "v·a");
            }
        }
        if format == Format::LammpsDump {
            let (f, f0) = (
                back.results.forces.as_ref().unwrap(),
                s.results.forces.as_ref().unwrap(),
            );
            assert_close(norm(f[1]), norm(f0[1]), 1e-12, "|F|");
        }
    }
}

#[test]
fn left_handed_cells_cannot_be_written() {
    let cell = Cell::periodic([[0.0, 4.0, 0.0], [4.0, 0.0, 0.0], [0.0, 0.0, 4.0]]).unwrap();
    let s = Structure::new(cell, elements(&["Li"]), vec![[1.0, 1.0, 1.0]]).unwrap();
    let error = write_frame(&mut Vec::new(), &s, Format::LammpsData, &WriteOptions::default()).unwrap_err();
    assert!(error.to_string().contains("right-handed"), "{error}");
}

#[test]
fn a_molecule_gets_a_bounding_box() {
    let positions = vec![[-3.0, 0.5, 2.0], [1.0, -4.0, 2.0], [0.0, 0.0, 7.5]];
    let s = Structure::new(Cell::default(), elements(&["O", "Li", "Li"]), positions).unwrap();
    let back = write_read(
        &s,
        Format::LammpsDump,
        &WriteOptions::default(),
        &ReadOptions::default(),
    );
    assert_eq!(back.positions, s.positions);
    assert_eq!(back.cell.pbc(), [false; 3]);
    let origin = match back.info.get("lammps_origin") {
        Some(InfoValue::RealArray(o)) => [o[0], o[1], o[2]],
        other => panic!("{other:?}"),
    };
    assert_eq!(origin, [-4.0, -5.0, 1.0], "1 Å beyond the lowest atom");
    assert_eq!(back.cell.lengths(), [6.0, 6.5, 7.5], "extent + 2 Å");
}

#[test]
fn atom_style_from_option_or_column_count() {
    let body = "title\n\n2 atoms\n1 atom types\n0 4 xlo xhi\n0 4 ylo yhi\n0 4 zlo zhi\n\nMasses\n\n1 6.94 # Li\n\nAtoms\n\n2 1 1 1.5 1.5 1.5\n1 1 1 0 0 0\n";
    let read = |style: Option<&str>| {
        let options = ReadOptions {
            atom_style: style.map(str::to_string),
            ..Default::default()
        };
        read_frames(
            Cursor::new(body.as_bytes().to_vec()),
            "x.data",
            Format::LammpsData,
            &options,
        )
        .next()
        .unwrap()
    };
    let charge = read(None).unwrap();
    assert_eq!(charge.charges.as_deref(), Some(&[1.0, 1.0][..]), "6 columns: charge");
    assert_eq!(charge.positions, vec![[0.0, 0.0, 0.0], [1.5, 1.5, 1.5]], "sorted by id");
    let molecular = read(Some("molecular")).unwrap();
    assert_eq!(molecular.int_tag("mol"), Some(&[1, 1][..]));
    assert_eq!(molecular.positions[1], [1.5, 1.5, 1.5]);
    assert_eq!(molecular.int_tag("type"), Some(&[1, 1][..]));
    assert!(molecular.charges.is_none());
    assert!(
        read(Some("ellipsoid"))
            .unwrap_err()
            .to_string()
            .contains("not supported")
    );
}

/// Bad inputs in tests/fixtures/bad with the message each must give (file name, line and field).
#[test]
fn bad_lammps_inputs_name_file_line_and_field() {
    let cases = [
        (
            "lammps_bad_number.data",
            "lammps_bad_number.data line 18: expected a finite number for y, found \"abc\"",
        ),
        (
            "lammps_nan.data",
            "lammps_nan.data line 18: expected a finite number for x, found \"nan\"",
        ),
        (
            "lammps_short_atoms.data",
            "lammps_short_atoms.data line 18: expected Atoms entry 2 of 2, found the end of the file",
        ),
        (
            "lammps_bad_type.data",
            "lammps_bad_type.data line 17: atom type 3 is outside 1..=2",
        ),
        (
            "lammps_no_element.data",
            "lammps_no_element.data line 12: atom type 1: no element has a mass within 0.1 amu of 500",
        ),
        (
            "lammps_bad_box.data",
            "lammps_bad_box.data line 6: xhi (-1) must exceed xlo (0)",
        ),
        (
            "lammps_duplicate_id.data",
            "lammps_duplicate_id.data line 18: atom id 1 appears twice",
        ),
        (
            "lammps_huge_count.data",
            "lammps_huge_count.data line 19: expected Atoms entry 2 of 1000000000000, found the end of the file",
        ),
        (
            "lammps_bad_columns.dump",
            "lammps_bad_columns.dump line 11: expected 5 values (id element x y z), found 4",
        ),
        (
            "lammps_missing_bounds.dump",
            "lammps_missing_bounds.dump line 7: expected yhi, found the end of the line",
        ),
        (
            "lammps_unknown_item.dump",
            "lammps_unknown_item.dump line 1: unknown item \"ITEM: FOO\"",
        ),
        (
            "lammps_partial_position.dump",
            "lammps_partial_position.dump line 9: ITEM: ATOMS has some but not all of x y z",
        ),
        (
            "lammps_bad_element.dump",
            "lammps_bad_element.dump line 11: expected an element symbol for element, found \"Qq\"",
        ),
        (
            "lammps_truncated.dump",
            "lammps_truncated.dump line 12: expected atom 3 of 3, found the end of the file",
        ),
    ];
    assert_bad_inputs(&cases);
}

/// Read each file of tests/fixtures/bad and compare the first error with the expected message prefix;
/// reports every mismatch at once.
fn assert_bad_inputs(cases: &[(&str, &str)]) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mismatches: Vec<String> = cases
        .iter()
        .filter_map(|(name, expected)| {
            let frames = read_file(&folder.join(name), None, &ReadOptions::default()).unwrap();
            let got = frames.into_iter().find_map(Result::err).map(|e| e.to_string());
            match got {
                Some(message) if message.starts_with(expected) => None,
                other => Some(format!("{name}:\n   got {other:?}\nwanted {expected:?}")),
            }
        })
        .collect();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// ASE's LAMMPS writer (tests/fixtures/lammps/make_ase_fixture.py): `# Li` mass comments name the elements
/// even for a 6Li-enriched mass, and ASE's rotation of a general cell into LAMMPS form is the same as ours.
#[test]
fn ase_written_data_matches_our_rotation_of_the_same_structure() {
    let ase = read_one("ase_general.data");
    assert_eq!(ase.elements, elements(&["Li", "La", "O", "O"]));
    assert_close(ase.masses[0], 6.015, 1e-9, "6Li mass from the file");
    let original = read_file(&fixture("ase_general.extxyz"), None, &ReadOptions::default())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let ours = write_read(
        &original,
        Format::LammpsData,
        &WriteOptions::default(),
        &ReadOptions::default(),
    );
    for axis in 0..3 {
        assert_vec_close(ours.cell.matrix()[axis], ase.cell.matrix()[axis], PRINTED_EXACT, "cell");
    }
    let (v_ours, v_ase) = (ours.velocities.as_ref().unwrap(), ase.velocities.as_ref().unwrap());
    let v_scale = v_ase.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..ase.len() {
        assert_vec_close(ours.positions[i], ase.positions[i], PRINTED_EXACT, "rotated position");
        for k in 0..3 {
            // The extxyz holds momenta at 8 decimals.
            assert!((v_ours[i][k] - v_ase[i][k]).abs() <= 1e-8 * v_scale, "velocity {i} {k}");
        }
    }
    assert_eq!(ours.charges, ase.charges);
}

#[test]
fn dumps_without_boundary_flags_are_periodic() {
    let text = "ITEM: TIMESTEP\n7\nITEM: NUMBER OF ATOMS\n1\nITEM: BOX BOUNDS\n0 3\n0 4\n0 5\nITEM: ATOMS id element xs ys zs\n1 Li 0.5 0.5 0.5\n";
    let s = read_frames(
        Cursor::new(text.as_bytes().to_vec()),
        "old.dump",
        Format::LammpsDump,
        &ReadOptions::default(),
    )
    .next()
    .unwrap()
    .unwrap();
    assert_eq!(s.cell.pbc(), [true; 3]);
    assert_eq!(s.positions, vec![[1.5, 2.0, 2.5]]);
    assert_eq!(s.info.get("timestep"), Some(&InfoValue::Int(7)));
}

/// An endless input repeating `text`: a reader that tried to read the whole input would never return.
pub struct Endless {
    text: Vec<u8>,
    at: usize,
}

impl std::io::Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.text.len() - self.at);
        buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at = (self.at + n) % self.text.len();
        Ok(n)
    }
}

#[test]
fn dump_frames_stream_from_an_endless_input() {
    let text = std::fs::read(fixture("precise.dump")).unwrap();
    let input = std::io::BufReader::new(Endless { text, at: 0 });
    let frames = read_frames(input, "endless.dump", Format::LammpsDump, &ReadOptions::default());
    let first: Vec<Structure> = frames.take(500).collect::<Result<_, _>>().unwrap();
    assert_eq!(first.len(), 500);
    assert!(first.iter().all(|f| f.positions == first[0].positions));
}
