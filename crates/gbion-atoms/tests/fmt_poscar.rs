//! VASP POSCAR/CONTCAR: ASE-written fixtures (and a hand-made negative-scale file) read to ASE's parsed
//! values, exact write → read round trips, grouping by species, VASP 4/5/6 variants, scaling factors,
//! velocity blocks, and bad inputs with their messages.

use gbion_atoms::io::poscar::{self, Coordinates, SELECTIVE_DYNAMICS};
use gbion_atoms::io::{Format, ReadOptions, WriteOptions, read_file, read_frames, write_file};
use gbion_atoms::structure::tags;
use gbion_atoms::{Cell, Element, InfoValue, Property, Structure};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Agreement with ASE's values: both parse the same 16-decimal text, so only rounding separates them.
const ASE_TOLERANCE: f64 = 1e-10;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn read_one(path: &Path) -> Structure {
    let mut frames = read_file(path, Some(Format::Poscar), &ReadOptions::default()).unwrap();
    let frame = frames
        .next()
        .unwrap()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(frames.next().is_none(), "a POSCAR holds one frame");
    frame
}

fn read_text_with(text: &str, options: &ReadOptions) -> Result<Structure, gbion_atoms::Error> {
    read_frames(
        std::io::Cursor::new(text.to_string()),
        "POSCAR",
        Format::Poscar,
        options,
    )
    .next()
    .unwrap()
}

fn read_text(text: &str) -> Result<Structure, gbion_atoms::Error> {
    read_text_with(text, &ReadOptions::default())
}

fn write_text(frame: &Structure, coordinates: Coordinates) -> String {
    let mut out = Vec::new();
    poscar::write_poscar(&mut out, frame, coordinates).unwrap();
    String::from_utf8(out).unwrap()
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
        assert!(
            (g - w).abs() <= ASE_TOLERANCE * w.abs().max(1.0),
            "{what}[{i}]: gbion {g} vs ASE {w}"
        );
    }
}

/// The selective-dynamics flags (T = may move) per atom, from gbion's property.
fn may_move(frame: &Structure) -> Option<Vec<Vec<bool>>> {
    match frame.properties.get(SELECTIVE_DYNAMICS)? {
        Property::Bool { data, columns: 3 } => Some(data.chunks(3).map(<[bool]>::to_vec).collect()),
        other => panic!("selective_dynamics is {other:?}"),
    }
}

/// gbion's frame against ASE's values; `order` maps gbion's atom i to ASE's atom order[i].
fn assert_matches_ase(frame: &Structure, want: &Value, order: &[usize], what: &str) {
    let want_symbols: Vec<&str> = want["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    let symbols: Vec<&str> = frame.symbols().collect();
    assert_eq!(
        symbols,
        order.iter().map(|&i| want_symbols[i]).collect::<Vec<_>>(),
        "{what}: symbols"
    );
    assert_all_close(
        frame.cell.matrix().iter().flatten().copied(),
        &want["cell"],
        &format!("{what}: cell"),
    );
    assert_all_close([frame.cell.volume()], &want["volume"], &format!("{what}: volume"));
    let pick = |key: &str| Value::Array(order.iter().map(|&i| want[key][i].clone()).collect());
    assert_all_close(
        frame.positions.iter().flatten().copied(),
        &pick("positions"),
        &format!("{what}: positions"),
    );
    match (&frame.velocities, want["velocities"].is_null()) {
        (None, true) => {}
        (Some(v), false) => assert_all_close(v.iter().flatten().copied(), &pick("velocities"), &format!("{what}: v")),
        _ => panic!("{what}: velocities present on one side only"),
    }
    let want_flags: Option<Vec<Vec<bool>>> = (!want["may_move"].is_null()).then(|| {
        order
            .iter()
            .map(|&i| {
                want["may_move"][i]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b.as_bool().unwrap())
                    .collect()
            })
            .collect()
    });
    assert_eq!(may_move(frame), want_flags, "{what}: selective dynamics");
    if let Some(flags) = want_flags {
        let fixed: Vec<i64> = flags.iter().map(|f| i64::from(f.iter().all(|m| !m))).collect();
        assert_eq!(frame.int_tag(tags::FIXED), Some(&fixed[..]), "{what}: fixed tag");
    }
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("poscar/expected.json")).unwrap()).unwrap()
}

const FIXTURES: [&str; 3] = ["POSCAR_direct", "CONTCAR_cartesian", "POSCAR_negative_scale"];

#[test]
fn ase_fixtures_read_to_ase_values() {
    let expected = expected();
    for name in FIXTURES {
        let frame = read_one(&fixture(&format!("poscar/{name}")));
        let identity: Vec<usize> = (0..frame.len()).collect();
        assert_matches_ase(&frame, &expected[name], &identity, name);
    }
}

