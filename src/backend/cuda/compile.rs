//! Kernel compilation: the `kernels/*.cu` sources (embedded) are compiled by NVRTC for the GPU's
//! architecture at first use and the CUBIN is cached on disk, keyed by source hash, architecture
//! and NVRTC version. Cache folder: `INFER8_KERNEL_CACHE`, else `$XDG_CACHE_HOME/infer8`, else
//! `~/.cache/infer8`. A cache that cannot be read or written only costs a compilation.

use std::ffi::{CString, c_char};
use std::path::PathBuf;

use cudarc::nvrtc::{result as nvrtc, sys as nvrtc_sys};

/// One NVRTC program: `common.cu` first (types and helpers), then the kernels.
const SOURCES: [(&str, &str); 10] = [
    ("common.cu", include_str!("../../../kernels/common.cu")),
    ("conv.cu", include_str!("../../../kernels/conv.cu")),
    ("fc.cu", include_str!("../../../kernels/fc.cu")),
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
];

fn source() -> String {
    let mut s = String::new();
    for (name, text) in SOURCES {
        s.push_str(&format!("// ---- kernels/{name}\n"));
        s.push_str(text);
        s.push('\n');
    }
    s
}

/// FNV-1a: stable across Rust releases, unlike std's hasher, so cache names stay valid.
fn fnv1a(bytes: &[u8]) -> u64 {
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

/// The CUBIN of all kernels for `arch`, from the cache or freshly compiled.
pub fn cubin(arch: (i32, i32)) -> Result<Vec<u8>, String> {
    let src = source();
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
    let bin = compile(&src, arch)?;
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
