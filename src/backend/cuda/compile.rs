//! Kernel compilation: the `kernels/*.cu` sources (embedded) are compiled by NVRTC for the GPU's
//! architecture at first use and the CUBIN is cached on disk, keyed by source hash, architecture
//! and NVRTC version. The main program holds every kernel but `shallow.cu`'s specializations,
//! compiled one program per kernel when an engine first asks for one, and `chain.cu`'s, one
//! program per network. Cache folder: `INFER8_KERNEL_CACHE`, else `$XDG_CACHE_HOME/infer8`, else
//! `~/.cache/infer8`. A cache that cannot be read or written only costs a compilation.

use std::ffi::{CString, c_char};
use std::path::PathBuf;

use cudarc::nvrtc::{result as nvrtc, sys as nvrtc_sys};

/// The main NVRTC program: `common.cu` first (types and helpers), then the kernels.
const SOURCES: [(&str, &str); 15] = [
    ("common.cu", include_str!("../../../kernels/common.cu")),
    (
        "conv_args.cu",
        include_str!("../../../kernels/conv_args.cu"),
    ),
    ("conv.cu", include_str!("../../../kernels/conv.cu")),
    ("fc.cu", include_str!("../../../kernels/fc.cu")),
    ("fc_rows.cu", include_str!("../../../kernels/fc_rows.cu")),
    ("pool.cu", include_str!("../../../kernels/pool.cu")),
    ("softmax.cu", include_str!("../../../kernels/softmax.cu")),
    (
        "pointwise.cu",
        include_str!("../../../kernels/pointwise.cu"),
    ),
    ("layout.cu", include_str!("../../../kernels/layout.cu")),
    ("reduce.cu", include_str!("../../../kernels/reduce.cu")),
    ("matmul.cu", include_str!("../../../kernels/matmul.cu")),
    ("igemm.cu", include_str!("../../../kernels/igemm.cu")),
    ("resident.cu", include_str!("../../../kernels/resident.cu")),
    ("fc_mma.cu", include_str!("../../../kernels/fc_mma.cu")),
    (
        "calibrate.cu",
        include_str!("../../../kernels/calibrate.cu"),
    ),
];

/// A program of one kernel of `shallow.cu`, specialized by its last line (see [`shallow`]).
const SHALLOW: [(&str, &str); 3] = [
    ("common.cu", SOURCES[0].1),
    ("conv_args.cu", SOURCES[1].1),
    ("shallow.cu", include_str!("../../../kernels/shallow.cu")),
];

/// The program of one network's `chain.cu` kernels, specialized by its generated tail
/// (plan/chain.rs).
const CHAIN: [(&str, &str); 2] = [
    ("common.cu", SOURCES[0].1),
    ("chain.cu", include_str!("../../../kernels/chain.cu")),
];

fn source(files: &[(&str, &str)], tail: &str) -> String {
    let mut s = String::new();
    for (name, text) in files {
        s.push_str(&format!("// ---- kernels/{name}\n"));
        s.push_str(text);
        s.push('\n');
    }
    s.push_str(tail);
    s
}

/// The line that makes `shallow.cu`'s kernel `name`, as plan.rs names it: `CONV_T(..)` for
/// `conv_{f|q}_{input}_{output}_t{size}{window}`, `CONV_M(..)` for the tensor-core variant's
/// `conv_{f|q}_{input}_{output}_m{window}n{n8 tiles}k{steps}`; None for other names.
pub fn shallow(name: &str) -> Option<String> {
    let mut parts = name.strip_prefix("conv_")?.split('_');
    let (q, ti, to, shape) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let int8 = match q {
        "f" => "false",
        "q" => "true",
        _ => return None,
    };
    let storage = |t: &str| match t {
        "f32" => Some("F32"),
        "f32r" => Some("F32R"),
        "f16" => Some("F16"),
        "i8" => Some("I8"),
        _ => None,
    };
    let types = format!(
        "conv_{q}_{ti}_{to}, {}, {}, {int8}",
        storage(ti)?,
        storage(to)?
    );
    // One decimal digit within `range`.
    let digit = |s: &str, range: std::ops::RangeInclusive<u32>| {
        s.parse::<u32>()
            .ok()
            .filter(|d| s.len() == 1 && range.contains(d))
    };
    let window = |s: &str| digit(s, 1..=2);
    if let Some(t) = shape.strip_prefix('t') {
        let (size, w) = t.split_at_checked(1)?;
        let size = digit(size, 3..=5).filter(|&s| s != 4)?;
        return Some(format!("CONV_T({types}, {size}, {})\n", window(w)?));
    }
    let (w, tiles) = shape.strip_prefix('m')?.split_once('n')?;
    let (nt, ks) = tiles.split_once('k')?;
    let (w, nt, ks) = (window(w)?, digit(nt, 1..=4)?, digit(ks, 1..=8)?);
    Some(format!("CONV_M({types}, {w}, {nt}, {ks})\n"))
}

/// FNV-1a: stable across Rust releases, unlike std's hasher, so cache names stay valid.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("INFER8_KERNEL_CACHE").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("infer8"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/infer8"))
}

fn nvrtc_version() -> Result<(i32, i32), String> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: two out-parameters.
    unsafe { nvrtc_sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| format!("nvrtcVersion: {e:?}"))?;
    Ok((major, minor))
}

