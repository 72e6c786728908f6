//! The Rust vtables against the C++ headers: compiles `tests/abi_probe/probe.cpp` against
//! `include/`, runs it, and compares every `Interface method slot` line with
//! `infer8::abi::slot_table()`, plus the layout of `Dims`, `Weights` and `Permutation`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use infer8::abi::dims::{Dims, Permutation, RawWeights};

/// Interfaces the headers declare that infer8 neither implements nor calls (yet). A new interface
/// in the probe must be added here or to the Rust tables.
const NOT_IMPLEMENTED: &[&str] = &[
    "IGpuAllocator",
    "IIteratorLayer",
    "ILoop",
    "ILoopBoundaryLayer",
    "ILoopOutputLayer",
    "IRNNLayer",
    "IRNNv2Layer",
    "IRefitter",
    "IRuntimePluginFactory",
    "IResizeLayer",
    "ITripLimitLayer",
];

/// The probe's output, compiled and run once for both tests.
fn run_probe() -> Option<&'static str> {
    static OUTPUT: OnceLock<Option<String>> = OnceLock::new();
    OUTPUT.get_or_init(compile_and_run).as_deref()
}

fn compile_and_run() -> Option<String> {
    if Command::new("g++").arg("--version").output().is_err() {
        eprintln!("skipped: g++ is not installed");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("infer8-abi-probe-{}", std::process::id()));
    let status = Command::new("g++")
        .args(["-std=c++11", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root.join("include"))
        .arg("-I")
        .arg(root.join("c_examples/cudart_host/include"))
        .arg(root.join("tests/abi_probe/probe.cpp"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run g++");
    assert!(
        status.success(),
        "the ABI probe does not compile against include/"
    );
    let output = Command::new(&out).output().expect("run the probe");
    let _ = std::fs::remove_file(&out);
    assert!(
        output.status.success(),
        "the probe's own checks failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(String::from_utf8(output.stdout).expect("probe output is UTF-8"))
}

#[test]
fn vtable_slots_match_the_headers() {
    let Some(text) = run_probe() else { return };
    let mut probe: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if let [iface, method, slot] = parts[..]
            && iface.starts_with('I')
        {
            probe.insert(
                (iface.to_string(), method.to_string()),
                slot.parse().expect("slot number"),
            );
        }
    }
    assert!(
        probe.len() > 500,
        "the probe printed only {} slots",
        probe.len()
    );

    let table = infer8::abi::slot_table();
    let mut ours: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (iface, method, slot) in &table {
        let old = ours.insert((iface.to_string(), method.to_string()), *slot);
        assert!(
            old.is_none(),
            "{iface}::{method} appears twice in the Rust tables"
        );
    }
    let implemented: BTreeSet<&str> = table.iter().map(|e| e.0).collect();

    let mut errors = Vec::new();
    let mut compared = 0;
    for ((iface, method), &slot) in &probe {
        if NOT_IMPLEMENTED.contains(&iface.as_str()) {
            continue;
        }
        if !implemented.contains(iface.as_str()) {
            errors.push(format!("interface {iface} is in the headers but neither in the Rust tables nor in NOT_IMPLEMENTED"));
            continue;
        }
        match ours.get(&(iface.clone(), method.clone())) {
            Some(&s) if s == slot => compared += 1,
            Some(&s) => errors.push(format!("{iface}::{method}: C++ slot {slot}, Rust slot {s}")),
            None => errors.push(format!(
                "{iface}::{method} (slot {slot}) is missing from the Rust vtable"
            )),
        }
    }
    for ((iface, method), slot) in &ours {
        if !method.starts_with('~') && !probe.contains_key(&(iface.clone(), method.clone())) {
            errors.push(format!(
                "Rust {iface}::{method} (slot {slot}) is not declared by the headers"
            ));
        }
    }
    // Destructor pairs sit where the headers' comments put them: right after a method slot or at
    // the end, and never where a method is.
    for ((iface, method), slot) in &ours {
        if method.starts_with('~') && probe.iter().any(|((i, _), s)| i == iface && s == slot) {
            errors.push(format!(
                "{iface} destructor slot {slot} is a method slot in C++"
            ));
        }
    }
    assert!(
        errors.is_empty(),
        "{} mismatches:\n{}",
        errors.len(),
        errors.join("\n")
    );
    eprintln!(
        "{compared} slots of {} interfaces match; {} interfaces not implemented",
        implemented.len(),
        NOT_IMPLEMENTED.len()
    );
}

#[test]
fn value_type_layouts_match_the_headers() {
    let Some(text) = run_probe() else { return };
    let value = |key: &str| -> usize {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(key)
                    .map(|v| v.trim().parse().expect("a number"))
            })
            .unwrap_or_else(|| panic!("the probe did not print '{key}'"))
    };
    assert_eq!(value("sizeof Dims "), std::mem::size_of::<Dims>());
    assert_eq!(value("offsetof Dims d "), std::mem::offset_of!(Dims, d));
    assert_eq!(
        value("offsetof Dims type "),
        std::mem::offset_of!(Dims, type_)
    );
    assert_eq!(value("sizeof Weights "), std::mem::size_of::<RawWeights>());
    assert_eq!(
        value("offsetof Weights values "),
        std::mem::offset_of!(RawWeights, values)
    );
    assert_eq!(
        value("offsetof Weights count "),
        std::mem::offset_of!(RawWeights, count)
    );
    assert_eq!(
        value("sizeof Permutation "),
        std::mem::size_of::<Permutation>()
    );
}
