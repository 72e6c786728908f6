//! `docs/entry-points.md` stays complete: every function of `include/infer8.h`, every exported C++
//! symbol and every C++ interface method has a row; every C function is called by some test; every
//! test file the table names exists.

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    out
}

/// `infer8_*` names followed by `(` in the C header: its functions.
fn c_functions() -> BTreeSet<String> {
    let header = read("include/infer8.h");
    let mut names = BTreeSet::new();
    for (i, _) in header.match_indices("infer8_") {
        let rest = &header[i..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with('(') {
            names.insert(rest[..end].to_string());
        }
    }
    names
}

/// Symbols the C++ ABI exports: `#[unsafe(no_mangle)]` functions and `export_name`s of `src/abi`.
fn cpp_symbols() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (_, text) in sources("src/abi") {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if let Some(rest) = line.trim().strip_prefix("#[unsafe(export_name = \"") {
                names.insert(rest.split('"').next().unwrap().to_string());
            } else if line.trim() == "#[unsafe(no_mangle)]" {
                let decl = lines[i + 1..].iter().find(|l| l.contains("fn ")).unwrap();
                let name = decl.split("fn ").nth(1).unwrap().split('(').next().unwrap();
                names.insert(name.trim().to_string());
            }
        }
    }
    names
}

/// `"Interface::method"` names the C++ boundary logs with.
fn cpp_methods() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (_, text) in sources("src/abi") {
        for piece in text.split('"').skip(1).step_by(2) {
            let Some((iface, method)) = piece.split_once("::") else {
                continue;
            };
            let ident = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '~')
            };
            if iface.starts_with('I') && ident(iface) && ident(method) {
                out.insert((iface.to_string(), method.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_c_function_has_a_row_and_a_test() {
    let doc = read("docs/entry-points.md");
    let tests: String = sources("tests")
        .into_iter()
        .filter(|(p, _)| !p.ends_with("entry_points.rs"))
        .map(|(_, t)| t)
        .collect();
    let functions = c_functions();
    assert!(
        functions.len() > 100,
        "only {} functions found",
        functions.len()
    );
    let missing: Vec<_> = functions
        .iter()
        .filter(|f| !doc.contains(&format!("| `{f}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docs/entry-points.md: {missing:?}"
    );
    let untested: Vec<_> = functions
        .iter()
        .filter(|f| !tests.contains(&format!("{f}(")))
        .collect();
    assert!(untested.is_empty(), "no test calls: {untested:?}");
}

#[test]
fn every_cpp_symbol_and_method_has_a_row() {
    let doc = read("docs/entry-points.md");
    let symbols = cpp_symbols();
    assert!(
        symbols.contains("createInferBuilder_INTERNAL"),
        "{symbols:?}"
    );
    let missing: Vec<_> = symbols
        .iter()
        .filter(|s| !doc.contains(&format!("| `{s}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "exported but not in the table: {missing:?}"
    );
    let methods = cpp_methods();
    assert!(methods.len() > 150, "only {} methods found", methods.len());
    let missing: Vec<_> = methods
        .iter()
        .filter(|(iface, method)| {
            let row = doc.lines().find(|l| l.starts_with(&format!("| `{iface}`")));
            !row.is_some_and(|r| r.split(['|', ' ']).any(|w| w == method))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "methods missing from their interface's row: {missing:?}"
    );
}

#[test]
fn every_test_file_named_exists() {
    let doc = read("docs/entry-points.md");
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for word in doc.split(['`', ' ', ',', '|']) {
        let file = word.split("::").next().unwrap();
        if file.ends_with(".rs") && !file.contains('/') {
            assert!(
                tests.join(file).exists(),
                "docs/entry-points.md names tests/{file}"
            );
        }
    }
}