#[test]
fn negative_scaling_factor_is_the_cell_volume() {
    // Hand-made file: unit lattice vectors, scaling factor −59.319 = 3.9³ Å³.
    let frame = read_one(&fixture("poscar/POSCAR_negative_scale"));
    assert!((frame.cell.volume() - 59.319).abs() < 1e-12);
    for length in frame.cell.lengths() {
        assert!((length - 3.9).abs() < 1e-14, "{length}");
    }
    assert!((frame.positions[1][0] - 1.95).abs() < 1e-14);
}

/// ASE's species order "Li Ta O Sr Zr O" regrouped by first appearance: Li Ta O×6 Sr Zr.
fn grouped_ase_order(symbols: &[&str]) -> Vec<usize> {
    let mut kinds: Vec<&str> = Vec::new();
    for s in symbols {
        if !kinds.contains(s) {
            kinds.push(s);
        }
    }
    kinds
        .iter()
        .flat_map(|k| (0..symbols.len()).filter(move |&i| symbols[i] == *k))
        .collect()
}

/// gbion writes each fixture (atoms grouped by species); reading the result gives ASE's values in the
/// grouped order, and writing again changes nothing. Files are left in `target/tmp/ase_check/poscar`
/// for `make_fixtures.py --check`.
#[test]
fn gbion_writes_fixtures_back_to_the_same_values() {
    let expected = expected();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ase_check/poscar");
    std::fs::create_dir_all(&out_dir).unwrap();
    for name in FIXTURES {
        let frame = read_one(&fixture(&format!("poscar/{name}")));
        let path = out_dir.join(name);
        write_file(
            &path,
            Some(Format::Poscar),
            [Ok(frame.clone())],
            &WriteOptions::default(),
        )
        .unwrap();
        let back = read_one(&path);
        let symbols: Vec<&str> = frame.symbols().collect();
        let order = grouped_ase_order(&symbols);
        assert_matches_ase(&back, &expected[name], &order, &format!("{name} rewritten"));
        let mut again = Vec::new();
        poscar::write_frame(&mut again, &back, &WriteOptions::default()).unwrap();
        assert_eq!(
            String::from_utf8(again).unwrap(),
            std::fs::read_to_string(&path).unwrap(),
            "{name}"
        );
    }
}

/// A grouped structure with every field a POSCAR carries.
fn grouped_structure() -> Structure {
    let cell = Cell::periodic([[5.43, 0.0, 0.0], [0.1, 5.2, 0.0], [-0.3, 0.7, 6.1]]).unwrap();
    let elements = ["Li", "Li", "La", "Zr", "O"]
        .map(|s| Element::from_symbol(s).unwrap())
        .to_vec();
    let positions = vec![
        [0.0, 0.0, 0.0],
        [2.715000000000001, 0.1, 1e-17],
        [1.0 / 3.0, 2.0 / 3.0, 5.999999999999999],
        [-0.5, 4.9, 3.05],
        [1.234_567_890_123_456_7, 2.0, 3.0],
    ];
    let mut s = Structure::new(cell, elements, positions).unwrap();
    s.velocities = Some(vec![
        [0.01, 0.02, 0.03],
        [-1e-3, 0.0, 2.5e-6],
        [0.0; 3],
        [1.0 / 7.0, 0.0, 0.0],
        [0.0, 0.0, -0.004],
    ]);
    s.info
        .insert("comment".into(), InfoValue::Str("LLZO fragment, step 12".into()));
    s.set_property(
        SELECTIVE_DYNAMICS,
        Property::Bool {
            data: vec![
                true, true, true, false, false, false, true, true, false, true, true, true, false, true, false,
            ],
            columns: 3,
        },
    )
    .unwrap();
    s.set_int_tag(tags::FIXED, vec![0, 1, 0, 0, 0]).unwrap();
    s
}

#[test]
fn cartesian_round_trip_is_exact() {
    let original = grouped_structure();
    let text = write_text(&original, Coordinates::Cartesian);
    assert_eq!(read_text(&text).unwrap(), original, "{text}");
    // An empty comment stays empty (the species line carries the species).
    let mut blank = original.clone();
    blank.info.insert("comment".into(), InfoValue::Str(String::new()));
    assert_eq!(read_text(&write_text(&blank, Coordinates::Cartesian)).unwrap(), blank);
}

#[test]
fn direct_round_trip_is_exact_to_rounding() {
    let original = grouped_structure();
    let back = read_text(&write_text(&original, Coordinates::Direct)).unwrap();
    for (a, b) in back.positions.iter().flatten().zip(original.positions.iter().flatten()) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
    assert_eq!(back.properties, original.properties);
    assert_eq!(back.velocities, original.velocities);
}

