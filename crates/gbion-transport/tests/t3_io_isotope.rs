//! Readers (line-scan CSV, text matrices, TIFF) and the isotope fraction of eqn 1 (paper 003).

use gbion_transport::image::Image;
use gbion_transport::io::{
    self, IoError, IsotopeImage, ScanValues, parse_line_scan, parse_matrix_text, read_isotope_image,
};
use gbion_transport::isotope::{self, IsotopeError, NATURAL_6LI_FRACTION};
use std::path::Path;

const SRC: &str = "scan.csv";

#[test]
fn line_scan_fraction_column_in_mm_is_converted_to_metres() {
    let text = "# comment\nx_mm,f6\n0.0,0.9\n0.5,0.5\n1.5,0.1\n";
    let scan = parse_line_scan(text, Path::new(SRC)).unwrap();
    assert_eq!(scan.position_m, vec![0.0, 0.5e-3, 1.5e-3]);
    assert_eq!(scan.values, ScanValues::Fraction(vec![0.9, 0.5, 0.1]));
}

#[test]
fn line_scan_position_units_from_column_suffix() {
    for (name, metres) in [
        ("position_um", 1e-6),
        ("y_cm", 1e-2),
        ("x_nm", 1e-9),
        ("x_m", 1.0),
        ("x_µm", 1e-6),
    ] {
        let text = format!("{name},fraction\n2,0.3\n");
        let scan = parse_line_scan(&text, Path::new(SRC)).unwrap();
        approx::assert_relative_eq!(scan.position_m[0], 2.0 * metres, max_relative = 1e-15);
    }
}

#[test]
fn line_scan_count_columns_give_eqn1_fraction() {
    let text = "x_um\tcounts_6Li\tcounts_7Li\n0\t30\t70\n1\t0\t0\n2\t10\t90\n";
    let scan = parse_line_scan(text, Path::new(SRC)).unwrap();
    let ScanValues::Counts { li6, li7 } = &scan.values else {
        panic!("expected counts")
    };
    assert_eq!(
        (li6.clone(), li7.clone()),
        (vec![30.0, 0.0, 10.0], vec![70.0, 0.0, 90.0])
    );
    let profile = isotope::scan_fraction(&scan).unwrap();
    // The zero-count point is dropped; the rest follow C = I6 / (I6 + I7).
    assert_eq!(profile.position_m, vec![0.0, 2e-6]);
    assert_eq!(profile.fraction, vec![0.3, 0.1]);
    let sigma = profile.sigma.unwrap();
    approx::assert_relative_eq!(sigma[0], (0.3f64 * 0.7 / 100.0).sqrt(), max_relative = 1e-12);
}

#[test]
fn line_scan_errors_name_file_line_and_column() {
    let err = parse_line_scan("x_mm,f6\n0,0.1\n1,abc\n", Path::new(SRC)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, IoError::BadNumber { line: 3, column: 2, .. }), "{msg}");
    assert!(msg.contains("scan.csv") && msg.contains("line 3") && msg.contains("column 2") && msg.contains("f6"));

    let err = parse_line_scan("x,f6\n0,0.1\n", Path::new(SRC)).unwrap_err();
    assert!(err.to_string().contains("length unit suffix"), "{err}");
    let err = parse_line_scan("x_mm,intensity\n0,0.1\n", Path::new(SRC)).unwrap_err();
    assert!(err.to_string().contains("fraction column"), "{err}");
    let err = parse_line_scan("x_mm,f6\n0,0.1\n1\n", Path::new(SRC)).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::Ragged {
                line: 3,
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
    let err = parse_line_scan("x_mm,f6\n", Path::new(SRC)).unwrap_err();
    assert!(matches!(err, IoError::Empty { .. }), "{err}");
    let err = parse_line_scan("x_mm,f6\n0,inf\n", Path::new(SRC)).unwrap_err();
    assert!(matches!(err, IoError::BadNumber { .. }), "{err}");
}

