//! Extended XYZ: ASE-written fixtures read to ASE's own parsed values (`tests/fixtures/extxyz`, made by
//! `make_fixtures.py`), gbion → gbion round trips of every field, ASE comment-line conventions, bad inputs
//! with their messages, and streaming in constant memory.

use gbion_atoms::io::{Format, ReadOptions, WriteOptions, extxyz, read_file, read_frames, write_file};
use gbion_atoms::{Cell, Element, InfoValue, Property, Structure};
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell as StdCell;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// Agreement with ASE's values: the files carry 8 decimals (positions) or full precision (info, stress),
/// and both sides parse the same text, so 1e-10 (relative above 1) is generous and still catches any
/// unit or convention slip.
const ASE_TOLERANCE: f64 = 1e-10;

/// Velocities pass through ASE momenta (p = m v / fs, then v = p / m · fs): a few ulps.
const MOMENTA_ROUND_TRIP: f64 = 1e-15;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn read_all(path: &Path) -> Vec<Structure> {
    read_file(path, None, &ReadOptions::default())
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_text(text: &str) -> Result<Vec<Structure>, gbion_atoms::Error> {
    read_frames(
        BufReader::new(std::io::Cursor::new(text.to_string())),
        "test.xyz",
        Format::ExtXyz,
        &ReadOptions::default(),
    )
    .collect()
}

fn write_text(frames: &[Structure]) -> String {
    let mut out = Vec::new();
    for frame in frames {
        extxyz::write_frame(&mut out, frame, &WriteOptions::default()).unwrap();
    }
    String::from_utf8(out).unwrap()
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= ASE_TOLERANCE * want.abs().max(1.0),
        "{what}: gbion {got} vs ASE {want}"
    );
}

fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not numeric: {other}"),
    }
}

fn assert_all_close(got: impl IntoIterator<Item = f64>, want: &Value, what: &str) {
    let got: Vec<f64> = got.into_iter().collect();
    let want = numbers(want);
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_close(*g, *w, &format!("{what}[{i}]"));
    }
}

/// gbion's info value against ASE's (ints stay ints, floats floats, as ASE types them).
fn assert_info_matches(got: &InfoValue, want: &Value, key: &str) {
    match (got, want) {
        (InfoValue::Int(g), Value::Number(w)) => assert_eq!(Some(*g), w.as_i64(), "{key}"),
        (InfoValue::Real(g), Value::Number(w)) if w.is_f64() => assert_close(*g, w.as_f64().unwrap(), key),
        (InfoValue::Bool(g), Value::Bool(w)) => assert_eq!(g, w, "{key}"),
        (InfoValue::Str(g), Value::String(w)) => assert_eq!(g, w, "{key}"),
        (InfoValue::IntArray(g), Value::Array(w)) if w.iter().all(|v| v.is_i64()) => {
            assert_eq!(g, &w.iter().map(|v| v.as_i64().unwrap()).collect::<Vec<_>>(), "{key}")
        }
        (InfoValue::RealArray(g), Value::Array(_)) => assert_all_close(g.iter().copied(), want, key),
        (InfoValue::BoolArray(g), Value::Array(w)) => {
            assert_eq!(g, &w.iter().map(|v| v.as_bool().unwrap()).collect::<Vec<_>>(), "{key}")
        }
        _ => panic!("{key}: gbion {got:?} vs ASE {want}"),
    }
}