/// The CUBIN of the main program for `arch`, from the cache or freshly compiled.
pub fn cubin(arch: (i32, i32)) -> Result<Vec<u8>, String> {
    cached(&source(&SOURCES, ""), arch)
}

/// The CUBIN of the program of one shallow kernel (`CONV_T` line from [`shallow`]).
pub fn shallow_cubin(line: &str, arch: (i32, i32)) -> Result<Vec<u8>, String> {
    cached(&source(&SHALLOW, line), arch)
}

/// The CUBIN of a network's chain.cu kernels, specialized by `tail`.
pub fn chain_cubin(tail: &str, arch: (i32, i32)) -> Result<Vec<u8>, String> {
    cached(&source(&CHAIN, tail), arch)
}

fn cached(src: &str, arch: (i32, i32)) -> Result<Vec<u8>, String> {
    let (major, minor) = nvrtc_version()?;
    let name = format!(
        "kernels-{:016x}-sm{}{}-nvrtc{major}.{minor}.cubin",
        fnv1a(src.as_bytes()),
        arch.0,
        arch.1
    );
    let path = cache_dir().map(|d| d.join(&name));
    if let Some(bytes) = path
        .as_ref()
        .and_then(|p| std::fs::read(p).ok())
        .filter(|b| !b.is_empty())
    {
        return Ok(bytes);
    }
    let bin = compile(src, arch)?;
    if let Some(p) = path {
        // Write then rename, so a concurrent process never loads half a file.
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        let stored = p.parent().map(std::fs::create_dir_all).transpose().is_ok()
            && std::fs::write(&tmp, &bin).is_ok()
            && std::fs::rename(&tmp, &p).is_ok();
        if !stored {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(bin)
}

fn compile(src: &str, arch: (i32, i32)) -> Result<Vec<u8>, String> {
    let csrc = CString::new(src).map_err(|_| "kernel source contains a NUL byte".to_string())?;
    let prog = nvrtc::create_program(&csrc, Some(c"infer8.cu"))
        .map_err(|e| format!("nvrtcCreateProgram: {e:?}"))?;
    let opts = [
        format!("--gpu-architecture=sm_{}{}", arch.0, arch.1),
        "--std=c++17".to_string(),
        // FP32 must match the CPU to 1e-5: IEEE division and square root, no flush to zero.
        "--fmad=true".to_string(),
        "--prec-div=true".to_string(),
        "--prec-sqrt=true".to_string(),
        "--ftz=false".to_string(),
    ];
    // SAFETY: `prog` is live until destroyed below; the out-buffers are sized by NVRTC.
    unsafe {
        let compiled = nvrtc::compile_program(prog, &opts);
        let log = nvrtc::get_program_log(prog)
            .map(|l| c_chars_to_string(&l))
            .unwrap_or_default();
        let result = compiled
            .map_err(|e| format!("NVRTC failed ({e:?}) for sm_{}{}:\n{log}", arch.0, arch.1))
            .and_then(|()| {
                let mut size = 0usize;
                nvrtc_sys::nvrtcGetCUBINSize(prog, &mut size)
                    .result()
                    .map_err(|e| format!("nvrtcGetCUBINSize: {e:?}"))?;
                let mut bin = vec![0u8; size];
                nvrtc_sys::nvrtcGetCUBIN(prog, bin.as_mut_ptr() as *mut c_char)
                    .result()
                    .map_err(|e| format!("nvrtcGetCUBIN: {e:?}"))?;
                Ok(bin)
            });
        let _ = nvrtc::destroy_program(prog);
        result
    }
}

fn c_chars_to_string(chars: &[c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::shallow;

    #[test]
    fn shallow_kernel_names_map_to_their_specialization() {
        assert_eq!(
            shallow("conv_q_f32_i8_t52").as_deref(),
            Some("CONV_T(conv_q_f32_i8, F32, I8, true, 5, 2)\n")
        );
        assert_eq!(
            shallow("conv_f_f16_f16_t31").as_deref(),
            Some("CONV_T(conv_f_f16_f16, F16, F16, false, 3, 1)\n")
        );
        assert_eq!(
            shallow("conv_f_f32r_f16_t52").as_deref(),
            Some("CONV_T(conv_f_f32r_f16, F32R, F16, false, 5, 2)\n")
        );
        assert_eq!(
            shallow("conv_q_f32_i8_m2n3k2").as_deref(),
            Some("CONV_M(conv_q_f32_i8, F32, I8, true, 2, 3, 2)\n")
        );
        assert_eq!(
            shallow("conv_f_f16_f16_m1n4k6").as_deref(),
            Some("CONV_M(conv_f_f16_f16, F16, F16, false, 1, 4, 6)\n")
        );
        for other in [
            "conv_f_f32_f32",
            "conv_f_f32_f32_s",
            "conv_f_f32_f32_t53",
            "conv_x_f32_f32_t52",
            "conv_f_f32_f64_t52",
            "igemm_f128x56_f32_f32",
            "conv_q_f32_i8_m2n5k2",
            "conv_q_f32_i8_m2n3",
            "conv_q_f32_i8_m3n3k2",
            "conv_f_f32r_f32h_m1n1k6",
            "conv_f_f32_f32_t4",
        ] {
            assert_eq!(shallow(other), None, "{other}");
        }
    }
}
