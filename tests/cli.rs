//! The `infer8` binary on LeNet from the shared data: build, calibrate, run (accuracy equals the
//! library's), time, inspect, decode-cache, and clear one-line errors for bad arguments and files.

mod caffe_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn infer8(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_infer8"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run infer8")
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "infer8 failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("infer8-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Lenet {
    deploy: String,
    model: String,
    images: String,
    labels: String,
}

fn lenet(data: &Path) -> Lenet {
    let s = |p: &str| data.join(p).to_string_lossy().to_string();
    Lenet {
        deploy: s("models/lenet/lenet.prototxt"),
        model: s("models/lenet/lenet_iter_10000.caffemodel"),
        images: s("mnist/t10k-images-idx3-ubyte.gz"),
        labels: s("mnist/t10k-labels-idx1-ubyte.gz"),
    }
}

#[test]
fn build_calibrate_run_time_inspect() {
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let l = lenet(&data);
    let dir = scratch("flow");
    let model = [
        "--deploy", &l.deploy, "--model", &l.model, "--output", "prob", "--device", "cpu",
    ];
    let input = ["--mnist-images", &l.images, "--mnist-labels", &l.labels];

    let out = ok(&infer8(
        &[&["build"][..], &model, &["--save-engine", "lenet.engine"]].concat(),
        &dir,
    ));
    assert!(
        out.contains("lenet.engine") && dir.join("lenet.engine").is_file(),
        "{out}"
    );

    // FP32 accuracy on all 10000 test images: the library's 9914 (OpenCV's reference count).
    let out = ok(&infer8(
        &[&["run", "--engine", "lenet.engine", "--json"][..], &input].concat(),
        &dir,
    ));
    let json: serde_json::Value = serde_json::from_str(out.trim()).expect("run --json prints JSON");
    assert_eq!(json["items"], 10000);
    assert_eq!(json["top1"].as_f64(), Some(0.9914), "{out}");

    let calib = [
        &["calibrate"][..],
        &model,
        &input,
        &["--count", "500", "--cache", "cal.txt"],
    ]
    .concat();
    let out = ok(&infer8(&calib, &dir));
    assert!(out.contains("cal.txt"), "{out}");
    let cache = std::fs::read_to_string(dir.join("cal.txt")).unwrap();
    assert!(
        cache.starts_with("TRT-5105-EntropyCalibration2\n") && cache.contains("\nprob: "),
        "{cache}"
    );

    let decoded = ok(&infer8(&["decode-cache", "cal.txt"], &dir));
    assert!(decoded.lines().any(|l| l.starts_with("data ")), "{decoded}");

    let int8 = [&model[..], &["--int8", "--calib-cache", "cal.txt"]].concat();
    let out = ok(&infer8(
        &[&["run"][..], &int8, &input, &["--first", "500"]].concat(),
        &dir,
    ));
    let top1: f64 = out
        .split("Top1 ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .expect(&out);
    assert!(
        (top1 - 0.9915).abs() <= 0.001,
        "INT8 top-1 {top1} on images 500-9999"
    );

    let out = ok(&infer8(
        &[
            &["time"][..],
            &int8,
            &["--iterations", "5", "--warmup", "1", "--json"],
        ]
        .concat(),
        &dir,
    ));
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        json["median_ms"].as_f64().unwrap() > 0.0 && json["batch"] == 100,
        "{out}"
    );
    let device = json["device_median_ms"].as_f64().unwrap();
    assert!(
        device > 0.0 && device.is_finite() && json["device_runs"] == 5,
        "{out}"
    );

    let out = ok(&infer8(
        &[
            &["inspect"][..],
            &int8,
            &input,
            &["--count", "10", "--compare", "--json"],
        ]
        .concat(),
        &dir,
    ));
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let layers = json["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 8);
    let conv1 = &layers[0];
    assert_eq!(conv1["precision"], "Int8");
    // conv1's output is stored INT8 (on pool1's scale), so the entropy threshold's clipping
    // of the largest activations shows in its error; the network's output stays close.
    let err = conv1["error_vs_fp32"].as_f64().unwrap();
    assert!(err > 0.0 && err < 0.5, "conv1 INT8 error vs FP32 {err}");
    assert_eq!(layers[1]["precision"], "Int8", "pool1 runs on INT8 values");
    let prob = layers[7]["error_vs_fp32"].as_f64().unwrap();
    assert!(prob < 0.05, "prob INT8 error vs FP32 {prob}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_arguments_and_files_are_one_line_errors() {
    let dir = scratch("errors");
    std::fs::write(dir.join("garbage.engine"), b"not an engine").unwrap();
    for (args, needle) in [
        (
            &["run", "--engine", "garbage.engine", "--npy", "x.npy"][..],
            "garbage.engine",
        ),
        (
            &["run", "--engine", "missing.engine", "--npy", "x.npy"][..],
            "missing.engine",
        ),
        (&["decode-cache", "missing.txt"][..], "missing.txt"),
        (&["build", "--save-engine", "x"][..], "--deploy"),
    ] {
        let out = infer8(args, &dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            err.starts_with("infer8: ") && err.trim().lines().count() == 1 && err.contains(needle),
            "{args:?}: {err}"
        );
    }
    // clap's own errors for unknown flags, and --help on every subcommand.
    assert!(!infer8(&["run", "--no-such-flag"], &dir).status.success());
    for sub in [
        "build",
        "calibrate",
        "run",
        "time",
        "inspect",
        "decode-cache",
        "mnist-batches",
    ] {
        let out = infer8(&[sub, "--help"], &dir);
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "{sub} --help"
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

/// A folder of PGM files holding MNIST test images gives the same probabilities as the IDX file
/// itself, with `--scale 1/255` doing the IDX path's pixel/255 (within f32 rounding of the two
/// scalings: 1e-5).
#[test]
fn image_folder_input_matches_the_idx_file() {
    let Some(data) = caffe_support::data_dir() else {
        return;
    };
    let l = lenet(&data);
    let dir = scratch("images");
    let folder = dir.join("pgm");
    std::fs::create_dir_all(&folder).unwrap();
    let idx = infer8::data::mnist::read_images(Path::new(&l.images)).unwrap();
    let count = 12;
    let size = idx.rows * idx.cols;
    for i in 0..count {
        let mut pgm = format!("P5\n{} {}\n255\n", idx.cols, idx.rows).into_bytes();
        pgm.extend_from_slice(&idx.pixels[i * size..(i + 1) * size]);
        // Zero-padded names: the folder is read in name order.
        std::fs::write(folder.join(format!("img{i:03}.pgm")), pgm).unwrap();
    }
    let model = [
        "--deploy", &l.deploy, "--model", &l.model, "--output", "prob", "--device", "cpu",
    ];
    let run = |input: &[&str], out: &str| {
        let mut args = vec!["run"];
        args.extend_from_slice(&model);
        args.extend_from_slice(input);
        args.extend_from_slice(&["--save-npy", out]);
        ok(&infer8(&args, &dir));
        caffe_support::read_npy(&dir.join(out).join("prob.npy"))
    };
    let n = count.to_string();
    let (shape_a, from_idx) = run(&["--mnist-images", &l.images, "--count", &n], "idx");
    let folder_arg = folder.to_string_lossy().to_string();
    let scale = (1.0f64 / 255.0).to_string();
    let (shape_b, from_pgm) = run(&["--images", &folder_arg, "--scale", &scale], "pgm");
    assert_eq!(shape_a, shape_b);
    assert_eq!(shape_a[0], count);
    let worst = from_idx
        .iter()
        .zip(&from_pgm)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-5, "PGM folder vs IDX: max |Δprob| {worst}");
    eprintln!("PGM folder vs IDX: max |Δprob| {worst} over {count} images");
    std::fs::remove_dir_all(&dir).ok();
}