#[test]
fn atoms_are_grouped_by_species_on_write_and_kept_when_grouped() {
    let cell = Cell::orthorhombic([4.0, 4.0, 4.0]).unwrap();
    let elements = ["O", "Ti", "O", "Sr", "O"]
        .map(|s| Element::from_symbol(s).unwrap())
        .to_vec();
    let positions: Vec<[f64; 3]> = (0..5).map(|i| [i as f64 * 0.5, 0.0, 0.0]).collect();
    let mut s = Structure::new(cell, elements, positions).unwrap();
    s.set_int_tag(tags::FIXED, vec![1, 0, 0, 0, 1]).unwrap();
    let text = write_text(&s, Coordinates::Cartesian);
    assert!(text.contains("\nO Ti Sr\n3 1 1\n"), "{text}");
    let back = read_text(&text).unwrap();
    assert_eq!(back.symbols().collect::<Vec<_>>(), ["O", "O", "O", "Ti", "Sr"]);
    let xs: Vec<f64> = back.positions.iter().map(|p| p[0]).collect();
    assert_eq!(xs, [0.0, 1.0, 2.0, 0.5, 1.5], "positions follow their atoms");
    assert_eq!(
        back.int_tag(tags::FIXED),
        Some(&[1, 0, 1, 0, 0][..]),
        "tags follow their atoms"
    );
    // Already grouped: the order is kept.
    assert_eq!(read_text(&write_text(&back, Coordinates::Cartesian)).unwrap(), back);
}

#[test]
fn vasp4_species_come_from_the_comment_or_a_type_map() {
    let body = "1.0\n4 0 0\n0 4 0\n0 0 4\n1 2\nDirect\n0 0 0\n0.5 0.5 0.5\n0 0.5 0.5\n";
    let from_comment = read_text(&format!("Sr O  relaxed\n{body}")).unwrap();
    assert_eq!(from_comment.symbols().collect::<Vec<_>>(), ["Sr", "O", "O"]);
    let error = read_text(&format!("relaxed structure\n{body}"))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("POSCAR line 6: no species line (VASP 4 format)"),
        "{error}"
    );
    let options = ReadOptions {
        type_map: Some(vec![Element(3), Element(8)]),
        ..Default::default()
    };
    let mapped = read_text_with(&format!("relaxed structure\n{body}"), &options).unwrap();
    assert_eq!(mapped.symbols().collect::<Vec<_>>(), ["Li", "O", "O"]);
}

#[test]
fn vasp6_labels_comments_and_three_scale_factors() {
    // Three factors scale x, y, z of the lattice and of Cartesian positions.
    let text = "LLZO\n2.0 1.0 0.5\n2 0 0\n0 4 0\n1 1 8\nLa_GW/1a2b3c Zr_sv\n1 1 ! counts\nK\n1 1 1\n0.5 0.5 4\n";
    let frame = read_text(text).unwrap();
    assert_eq!(frame.symbols().collect::<Vec<_>>(), ["La", "Zr"]);
    assert_eq!(
        *frame.cell.matrix(),
        [[4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [2.0, 1.0, 4.0]]
    );
    assert_eq!(frame.positions, vec![[2.0, 1.0, 0.5], [1.0, 0.5, 2.0]]);
}

#[test]
fn positive_scale_multiplies_lattice_and_cartesian_positions_but_not_direct() {
    let head = "x\n2.0\n1 0 0\n0 1 0\n0 0 1\nH\n1\n";
    assert_eq!(
        read_text(&format!("{head}Cartesian\n0.25 0 0\n")).unwrap().positions,
        vec![[0.5, 0.0, 0.0]]
    );
    assert_eq!(
        read_text(&format!("{head}Direct\n0.25 0 0\n")).unwrap().positions,
        vec![[0.5, 0.0, 0.0]]
    );
}

#[test]
fn contcar_velocity_blocks() {
    let head = "Li O\n1.0\n4 0 0\n0 5 0\n0 0 8\nLi O\n1 1\nDirect\n0 0 0\n0.5 0.5 0.5\n";
    // Blank line, then Cartesian velocities in Å/fs.
    let plain = read_text(&format!("{head}\n0.1 0.2 0.3\n0 0 -0.1\n")).unwrap();
    assert_eq!(plain.velocities, Some(vec![[0.1, 0.2, 0.3], [0.0, 0.0, -0.1]]));
    // Direct velocities are lattice vectors per time step (POTIM, not in the file): refused.
    let error = read_text(&format!("{head}Direct\n0.25 0.2 0.0\n0 0 0.5\n"))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("POSCAR line 12: velocities in Direct coordinates"),
        "{error}"
    );
    // An MD CONTCAR: lattice velocities and vectors (skipped), then velocities, then a predictor block.
    let lattice_block = "Lattice velocities and vectors\n  1\n0 0 0\n0 0 0\n0 0 0\n4 0 0\n0 5 0\n0 0 8\n";
    let md = read_text(&format!(
        "{head}{lattice_block}\n0.1 0.2 0.3\n0 0 -0.1\n\n 1\n 0.5\n junk\n"
    ))
    .unwrap();
    assert_eq!(md.velocities, plain.velocities);
    // Only a predictor-corrector block (no velocities): nothing read.
    assert_eq!(read_text(&format!("{head}\n 1\n 0.5\n")).unwrap().velocities, None);
}

