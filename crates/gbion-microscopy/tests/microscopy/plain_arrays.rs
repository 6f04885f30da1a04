//! Plain arrays: `.npy` (written here byte by byte from the NumPy format description), CSV/TSV, 16/32-bit
//! TIFF (written with the `tiff` encoder) and the TOML sidecar calibration.

use gbion_microscopy::array::{Calibration, read, read_calibration, sidecar_path};
use gbion_microscopy::{Axis, Dataset};
use std::path::Path;

fn npy(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(payload);
    bytes
}

#[test]
fn npy_spectrum_image_with_sidecar_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("si.npy");
    let values: Vec<f32> = (0..2 * 3 * 4).map(|v| v as f32 * 0.5).collect();
    let payload: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&path, npy("<f4", "(2, 3, 4)", &payload)).unwrap();
    std::fs::write(
        sidecar_path(&path),
        "[energy]\noffset = 1700.0\nscale = 0.5\nunits = \"eV\"\n[x]\nscale = 0.2\nunits = \"nm\"\n",
    )
    .unwrap();
    let cal = read_calibration(&sidecar_path(&path)).unwrap();
    let Dataset::SpectrumImage(si) = read(&path, &cal).unwrap() else {
        panic!()
    };
    assert_eq!((si.nx(), si.ny(), si.ne()), (3, 2, 4));
    assert_eq!(
        si.energy,
        Axis {
            size: 4,
            offset: 1700.0,
            scale: 0.5,
            units: "eV".into()
        }
    );
    assert_eq!(si.x.scale, 0.2);
    // C order (y, x, E): pixel (ix=2, iy=1) starts at ((1·3)+2)·4 = 20.
    assert_eq!(si.spectrum(2, 1), &[10.0, 10.5, 11.0, 11.5]);
}

#[test]
fn npy_big_endian_integers_and_bad_headers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.npy");
    let values: [i16; 6] = [-3, 2, 1000, -32768, 7, 0];
    let payload: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    std::fs::write(&path, npy(">i2", "(2, 3)", &payload)).unwrap();
    let Dataset::Image(image) = read(&path, &Calibration::default()).unwrap() else {
        panic!()
    };
    assert_eq!(image.data, values.map(f64::from).to_vec());
    assert_eq!((image.nx(), image.ny()), (3, 2));
    std::fs::write(&path, npy("<c16", "(2, 3)", &payload)).unwrap();
    let err = read(&path, &Calibration::default()).unwrap_err().to_string();
    assert!(err.contains("descr") && err.contains("c16"), "{err}");
    std::fs::write(&path, npy("<i2", "(4, 3)", &payload)).unwrap();
    assert!(
        read(&path, &Calibration::default())
            .unwrap_err()
            .to_string()
            .contains("needs 12 values")
    );
}

#[test]
fn csv_rows_are_spectra_when_an_energy_axis_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scan.csv");
    std::fs::write(&path, "# a line scan\n1,2,3\n4,5,6\n").unwrap();
    let Dataset::Image(image) = read(&path, &Calibration::default()).unwrap() else {
        panic!()
    };
    assert_eq!(image.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let cal: Calibration = toml::from_str("[energy]\noffset = 10.0\nscale = 1.0\n").unwrap();
    let Dataset::SpectrumImage(si) = read(&path, &cal).unwrap() else {
        panic!()
    };
    assert_eq!((si.nx(), si.ny(), si.ne()), (2, 1, 3));
    assert_eq!(si.spectrum(1, 0), &[4.0, 5.0, 6.0]);
    let tsv = dir.path().join("bad.tsv");
    std::fs::write(&tsv, "1\t2\n3\tx\n").unwrap();
    let err = read(&tsv, &Calibration::default()).unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("column 2") && err.contains("\"x\""),
        "{err}"
    );
}

#[test]
fn sidecar_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.toml");
    std::fs::write(&path, "[energy]\nscale = 1.0\nunit = \"eV\"\n").unwrap();
    let err = read_calibration(&path).unwrap_err().to_string();
    assert!(err.contains("line 3") && err.contains("unit"), "{err}");
}

fn tiff_round_trip<C: tiff::encoder::colortype::ColorType>(path: &Path, data: &[C::Inner]) -> Vec<f64>
where
    [C::Inner]: tiff::encoder::TiffValue,
{
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = tiff::encoder::TiffEncoder::new(file).unwrap();
    encoder.write_image::<C>(4, 3, data).unwrap();
    let Dataset::Image(image) = read(path, &Calibration::default()).unwrap() else {
        panic!()
    };
    assert_eq!((image.nx(), image.ny()), (4, 3));
    image.data
}

#[test]
fn tiff_16_and_32_bit_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let u16s: Vec<u16> = (0..12).map(|v| v * 5000).collect();
    let got = tiff_round_trip::<tiff::encoder::colortype::Gray16>(&dir.path().join("a.tif"), &u16s);
    assert_eq!(got, u16s.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
    let f32s: Vec<f32> = (0..12).map(|v| v as f32 * -0.25).collect();
    let got = tiff_round_trip::<tiff::encoder::colortype::Gray32Float>(&dir.path().join("b.tiff"), &f32s);
    assert_eq!(got, f32s.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
}