fn assert_matches_ase(frame: &Structure, want: &Value, what: &str) {
    let symbols: Vec<&str> = frame.symbols().collect();
    let want_symbols: Vec<&str> = want["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(symbols, want_symbols, "{what}: symbols");
    assert_all_close(
        frame.cell.matrix().iter().flatten().copied(),
        &want["cell"],
        &format!("{what}: cell"),
    );
    let pbc: Vec<bool> = want["pbc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_bool().unwrap())
        .collect();
    assert_eq!(frame.cell.pbc().to_vec(), pbc, "{what}: pbc");
    assert_all_close(
        frame.positions.iter().flatten().copied(),
        &want["positions"],
        &format!("{what}: positions"),
    );
    assert_all_close(
        frame.masses.iter().copied(),
        &want["masses"],
        &format!("{what}: masses"),
    );
    let optional = |got: Option<Vec<f64>>, key: &str| match (&got, &want[key]) {
        (None, Value::Null) => {}
        (Some(g), w) if !w.is_null() => assert_all_close(g.iter().copied(), w, &format!("{what}: {key}")),
        _ => panic!("{what}: {key} present on one side only"),
    };
    optional(
        frame.velocities.as_ref().map(|v| v.iter().flatten().copied().collect()),
        "velocities",
    );
    optional(frame.charges.clone(), "charges");
    optional(frame.results.energy.map(|e| vec![e]), "energy");
    optional(
        frame
            .results
            .forces
            .as_ref()
            .map(|f| f.iter().flatten().copied().collect()),
        "forces",
    );
    optional(frame.results.stress.map(|s| s.to_vec()), "stress");
    let arrays = want["arrays"].as_object().unwrap();
    assert_eq!(
        frame.properties.len(),
        arrays.len(),
        "{what}: per-atom arrays {:?}",
        frame.properties.keys()
    );
    for (name, values) in arrays {
        match &frame.properties[name] {
            Property::Int { data, columns: 1 } => {
                assert_eq!(
                    data,
                    &values
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_i64().unwrap())
                        .collect::<Vec<_>>()
                )
            }
            Property::Real { data, .. } => assert_all_close(data.iter().copied(), values, &format!("{what}: {name}")),
            other => panic!("{what}: {name} read as {other:?}"),
        }
    }
    let info = want["info"].as_object().unwrap();
    assert_eq!(
        frame.info.len(),
        info.len(),
        "{what}: info keys {:?}",
        frame.info.keys()
    );
    for (key, value) in info {
        assert_info_matches(&frame.info[key], value, &format!("{what}: info {key}"));
    }
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("extxyz/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

const FIXTURES: [&str; 3] = ["trajectory.xyz", "masses.xyz", "plain.xyz"];

#[test]
fn ase_fixtures_read_to_ase_values() {
    let expected = expected();
    for name in FIXTURES {
        let frames = read_all(&fixture(&format!("extxyz/{name}")));
        let want = expected[name].as_array().unwrap();
        assert_eq!(frames.len(), want.len(), "{name}: frames");
        for (k, (frame, want)) in frames.iter().zip(want).enumerate() {
            assert_matches_ase(frame, want, &format!("{name} frame {k}"));
        }
    }
}

/// gbion writes each fixture; reading the result gives the same structures (velocities to a few ulps) and
/// still ASE's values. The files are left in `target/tmp/ase_check/extxyz` for `make_fixtures.py --check`.
#[test]
fn gbion_writes_fixtures_back_to_the_same_values() {
    let expected = expected();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ase_check/extxyz");
    std::fs::create_dir_all(&out_dir).unwrap();
    for name in FIXTURES {
        let frames = read_all(&fixture(&format!("extxyz/{name}")));
        let path = out_dir.join(name);
        write_file(&path, None, frames.iter().cloned().map(Ok), &WriteOptions::default()).unwrap();
        let back = read_all(&path);
        for (k, (original, again)) in frames.iter().zip(&back).enumerate() {
            assert_same_up_to_momenta(again, original);
            assert_matches_ase(again, &expected[name][k], &format!("{name} rewritten, frame {k}"));
        }
    }
}

fn assert_same_up_to_momenta(got: &Structure, want: &Structure) {
    match (&got.velocities, &want.velocities) {
        (Some(g), Some(w)) => {
            for (a, b) in g.iter().flatten().zip(w.iter().flatten()) {
                assert!((a - b).abs() <= MOMENTA_ROUND_TRIP * b.abs(), "velocity {a} vs {b}");
            }
        }
        (g, w) => assert_eq!(g.is_some(), w.is_some()),
    }
    let strip = |s: &Structure| Structure {
        velocities: None,
        ..s.clone()
    };
    assert_eq!(strip(got), strip(want));
}

/// A frame with every kind of field gbion keeps: tags, per-atom arrays of each type, info of each type with
/// strings that need quoting and escaping.
fn everything() -> Structure {
    let cell = Cell::new(
        [[5.1, 0.0, 0.0], [1.3, 4.7, 0.0], [-0.6, 0.9, 6.3]],
        [true, false, true],
    )
    .unwrap();
    let elements = ["Li", "La", "Ti", "O"]
        .map(|s| Element::from_symbol(s).unwrap())
        .to_vec();
    let positions = vec![
        [0.1, 0.2, 0.3],
        [2.5, 2.4, 3.3],
        [1.0 / 3.0, 1e-17, -4.2],
        [4.999999999999999, 3.0, 0.7],
    ];
    let mut s = Structure::new(cell, elements, positions).unwrap();
    s.masses[0] = 6.015122887;
    s.velocities = Some(vec![
        [0.01, -0.02, 0.003],
        [0.0; 3],
        [1e-5, 2e-5, -3e-5],
        [0.1, 0.2, 0.3],
    ]);
    s.charges = Some(vec![1.0, 3.0, 4.0, -2.0]);
    s.results.energy = Some(-123.456789012345);
    s.results.forces = Some(vec![[0.1, 0.2, 0.3], [-0.1, 0.0, 1e-9], [3.0, 2.0, 1.0], [0.0; 3]]);
    s.results.stress = Some([1e-3, 2e-3, -3e-3, 4e-4, 5e-4, -6e-4]);
    s.set_int_tag("site", vec![0, 0, 1, 2]).unwrap();
    s.set_int_tag("grain", vec![1, 2, 1, 2]).unwrap();
    s.set_int_tag("fixed", vec![0, 1, 0, 0]).unwrap();
    s.set_property(
        "displacement",
        Property::Real {
            data: (0..8).map(|i| i as f64 * 0.25).collect(),
            columns: 2,
        },
    )
    .unwrap();
    s.set_property(
        "mask",
        Property::Bool {
            data: vec![
                true, false, true, false, false, true, true, true, false, true, false, false,
            ],
            columns: 3,
        },
    )
    .unwrap();
    s.set_property(
        "label",
        Property::Str(vec!["A1".into(), "A2".into(), "B".into(), "O_x".into()]),
    )
    .unwrap();
    let info = [
        ("step", InfoValue::Int(-42)),
        ("temperature", InfoValue::Real(1573.15)),
        ("tiny", InfoValue::Real(1.5e-300)),
        ("converged", InfoValue::Bool(false)),
        (
            "note",
            InfoValue::Str(r#"a "quoted" note with spaces, a \ backslash, {braces} and = signs"#.into()),
        ),
        ("odd key name", InfoValue::Str("it's".into())),
        ("kpts", InfoValue::IntArray(vec![4, 4, 2])),
        ("weights", InfoValue::RealArray(vec![0.5, -1e20, 3.0])),
        ("flags", InfoValue::BoolArray(vec![true, false, true])),
        ("nothing", InfoValue::IntArray(vec![])),
        ("virial", InfoValue::RealArray((1..=9).map(f64::from).collect())),
    ];
    s.info = info.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    s
}

#[test]
fn round_trip_keeps_every_field() {
    let original = everything();
    let text = write_text(std::slice::from_ref(&original));
    let back = read_text(&text).unwrap();
    assert_eq!(back.len(), 1);
    assert_same_up_to_momenta(&back[0], &original);
    // Without velocities (which pass through momenta), writing what was read gives the same text.
    let still = Structure {
        velocities: None,
        ..original
    };
    let text = write_text(std::slice::from_ref(&still));
    assert_eq!(write_text(&read_text(&text).unwrap()), text);
}

#[test]
fn open_molecule_round_trips_without_lattice() {
    let water = Structure::new(
        Cell::default(),
        vec![Element(8), Element(1), Element(1)],
        vec![[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]],
    )
    .unwrap();
    let text = write_text(std::slice::from_ref(&water));
    assert!(!text.contains("Lattice"), "{text}");
    assert!(text.contains(r#"pbc="F F F""#), "{text}");
    assert_eq!(read_text(&text).unwrap(), vec![water]);
}

#[test]
fn plain_xyz_reads_species_and_positions_without_periodicity() {
    let frames = read_text("2\nwater fragment\nO 0.0 0.0 0.1 extra column\nh 1.0 0.0 0.0\n").unwrap();
    let frame = &frames[0];
    assert_eq!(frame.symbols().collect::<Vec<_>>(), ["O", "H"]);
    assert_eq!(frame.positions, vec![[0.0, 0.0, 0.1], [1.0, 0.0, 0.0]]);
    assert!(!frame.cell.is_periodic());
    assert_eq!(frame.cell.volume(), 0.0);
    assert_eq!(
        frame.info.get("water"),
        Some(&InfoValue::Bool(true)),
        "bare words are true keys, as in ASE"
    );
}

#[test]
fn comment_line_follows_ase_conventions() {
    let text = concat!(
        "1\n",
        r#"Lattice="2 0 0 0 3 0 0 0 4" Properties=species:S:1:pos:R:3:Z2:I:1 a = 1 b='x y' c={1.5 2} "#,
        r#"d=[T F T] e="say \"hi\"" flag uid=007 energy=-1 stress="1 2 3 4 5 6""#,
        "\nFe 0 0 0 26\n"
    );
    let frame = &read_text(text).unwrap()[0];
    assert_eq!(frame.cell.pbc(), [true; 3], "Lattice without pbc means periodic");
    assert_eq!(frame.cell.lengths(), [2.0, 3.0, 4.0]);
    let info = &frame.info;
    assert_eq!(info["a"], InfoValue::Int(1));
    assert_eq!(info["b"], InfoValue::Str("x y".into()));
    assert_eq!(info["c"], InfoValue::RealArray(vec![1.5, 2.0]));
    assert_eq!(info["d"], InfoValue::BoolArray(vec![true, false, true]));
    assert_eq!(info["e"], InfoValue::Str(r#"say "hi""#.into()));
    assert_eq!(info["flag"], InfoValue::Bool(true));
    assert_eq!(
        info["uid"],
        InfoValue::Str("007".into()),
        "uid stays a string, as in ASE"
    );
    assert_eq!(frame.results.energy, Some(-1.0));
    assert_eq!(
        frame.results.stress,
        Some([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        "6 values are Voigt"
    );
    assert_eq!(
        frame.properties["Z2"],
        Property::Int {
            data: vec![26],
            columns: 1
        }
    );
}

#[test]
fn nine_stress_values_are_read_in_fortran_order_as_ase() {
    // ASE reshapes the 9 values in Fortran order: s[i][j] = v[i + 3j]; Voigt = (xx, yy, zz, yz, xz, xy).
    let text = "1\nLattice=\"2 0 0 0 2 0 0 0 2\" stress=\"11 21 31 12 22 32 13 23 33\"\nH 0 0 0\n";
    let frame = &read_text(text).unwrap()[0];
    assert_eq!(frame.results.stress, Some([11.0, 22.0, 33.0, 23.0, 13.0, 12.0]));
}

#[test]
fn virial_gives_stress_when_no_stress_is_present() {
    // σ = −W / V with V = 8 Å³.
    let text = "1\nLattice=\"2 0 0 0 2 0 0 0 2\" virial=\"8 0 0 0 16 0 0 0 -24\"\nH 0 0 0\n";
    let frame = &read_text(text).unwrap()[0];
    assert_eq!(frame.results.stress, Some([-1.0, -2.0, 3.0, 0.0, 0.0, 0.0]));
    assert!(matches!(frame.info.get("virial"), Some(InfoValue::IntArray(v)) if v.len() == 9));
}

#[test]
fn velocity_columns_in_angstrom_per_fs_and_momenta_in_ase_units() {
    let text = "1\nProperties=species:S:1:pos:R:3:velo:R:3\nH 0 0 0 0.01 0.02 0.03\n";
    assert_eq!(read_text(text).unwrap()[0].velocities, Some(vec![[0.01, 0.02, 0.03]]));
    // p = m v / fs_ASE: a hydrogen atom (1.008 amu) at 1 Å/fs has momentum 1.008 / 0.0982269... .
    let p = 1.008 / extxyz::ASE_FS;
    let text = format!("1\nProperties=species:S:1:pos:R:3:momenta:R:3\nH 0 0 0 {p:?} 0 0\n");
    let v = read_text(&text).unwrap()[0].velocities.clone().unwrap();
    assert!((v[0][0] - 1.0).abs() < 1e-15, "{v:?}");
}

#[test]
fn strings_that_look_like_numbers_read_back_as_numbers_as_in_ase() {
    // A documented limit of the format (ASE behaves the same): such strings cannot keep their type.
    let mut frame = Structure::new(Cell::default(), vec![Element(1)], vec![[0.0; 3]]).unwrap();
    frame.info.insert("code".into(), InfoValue::Str("12".into()));
    let back = &read_text(&write_text(&[frame])).unwrap()[0];
    assert_eq!(back.info["code"], InfoValue::Int(12));
}

#[test]
fn frames_that_cannot_be_written_are_refused() {
    let mut frame = Structure::new(Cell::default(), vec![Element(1)], vec![[0.0; 3]]).unwrap();
    frame.info.insert("Lattice".into(), InfoValue::Int(1));
    assert!(extxyz::write_frame(&mut Vec::new(), &frame, &WriteOptions::default()).is_err());
    frame.info.clear();
    frame.info.insert("text".into(), InfoValue::Str("two\nlines".into()));
    assert!(extxyz::write_frame(&mut Vec::new(), &frame, &WriteOptions::default()).is_err());
    frame.info.clear();
    frame
        .set_property(
            "velo",
            Property::Real {
                data: vec![0.0; 3],
                columns: 3,
            },
        )
        .unwrap();
    let err = extxyz::write_frame(&mut Vec::new(), &frame, &WriteOptions::default()).unwrap_err();
    assert!(err.to_string().contains("read back as a structure field"), "{err}");
}

/// Bad inputs in tests/fixtures/bad with the message each must give (file name, line and field).
#[test]
fn bad_inputs_name_file_line_and_field() {
    let cases = [
        (
            "xyz_bad_count.xyz",
            r#"xyz_bad_count.xyz line 1: expected the number of atoms, found "abc""#,
        ),
        (
            "xyz_short_frame.xyz",
            "xyz_short_frame.xyz line 5: expected atom 3 of 3, found the end of the file",
        ),
        (
            "xyz_bad_lattice.xyz",
            "xyz_bad_lattice.xyz line 2: key Lattice: expected 9 numbers, found 8 integers",
        ),
        // Frame 2's comment line is line 2 + 4 (frame 1: count, comment, 2 atoms); its atom is line 7.
        (
            "xyz_bad_number_frame2.xyz",
            r#"xyz_bad_number_frame2.xyz line 7: column pos: expected a finite real number, found "abc""#,
        ),
        (
            "xyz_nan.xyz",
            r#"xyz_nan.xyz line 3: column pos: expected a finite real number, found "nan""#,
        ),
        (
            "xyz_bad_properties.xyz",
            r#"xyz_bad_properties.xyz line 2: Properties: "pos": expected type R, I, S or L, found "X""#,
        ),
        (
            "xyz_unknown_element.xyz",
            r#"xyz_unknown_element.xyz line 3: column species: expected an element symbol, found "Qq""#,
        ),
        (
            "xyz_bad_pbc.xyz",
            "xyz_bad_pbc.xyz line 2: key pbc: expected 3 booleans (T or F), found 2 booleans",
        ),
        (
            "xyz_unclosed_quote.xyz",
            "xyz_unclosed_quote.xyz line 2: unclosed quote",
        ),
        (
            "xyz_too_many_columns.xyz",
            "xyz_too_many_columns.xyz line 3: expected 5 values (Properties), found 6",
        ),
        (
            "xyz_bad_stress.xyz",
            "xyz_bad_stress.xyz line 2: key stress: expected 9 numbers, found 3 integers",
        ),
        (
            "xyz_pos_wrong_type.xyz",
            r#"xyz_pos_wrong_type.xyz line 2: Properties: "pos" must be R:3, found I:3"#,
        ),
        (
            "xyz_huge_count.xyz",
            "xyz_huge_count.xyz line 4: expected atom 2 of 10000000000000, found the end of the file",
        ),
        (
            "xyz_bad_int.xyz",
            r#"xyz_bad_int.xyz line 3: column tag: expected an integer, found "1.5""#,
        ),
        (
            "xyz_no_positions.xyz",
            "xyz_no_positions.xyz line 2: Properties: no pos (R:3) column",
        ),
        // Found by the fuzzer: a column count of 10^15 must not reserve memory before atoms are read.
        (
            "xyz_fuzz_huge_column_count.xyz",
            r#"xyz_fuzz_huge_column_count.xyz line 3: column momenta: expected a finite real number, found "6\"""#,
        ),
        (
            "xyz_inf_energy.xyz",
            r#"xyz_inf_energy.xyz line 2: key energy: non-finite number "inf""#,
        ),
    ];
    for (name, message) in cases {
        let path = fixture(&format!("bad/{name}"));
        let result: Result<Vec<_>, _> = read_file(&path, None, &ReadOptions::default()).unwrap().collect();
        let error = result.expect_err(name).to_string();
        assert!(
            error.contains(message),
            "{name}:\n  got      {error}\n  expected {message}"
        );
    }
}

#[test]
fn reading_stops_after_an_error() {
    let mut frames = read_frames(
        std::io::Cursor::new("x\n1\n\nH 0 0 0\n".to_string()),
        "s",
        Format::ExtXyz,
        &ReadOptions::default(),
    );
    assert!(frames.next().unwrap().is_err());
    assert!(frames.next().is_none());
}

// ---------------------------------------------------------------------------------------------------------
// Streaming in constant memory: a reader over 100 000 generated frames, with the bytes this thread holds
// counted by a global allocator.

struct CountingAllocator;

thread_local! {
    static LIVE_BYTES: StdCell<isize> = const { StdCell::new(0) };
    static PEAK_BYTES: StdCell<isize> = const { StdCell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE_BYTES.try_with(|live| {
        live.set(live.get() + delta);
        let _ = PEAK_BYTES.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Extended XYZ text generated frame by frame: frame k has energy −k and its first atom at x = k.
struct GeneratedTrajectory {
    next: usize,
    frames: usize,
    pending: Vec<u8>,
    offset: usize,
}

impl Read for GeneratedTrajectory {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.offset == self.pending.len() {
            if self.next == self.frames {
                return Ok(0);
            }
            let k = self.next;
            self.pending.clear();
            self.pending.extend_from_slice(
                format!(
                    "3\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3:forces:R:3 energy={} step={k}\n\
                     Li {k}.0 0 0 0.1 0.2 0.3\nO 1 1 1 0 0 0\nO 2 2 2 -0.1 -0.2 -0.3\n",
                    -(k as f64)
                )
                .as_bytes(),
            );
            self.offset = 0;
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len() - self.offset);
        buf[..n].copy_from_slice(&self.pending[self.offset..self.offset + n]);
        self.offset += n;
        Ok(n)
    }
}

#[test]
fn reading_a_long_stream_uses_constant_memory() {
    const FRAMES: usize = 100_000;
    const BUDGET_BYTES: isize = 64 * 1024;
    let source = GeneratedTrajectory {
        next: 0,
        frames: FRAMES,
        pending: Vec::with_capacity(512),
        offset: 0,
    };
    let reader = extxyz::Reader::new(BufReader::new(source), "generated", &ReadOptions::default());
    let baseline = LIVE_BYTES.with(|l| l.get());
    PEAK_BYTES.with(|p| p.set(baseline));
    let mut count = 0;
    for (k, frame) in reader.enumerate() {
        let frame = frame.unwrap();
        assert_eq!(frame.results.energy, Some(-(k as f64)));
        assert_eq!(frame.positions[0][0], k as f64);
        assert_eq!(frame.info["step"], InfoValue::Int(k as i64));
        count += 1;
    }
    assert_eq!(count, FRAMES);
    let peak = PEAK_BYTES.with(|p| p.get()) - baseline;
    assert!(peak < BUDGET_BYTES, "peak {peak} bytes while streaming {FRAMES} frames");
}