#[test]
fn selective_dynamics_sets_fixed_for_atoms_with_all_flags_false() {
    let text =
        "x\n1.0\n4 0 0\n0 4 0\n0 0 4\nLi\n3\nSelective dynamics\nDirect\n0 0 0 F F F\n0.5 0 0 T T F\n0 0.5 0 T T T\n";
    let frame = read_text(text).unwrap();
    assert_eq!(frame.int_tag(tags::FIXED), Some(&[1, 0, 0][..]));
    assert_eq!(
        may_move(&frame),
        Some(vec![
            vec![false, false, false],
            vec![true, true, false],
            vec![true, true, true]
        ])
    );
}

#[test]
fn the_stated_error_form() {
    let text = "Li O\n1.0\n4 0 0\n0 4 0\n0 0 4\nLi O\n1 1\nDirect\n0 abc 0\n0.5 0.5 0.5\n";
    assert_eq!(
        read_text(text).unwrap_err().to_string(),
        r#"POSCAR line 9: atom 1: expected 3 numbers, found "abc""#
    );
}

/// Bad inputs in tests/fixtures/bad with the message each must give (file name, line and field).
#[test]
fn bad_inputs_name_file_line_and_field() {
    let cases = [
        (
            "poscar_bad_lattice.POSCAR",
            r#"line 4: lattice vector b: expected 3 numbers, found "abc""#,
        ),
        (
            "poscar_bad_scale.POSCAR",
            r#"line 2: scaling factor: expected one non-zero number or three positive numbers, found "x""#,
        ),
        (
            "poscar_bad_position.POSCAR",
            r#"line 9: atom 1: expected 3 numbers, found "abc""#,
        ),
        (
            "poscar_short_position.POSCAR",
            r#"line 10: atom 2: expected 3 numbers, found 2 ("0.5 0.5")"#,
        ),
        (
            "poscar_bad_flag.POSCAR",
            r#"line 10: atom 1: selective dynamics: expected T or F, found "X""#,
        ),
        (
            "poscar_vasp4_no_species.POSCAR",
            "line 6: no species line (VASP 4 format)",
        ),
        (
            "poscar_count_mismatch.POSCAR",
            r#"line 6: species: 2 symbols for 3 counts ("Li O")"#,
        ),
        (
            "poscar_bad_mode.POSCAR",
            r#"line 8: expected Direct or Cartesian, found "Fractional""#,
        ),
        (
            "poscar_truncated.POSCAR",
            "line 11: expected the position of atom 3 of 3, found the end of the file",
        ),
        (
            "poscar_singular_lattice.POSCAR",
            "line 5: the lattice vectors span no volume",
        ),
        (
            "poscar_unknown_species.POSCAR",
            r#"line 6: species: expected an element symbol, found "Qq""#,
        ),
        (
            "poscar_nan.POSCAR",
            r#"line 10: atom 2: expected 3 numbers, found "nan""#,
        ),
        (
            "poscar_bad_velocity.POSCAR",
            r#"line 13: velocity of atom 2: expected 3 numbers, found "v""#,
        ),
        (
            "poscar_huge_count.POSCAR",
            "line 10: expected the position of atom 2 of 100000000000000, found the end of the file",
        ),
        (
            "poscar_negative_flags_scale.POSCAR",
            r#"line 2: scaling factor: expected one non-zero number or three positive numbers, found "1.0 -1.0 1.0""#,
        ),
    ];
    for (name, message) in cases {
        let path = fixture(&format!("bad/{name}"));
        let error = read_file(&path, Some(Format::Poscar), &ReadOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .expect_err(name)
            .to_string();
        let message = format!("{name} {message}");
        assert!(
            error.contains(&message),
            "{name}:\n  got      {error}\n  expected {message}"
        );
    }
}

#[test]
fn structures_a_poscar_cannot_hold_are_refused() {
    let open = Structure::new(Cell::default(), vec![Element(1)], vec![[0.0; 3]]).unwrap();
    assert!(poscar::write_frame(&mut Vec::new(), &open, &WriteOptions::default()).is_err());
    let empty = Structure::new(Cell::orthorhombic([3.0; 3]).unwrap(), vec![], vec![]).unwrap();
    assert!(poscar::write_frame(&mut Vec::new(), &empty, &WriteOptions::default()).is_err());
}