#[test]
fn matrix_delimiters_are_sniffed_and_round_trip() {
    let expected = Image::new(3, 2, vec![1.0, 2.5, -3.0, 4.0, 5.0, 6.0]).unwrap();
    for text in [
        "1,2.5,-3\n4,5,6\n",
        "1\t2.5\t-3\n4\t5\t6\n",
        "# c\n1 2.5  -3\n\n4 5 6\n",
        "1;2.5;-3\n4;5;6",
    ] {
        assert_eq!(
            parse_matrix_text(text, Path::new("m.txt")).unwrap(),
            expected,
            "{text:?}"
        );
    }
    let odd = Image::new(2, 2, vec![0.1, 1.0 / 3.0, 2e-300, -7.25e12]).unwrap();
    let mut buf = Vec::new();
    io::write_matrix_csv(&odd, &mut buf).unwrap();
    assert_eq!(
        parse_matrix_text(std::str::from_utf8(&buf).unwrap(), Path::new("m.csv")).unwrap(),
        odd
    );
}

#[test]
fn matrix_errors_name_line_and_column() {
    let err = parse_matrix_text("1,2\n3,x\n", Path::new("m.csv")).unwrap_err();
    assert!(matches!(err, IoError::BadNumber { line: 2, column: 2, .. }), "{err}");
    let err = parse_matrix_text("1,2\n3\n", Path::new("m.csv")).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::Ragged {
                line: 2,
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn tiff_two_pages_and_two_files_round_trip_as_counts() {
    let dir = tempfile::tempdir().unwrap();
    let li6 = Image::new(3, 2, vec![0.0, 1.0, 65535.0, 300.0, 4.0, 5.0]).unwrap();
    let li7 = Image::new(3, 2, vec![10.0, 20.0, 30.0, 40.0, 0.0, 60.0]).unwrap();
    let both = dir.path().join("both.tif");
    io::write_tiff_u16(&[&li6, &li7], &mut std::fs::File::create(&both).unwrap()).unwrap();
    let expected = IsotopeImage::Counts {
        li6: li6.clone(),
        li7: li7.clone(),
    };
    assert_eq!(read_isotope_image(both.to_str().unwrap()).unwrap(), expected);

    let (a, b) = (dir.path().join("6.tif"), dir.path().join("7.csv"));
    io::write_tiff_u16(&[&li6], &mut std::fs::File::create(&a).unwrap()).unwrap();
    io::write_matrix_csv(&li7, &mut std::fs::File::create(&b).unwrap()).unwrap();
    let spec = format!("{},{}", a.display(), b.display());
    assert_eq!(read_isotope_image(&spec).unwrap(), expected);
    // A single page is a fraction image.
    assert_eq!(
        read_isotope_image(a.to_str().unwrap()).unwrap(),
        IsotopeImage::Fraction(li6)
    );
}

#[test]
fn tiff_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tif");
    std::fs::write(&bad, b"not a tiff").unwrap();
    let err = read_isotope_image(bad.to_str().unwrap()).unwrap_err();
    assert!(err.to_string().contains("bad.tif"), "{err}");
    let err = read_isotope_image(dir.path().join("missing.csv").to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, IoError::Open { .. }) && err.to_string().contains("missing.csv"),
        "{err}"
    );
}

#[test]
fn grain_map_rejects_non_integer_ids() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.csv");
    std::fs::write(&p, "0,0,1\n2,2,1\n").unwrap();
    let g = io::read_grain_map(&p).unwrap();
    assert_eq!((g.nx, g.ny, g.at(2, 1)), (3, 2, 1));
    std::fs::write(&p, "0,0.5\n").unwrap();
    assert!(io::read_grain_map(&p).unwrap_err().to_string().contains("(x 1, y 0)"));
}

#[test]
fn fraction_counting_uncertainty_is_binomial() {
    let f = isotope::fraction_from_counts(759.0, 9241.0).unwrap();
    assert_eq!(f.value, NATURAL_6LI_FRACTION);
    approx::assert_relative_eq!(f.sigma, (0.0759f64 * 0.9241 / 1e4).sqrt(), max_relative = 1e-12);
    // Pure channels do not get zero uncertainty.
    assert_eq!(isotope::fraction_from_counts(0.0, 50.0).unwrap().sigma, 1.0 / 50.0);
    assert_eq!(isotope::fraction_from_counts(0.0, 0.0), Err(IsotopeError::NoCounts));
    assert!(matches!(
        isotope::fraction_from_counts(-1.0, 5.0),
        Err(IsotopeError::BadIntensity { .. })
    ));
    assert!(matches!(
        isotope::fraction_from_counts(f64::NAN, 5.0),
        Err(IsotopeError::BadIntensity { .. })
    ));
}

#[test]
fn normalisation_maps_baseline_to_0_and_source_to_1() {
    let fs = 0.95;
    assert_eq!(
        isotope::normalise(NATURAL_6LI_FRACTION, NATURAL_6LI_FRACTION, fs).unwrap(),
        0.0
    );
    assert_eq!(isotope::normalise(fs, NATURAL_6LI_FRACTION, fs).unwrap(), 1.0);
    assert!(isotope::normalise(0.5, 0.3, 0.3).is_err());
}

#[test]
fn fraction_image_marks_empty_pixels_invalid() {
    let li6 = Image::new(2, 1, vec![25.0, 0.0]).unwrap();
    let li7 = Image::new(2, 1, vec![75.0, 0.0]).unwrap();
    let f = isotope::fraction_image(&li6, &li7).unwrap();
    assert_eq!(f.valid, vec![true, false]);
    assert_eq!(f.fraction.data, vec![0.25, 0.0]);
    assert_eq!(f.valid_count(), 1);
}

#[test]
fn pixel_lines_file_with_header_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("lines.csv");
    std::fs::write(&p, "x0,y0,x1,y1\n# first GB\n1,2,3,4\n5.5, 6, 7, 8\n").unwrap();
    assert_eq!(
        io::read_pixel_lines(&p).unwrap(),
        vec![[1.0, 2.0, 3.0, 4.0], [5.5, 6.0, 7.0, 8.0]]
    );
    std::fs::write(&p, "1 2 3 4\n1 2 3\n").unwrap();
    let err = io::read_pixel_lines(&p).unwrap_err();
    assert!(
        matches!(
            err,
            IoError::Ragged {
                line: 2,
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{err}"
    );
    std::fs::write(&p, "x0,y0,x1,y1\n1,2,3,y\n").unwrap();
    let err = io::read_pixel_lines(&p).unwrap_err();
    assert!(matches!(err, IoError::BadNumber { line: 2, column: 4, .. }), "{err}");
}

#[test]
fn normalised_image_scales_values_and_sigmas() {
    let li6 = Image::new(3, 1, vec![759.0, 0.0, 9500.0]).unwrap();
    let li7 = Image::new(3, 1, vec![9241.0, 0.0, 500.0]).unwrap();
    let f = isotope::fraction_image(&li6, &li7).unwrap();
    let n = isotope::normalise_image(&f, NATURAL_6LI_FRACTION, 0.95).unwrap();
    approx::assert_abs_diff_eq!(n.fraction.data[0], 0.0, epsilon = 1e-15);
    approx::assert_relative_eq!(n.fraction.data[2], 1.0, max_relative = 1e-14);
    assert_eq!((n.fraction.data[1], n.valid.clone()), (0.0, vec![true, false, true]));
    let (s, sn) = (f.sigma.unwrap().data, n.sigma.unwrap().data);
    approx::assert_relative_eq!(sn[2], s[2] / (0.95 - NATURAL_6LI_FRACTION), max_relative = 1e-14);
}
